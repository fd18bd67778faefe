package snn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/spikeloop/spikeloop/models/npy"
)

// benchNet is the benchmark network: 700 inputs -> 256 SNNLIF ->
// 20 SNNLIF (tau 2, hard reset), weights loaded from .npy files.
type benchNet struct {
	w1, w2   *Dense
	l1, l2   *Layer
	in1, in2 []float32 // summed input of each layer
	s1, s2   []float32 // spikes
	inputs   [][]float32
}

const (
	benchIn, benchHidden, benchOut = 700, 256, 20
	benchSteps                     = 100
)

func newBenchNet(tb testing.TB, dir string, density float64, dense bool) *benchNet {
	tb.Helper()
	rng := rand.New(rand.NewPCG(42, 7))
	save := func(name string, pre, post int, std float64) *Dense {
		w := make([]float32, pre*post)
		for i := range w {
			w[i] = float32(std * rng.NormFloat64())
		}
		path := filepath.Join(dir, name)
		if err := npy.WriteFile(path, []int{pre, post}, w); err != nil {
			tb.Fatal(err)
		}
		d, err := LoadDense(path, pre, post)
		if err != nil {
			tb.Fatal(err)
		}
		return d
	}
	n := &benchNet{
		w1: save("w1.npy", benchIn, benchHidden, 1.0),
		w2: save("w2.npy", benchHidden, benchOut, 0.5),
	}
	var err error
	lif := map[string]any{"tau": 2.0, "reset_type": "HARD", "V_reset": 0.0}
	if n.l1, err = New("SNNLIF", benchHidden, lif); err != nil {
		tb.Fatal(err)
	}
	if n.l2, err = New("SNNLIF", benchOut, lif); err != nil {
		tb.Fatal(err)
	}
	n.in1, n.s1 = make([]float32, benchHidden), make([]float32, benchHidden)
	n.in2, n.s2 = make([]float32, benchOut), make([]float32, benchOut)
	n.inputs = matrix(benchSteps, benchIn)
	for _, row := range n.inputs {
		for i := range row {
			switch {
			case dense:
				row[i] = float32(rng.Float64() * 0.1)
			case rng.Float64() < density:
				row[i] = 1
			}
		}
	}
	return n
}

// step is one network step: what the engine does per step for this net.
func (n *benchNet) step(t int) {
	_ = n.w1.Apply(n.inputs[t], n.in1)
	_ = n.l1.Step(n.in1, n.s1, nil)
	_ = n.w2.Apply(n.s1, n.in2)
	_ = n.l2.Step(n.in2, n.s2, nil)
}

func (n *benchNet) run() {
	n.l1.Reset()
	n.l2.Reset()
	for t := range benchSteps {
		n.step(t)
	}
}

// BenchmarkSNNLayer times one step of the 700 -> 256 -> 20 SNNLIF network
// at batch 1, with 5% binary input spikes and with dense real input.
func BenchmarkSNNLayer(b *testing.B) {
	for _, c := range []struct {
		name  string
		dense bool
	}{{"spikes5pct", false}, {"dense", true}} {
		b.Run(c.name, func(b *testing.B) {
			n := newBenchNet(b, b.TempDir(), 0.05, c.dense)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				n.run()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*benchSteps), "us/step")
		})
	}
}

// TestNetworkStepDoesNotAllocate: the engine calls Step once per step, so a
// step of the benchmark network (weights and both layers) must not allocate.
func TestNetworkStepDoesNotAllocate(t *testing.T) {
	for _, dense := range []bool{false, true} {
		n := newBenchNet(t, t.TempDir(), 0.05, dense)
		step := 0
		allocs := testing.AllocsPerRun(200, func() {
			n.step(step % benchSteps)
			step++
		})
		if allocs != 0 {
			t.Errorf("dense=%v: %g allocations per network step, want 0", dense, allocs)
		}
	}
}

// TestBenchNetIsActive guards the benchmark against measuring a silent
// network: the hidden layer must spike at a plausible rate.
func TestBenchNetIsActive(t *testing.T) {
	for _, dense := range []bool{false, true} {
		n := newBenchNet(t, t.TempDir(), 0.05, dense)
		n.l1.Reset()
		n.l2.Reset()
		spikes1, spikes2 := 0.0, 0.0
		for t := range benchSteps {
			n.step(t)
			for _, s := range n.s1 {
				spikes1 += float64(s)
			}
			for _, s := range n.s2 {
				spikes2 += float64(s)
			}
		}
		rate := spikes1 / (benchSteps * benchHidden)
		if rate < 0.01 || rate > 0.5 || spikes2 == 0 {
			t.Errorf("dense=%v: hidden rate %.3f, output spikes %g: the benchmark network is not in a working regime", dense, rate, spikes2)
		}
	}
}

// TestStepDoesNotAllocate covers every class, with the membrane recorded.
func TestStepDoesNotAllocate(t *testing.T) {
	for _, c := range Classes() {
		params := map[string]any{}
		if c.Name == "SNNALIF" {
			params["tau_shape"] = []any{4.0}
		}
		l, err := New(c.Name, 8, params)
		if err != nil {
			t.Fatal(err)
		}
		x, s, v := make([]float32, 8), make([]float32, 8), make([]float32, 8)
		for i := range x {
			x[i] = float32(i) * 0.3
		}
		if allocs := testing.AllocsPerRun(100, func() { _ = l.Step(x, s, v) }); allocs != 0 {
			t.Errorf("%s: Step allocates %g times", c.Name, allocs)
		}
	}
}

// TestDenseMatchesNaive compares the event-driven product with the
// textbook sum for binary, real and mixed inputs.
func TestDenseMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const pre, post = 37, 11
	w := make([]float32, pre*post)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	d, err := NewDense(pre, post, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"spikes", "real", "mixed", "zero"} {
		x := make([]float32, pre)
		for i := range x {
			switch {
			case kind == "spikes" && rng.Float64() < 0.2:
				x[i] = 1
			case kind == "real":
				x[i] = float32(rng.NormFloat64())
			case kind == "mixed" && rng.Float64() < 0.5:
				x[i] = float32(rng.IntN(3))
			}
		}
		out := make([]float32, post)
		for j := range out {
			out[j] = 99 // Apply must overwrite
		}
		if err := d.Apply(x, out); err != nil {
			t.Fatal(err)
		}
		var events []int32
		for i, xi := range x {
			if xi == 1 {
				events = append(events, int32(i))
			}
		}
		ev := make([]float32, post)
		if err := d.AddEvents(events, ev); err != nil {
			t.Fatal(err)
		}
		for j := range post {
			var want, wantEv float64
			for i := range pre {
				want += float64(x[i]) * float64(w[i*post+j])
				if x[i] == 1 {
					wantEv += float64(w[i*post+j])
				}
			}
			if math.Abs(float64(out[j])-want) > 1e-4 {
				t.Errorf("%s: out[%d] = %g, want %g", kind, j, out[j], want)
			}
			if kind == "spikes" && math.Abs(float64(ev[j])-wantEv) > 1e-4 {
				t.Errorf("AddEvents: out[%d] = %g, want %g", j, ev[j], wantEv)
			}
		}
	}
	if err := d.Apply(make([]float32, pre+1), make([]float32, post)); err == nil {
		t.Error("Apply accepted the wrong input length")
	}
	if err := d.AddEvents([]int32{pre}, make([]float32, post)); err == nil {
		t.Error("AddEvents accepted an out-of-range unit")
	}
	if _, err := NewDense(2, 2, []float32{1, 2, 3}); err == nil {
		t.Error("NewDense accepted 3 values for 2 x 2")
	}
}

// BenchmarkStep times one Step of a 256-element layer of every class.
func BenchmarkStep(b *testing.B) {
	for _, c := range Classes() {
		b.Run(c.Name, func(b *testing.B) {
			params := map[string]any{}
			if c.Name == "SNNALIF" {
				params["tau_shape"] = []any{256}
			}
			l, err := New(c.Name, 256, params)
			if err != nil {
				b.Fatal(err)
			}
			x, s := make([]float32, 256), make([]float32, 256)
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range x {
				x[i] = float32(rng.Float64())
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = l.Step(x, s, nil)
			}
		})
	}
}

// BenchmarkStepCharged is BenchmarkStep for the step the engine takes
// (StepCharged, which also records v_before_reset); compare the two in
// one run to see what the recording costs.
func BenchmarkStepCharged(b *testing.B) {
	for _, c := range Classes() {
		b.Run(c.Name, func(b *testing.B) {
			params := map[string]any{}
			if c.Name == "SNNALIF" {
				params["tau_shape"] = []any{256}
			}
			l, err := New(c.Name, 256, params)
			if err != nil {
				b.Fatal(err)
			}
			x, s, h := make([]float32, 256), make([]float32, 256), make([]float32, 256)
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range x {
				x[i] = float32(rng.Float64())
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = l.StepCharged(x, s, h)
			}
		})
	}
}
