package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// stepPieces steps n over [0, cuts[0]), [cuts[0], cuts[1]), ... [.., size)
// with StepRange, each piece on a goroutine of its own at the same time
// (as the engine's threads do), and returns the spikes in piece order and
// the error of the lowest piece that failed.
func stepPieces(n *HH, cuts []int, iext []float64, w [][]float64) ([]int32, error) {
	bounds := append(append([]int{0}, cuts...), n.Size())
	spk := make([][]int32, len(bounds)-1)
	errs := make([]error, len(bounds)-1)
	var wg sync.WaitGroup
	for p := range spk {
		wg.Go(func() {
			spk[p], errs[p] = n.StepRange(bounds[p], bounds[p+1], iext, w, nil)
		})
	}
	wg.Wait()
	var all []int32
	for p := range spk {
		if errs[p] != nil {
			return all, errs[p]
		}
		all = append(all, spk[p]...)
	}
	return all, nil
}

// randomCuts returns 1 to 3 distinct cut points in 1..size-1, ascending,
// mostly not multiples of odeBlock: StepRange's blocks then start at
// other neurons than Step's.
func randomCuts(rng *rand.Rand, size int) []int {
	var cuts []int
	for range 1 + rng.IntN(3) {
		c := 1 + rng.IntN(size-1)
		if !slices.Contains(cuts, c) {
			cuts = append(cuts, c)
		}
	}
	slices.Sort(cuts)
	return cuts
}

// HH and HHPSC with RKF45 step in ranges (RangeStepper), concurrently,
// with Step's states, carried step sizes and spikes bit for bit, for
// ranges cut anywhere, with current input and spike input of both signs
// to some of the HHPSC neurons (so that its blocks hold lanes with all
// eight components and lanes with V, m, h, n alone, and neurons move from
// the latter to the former).
func TestHHStepRangeMatchesStep(t *testing.T) {
	const size = 203
	for _, model := range []string{"HH", "HHPSC"} {
		ie := make([]string, size)
		for i := range ie {
			ie[i] = fmt.Sprint(500 + 800*float64(i*37%size)/size)
		}
		params := "tau_ref: 2.0, I_e: [" + strings.Join(ie, ", ") + "]"
		a := bioNeuron(t, 0.1, model, size, params).(*HH)
		b := bioNeuron(t, 0.1, model, size, params).(*HH)
		if !a.Splittable() {
			t.Fatalf("%s: not splittable with RKF45", model)
		}
		rng := rand.New(rand.NewPCG(7, 8))
		iext := make([]float64, size)
		w := [][]float64{make([]float64, size), make([]float64, size)}
		total, fullLanes, coreLanes := 0, 0, 0
		for k := range 3000 {
			for i := range iext {
				iext[i] = 40 * rng.NormFloat64()
			}
			for r := range w {
				clear(w[r])
			}
			if k%50 == 10 {
				// Spike input to a growing share of the neurons.
				for range 3 + k/100 {
					i := rng.IntN(size)
					if model == "HH" {
						w[0][i] = 10 * rng.NormFloat64() // mV
					} else if rng.IntN(2) == 0 {
						w[0][i] = 400 * rng.Float64() // pA, excitatory
					} else {
						w[1][i] = -300 * rng.Float64()
					}
				}
			}
			if model == "HHPSC" {
				for i := range size {
					if a.zeroPSC(i) {
						coreLanes++
					} else {
						fullLanes++
					}
				}
			}
			want, err := a.Step(iext, w, nil)
			if err != nil {
				t.Fatal(err)
			}
			cuts := randomCuts(rng, size)
			got, err := stepPieces(b, cuts, iext, w)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s step %d: spikes %v cut at %v, %v whole", model, k, got, cuts, want)
			}
			for c := range a.y {
				for i := range a.y[c] {
					if math.Float64bits(a.y[c][i]) != math.Float64bits(b.y[c][i]) {
						t.Fatalf("%s step %d neuron %d: %s %.17g cut at %v, %.17g whole", model, k, i, hhNames[c], b.y[c][i], cuts, a.y[c][i])
					}
				}
			}
			if !slices.Equal(a.rkf.hi, b.rkf.hi) {
				t.Fatalf("%s step %d: carried step sizes differ cut at %v", model, k, cuts)
			}
			total += len(want)
		}
		if total < 10*size {
			t.Errorf("%s: only %d spikes", model, total)
		}
		if model == "HHPSC" && (fullLanes < size*300 || coreLanes < size*300) {
			t.Errorf("HHPSC: %d lane-steps with all components, %d with V, m, h, n alone: want many of both", fullLanes, coreLanes)
		}
		// At most one pair of kernels per piece that ran at once.
		if len(b.spare) > 4 {
			t.Errorf("%s: %d kernel pairs kept, want at most 4", model, len(b.spare))
		}
	}
}

// A non-finite state stops StepRange with Step's error: the lowest such
// neuron of the range, whose blocks start at other neurons than Step's.
func TestHHStepRangeStateError(t *testing.T) {
	const size = 100
	for _, model := range []string{"HH", "HHPSC"} {
		a := bioNeuron(t, 0.1, model, size, "I_e: 700.0").(*HH)
		b := bioNeuron(t, 0.1, model, size, "I_e: 700.0").(*HH)
		for _, m := range []*HH{a, b} {
			m.y[hhV][37] = math.NaN()
			m.y[hhM][45] = math.Inf(1)
			m.y[hhV][90] = math.NaN()
		}
		_, errWhole := a.Step(nil, nil, nil)
		_, errSplit := stepPieces(b, []int{20, 41, 60}, nil, nil)
		var ew, es *StateError
		if !errors.As(errWhole, &ew) || !errors.As(errSplit, &es) {
			t.Fatalf("%s: errors %v whole, %v split; want *StateError", model, errWhole, errSplit)
		}
		if ew.Neuron != 37 || es.Neuron != ew.Neuron || es.State != ew.State {
			t.Errorf("%s: split %v, whole %v; want neuron 37 both", model, es, ew)
		}
	}
}
