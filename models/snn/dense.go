package snn

import (
	"fmt"
	"math"

	"github.com/spikeloop/spikeloop/models/npy"
)

// Dense is a trained all-to-all weight matrix from pre units to post
// units, stored pre x post row-major as numpy.save writes it: row i holds
// the weights of presynaptic unit i. It turns one step of presynaptic
// output into the summed input of the postsynaptic layer.
//
// The work is event-driven: only the rows of presynaptic units whose
// output is non-zero are visited, so a binary spike vector at 5% density
// costs 5% of a dense product; a real-valued dense input costs the full
// product. Zeros in the matrix are ordinary weights here (a network file
// that means "no connection" by a zero gives the same sums).
//
// Library API: the daemon and the CLI build connections through models
// (a network file's `weight: {npy: ...}`), not Dense; Go programs that
// drive snn layers themselves use it to feed one layer into the next
// (TestDenseMatchesNaive checks it, BenchmarkSNNLayer drives it).
type Dense struct {
	pre, post int
	w         []float32
}

// NewDense wraps a pre x post row-major matrix; w is used, not copied.
func NewDense(pre, post int, w []float32) (*Dense, error) {
	if pre < 1 || post < 1 || len(w) != pre*post {
		return nil, fmt.Errorf("snn: dense weights: %d values for a %d x %d matrix", len(w), pre, post)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("snn: dense weights: entry (%d, %d) is %g", i/post, i%post, v)
		}
	}
	return &Dense{pre: pre, post: post, w: w}, nil
}

// LoadDense reads a pre x post matrix saved with numpy.save (float32 or
// float64) and wraps it.
func LoadDense(path string, pre, post int) (*Dense, error) {
	w, err := npy.ReadMatrix(path, pre, post)
	if err != nil {
		return nil, fmt.Errorf("snn: loading weights: %w", err)
	}
	d, err := NewDense(pre, post, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Pre is the number of presynaptic units (rows).
func (d *Dense) Pre() int { return d.pre }

// Post is the number of postsynaptic units (columns).
func (d *Dense) Post() int { return d.post }

// Weights returns the live row-major matrix (for training updates).
func (d *Dense) Weights() []float32 { return d.w }

func (d *Dense) check(x, out []float32) error {
	if len(x) != d.pre || len(out) != d.post {
		return fmt.Errorf("%w: dense %d x %d got %d inputs and %d outputs", ErrShape, d.pre, d.post, len(x), len(out))
	}
	return nil
}

// Apply sets out = x·W: out[j] = Σ_i x[i]·W[i][j]. It does not allocate.
func (d *Dense) Apply(x, out []float32) error {
	if err := d.check(x, out); err != nil {
		return err
	}
	clear(out)
	d.add(x, out)
	return nil
}

// Add adds x·W to out, for a layer fed by several synapse groups.
func (d *Dense) Add(x, out []float32) error {
	if err := d.check(x, out); err != nil {
		return err
	}
	d.add(x, out)
	return nil
}

// AddEvents adds the rows of the presynaptic units listed in spiked
// (each a spike of amplitude 1) to out: the engine's spike lists.
func (d *Dense) AddEvents(spiked []int32, out []float32) error {
	if len(out) != d.post {
		return fmt.Errorf("%w: dense %d x %d got %d outputs", ErrShape, d.pre, d.post, len(out))
	}
	for _, i := range spiked {
		if i < 0 || int(i) >= d.pre {
			return fmt.Errorf("%w: dense %d x %d: spike of unit %d", ErrShape, d.pre, d.post, i)
		}
		addRow(out, d.w[int(i)*d.post:(int(i)+1)*d.post])
	}
	return nil
}

// add visits the rows of non-zero inputs. Rows are taken four at a time
// so that each pass over out does four rows' work: out is loaded and
// stored once per four rows, which roughly halves the time of a dense
// product. Spikes (x = 1) skip the multiplication.
func (d *Dense) add(x, out []float32) {
	post := d.post
	var rows [4]int
	var scale [4]float32
	n := 0
	binary := true
	flush := func() {
		switch n {
		case 4:
			if binary {
				add4(out, d.w[rows[0]*post:], d.w[rows[1]*post:], d.w[rows[2]*post:], d.w[rows[3]*post:])
			} else {
				axpy4(out, scale, d.w[rows[0]*post:], d.w[rows[1]*post:], d.w[rows[2]*post:], d.w[rows[3]*post:])
			}
		default:
			for k := range n {
				row := d.w[rows[k]*post : (rows[k]+1)*post]
				if scale[k] == 1 {
					addRow(out, row)
				} else {
					axpy(out, scale[k], row)
				}
			}
		}
		n, binary = 0, true
	}
	for i, xi := range x {
		if xi == 0 {
			continue
		}
		rows[n], scale[n] = i, xi
		binary = binary && xi == 1
		n++
		if n == 4 {
			flush()
		}
	}
	flush()
}

func addRow(out, row []float32) {
	row = row[:len(out)]
	for j := range out {
		out[j] += row[j]
	}
}

func axpy(out []float32, a float32, row []float32) {
	row = row[:len(out)]
	for j := range out {
		out[j] += a * row[j]
	}
}

func add4(out, r0, r1, r2, r3 []float32) {
	n := len(out)
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	for j := range out {
		out[j] += r0[j] + r1[j] + r2[j] + r3[j]
	}
}

func axpy4(out []float32, a [4]float32, r0, r1, r2, r3 []float32) {
	n := len(out)
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	for j := range out {
		out[j] += a[0]*r0[j] + a[1]*r1[j] + a[2]*r2[j] + a[3]*r3[j]
	}
}
