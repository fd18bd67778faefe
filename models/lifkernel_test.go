package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// loadPop loads a one-population network and returns its model.
func loadPop(t testing.TB, model string, size int, params string) NeuronModel {
	t.Helper()
	src := fmt.Sprintf("version: 1\ndt: 0.1\nduration: 10.0\npopulations:\n  p: {model: %s, size: %d, params: %s}\n", model, size, params)
	net, err := Load([]byte(src), "kernel.yaml", NewRegistry(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return net.Populations[0].Model.(NeuronModel)
}

// refLIF is docs/models/lif.md written as the plain branchy loop, the form the
// block kernel replaced, with the kernel's order of operations: V*P33 +
// (V_rest*(1 - P33) + P30*I) + W_0, so that the two agree bit for bit.
// (The NEST references check that order against NEST at 1e-6 mV.)
func refLIF(n *LIF, v []float64, ref []int32, iext, w0 []float64) (spiked []int32) {
	for i := range v {
		if ref[i] == 0 {
			in := n.ie[i]
			if iext != nil {
				in += iext[i]
			}
			nv := float64(v[i]*n.p33) + (n.k + float64(n.p30*in))
			if w0 != nil {
				nv += w0[i]
			}
			v[i] = nv
		} else {
			ref[i]--
		}
		if v[i] >= n.vTh {
			v[i] = n.afterSpike(v[i])
			ref[i] = n.refSteps
			spiked = append(spiked, int32(i))
		}
	}
	return spiked
}

// TestLIFKernelMatchesBranchy runs the block kernel and the branchy loop
// side by side, bit for bit, over sizes that end inside a block, with and
// without refractoriness, per-neuron I_e, current and spike input, and
// random initial V (so refractory and spiking neurons are interleaved).
func TestLIFKernelMatchesBranchy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 1023, 2500} {
		for _, tauRef := range []string{"2.0", "0.0", "null", "0.35", "2.0, V_reset: null"} {
			for _, ie := range []string{"376.0", "[" + ramp(size, 370, 380) + "]"} {
				name := fmt.Sprintf("n%d_ref%s_ie%d", size, tauRef, len(ie))
				t.Run(name, func(t *testing.T) {
					n := loadPop(t, "LIF", size, fmt.Sprintf("{tau_ref: %s, I_e: %s}", tauRef, ie)).(*LIF)
					for i := range n.v {
						n.v[i] = -70 + 16*rng.Float64()
						if size == 2500 && i < 1200 {
							// The first block's neurons near rest: no
							// spike and no refractory neuron in it for
							// many steps, so Step takes the kernel's
							// path for a block without refractory
							// neurons beside the other blocks' path.
							n.v[i] = -70 + rng.Float64()
						}
					}
					v, ref := slices.Clone(n.v), slices.Clone(n.ref)
					iext, w0 := make([]float64, size), make([]float64, size)
					total := 0
					for step := range 400 {
						// Inputs present in some steps only, as the engine
						// passes nil for a ring slot nothing reached.
						var ix, w []float64
						if step%3 == 1 {
							for i := range iext {
								iext[i] = 20 * rng.NormFloat64()
							}
							ix = iext
						}
						if step%5 >= 3 {
							for i := range w0 {
								w0[i] = rng.NormFloat64()
								if rng.IntN(50) == 0 {
									w0[i] = 40 // above 2 V_th - V_rest from rest
								}
							}
							w = w0
						}
						want := refLIF(n, v, ref, ix, w)
						got, err := n.Step(ix, [][]float64{w}, nil)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(got, want) {
							t.Fatalf("step %d: spikes %v, want %v", step, got, want)
						}
						for i := range v {
							if math.Float64bits(n.v[i]) != math.Float64bits(v[i]) || n.ref[i] != ref[i] {
								t.Fatalf("step %d neuron %d: V %v ref %d, want %v %d", step, i, n.v[i], n.ref[i], v[i], ref[i])
							}
						}
						total += len(got)
					}
					if total == 0 {
						t.Fatal("no neuron spiked: the test exercises nothing")
					}
				})
			}
		}
	}
}

func ramp(n int, lo, hi float64) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(lo + (hi-lo)*float64(i)/float64(n))
	}
	return s
}

// refExpLIF is docs/models/lif.md for two ports as the branchy loop.
func refExpLIF(n *ExpLIF, v []float64, ref []int32, isyn [][]float64, iext []float64, w [][]float64) (spiked []int32) {
	for i := range v {
		in := n.ie[i]
		if iext != nil {
			in += iext[i]
		}
		if ref[i] == 0 {
			v[i] = n.vRest + float64((v[i]-n.vRest)*n.p22) + float64(n.p21[0]*isyn[0][i]) + float64(n.p21[1]*isyn[1][i]) + float64(n.p20*in)
		} else {
			ref[i]--
		}
		for r := range isyn {
			isyn[r][i] = float64(isyn[r][i] * n.p11[r])
			if w[r] != nil {
				isyn[r][i] += w[r][i]
			}
		}
		if v[i] >= n.vTh {
			v[i] = n.vReset
			ref[i] = n.refSteps
			spiked = append(spiked, int32(i))
		}
	}
	return spiked
}

// TestExpLIFKernelMatchesBranchy: ExpLIF's fused two-port step against
// docs/models/lif.md written plainly, bit for bit, as TestLIFKernelMatchesBranchy.
func TestExpLIFKernelMatchesBranchy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 1023, 2500} {
		for _, tauRef := range []string{"2.0", "null"} {
			for _, ie := range []string{"376.0", "[" + ramp(size, 370, 380) + "]"} {
				t.Run(fmt.Sprintf("n%d_ref%s_ie%d", size, tauRef, len(ie)), func(t *testing.T) {
					n := loadPop(t, "ExpLIF", size, fmt.Sprintf("{tau_ref: %s, I_e: %s, tau_syn: [2.0, 5.0]}", tauRef, ie)).(*ExpLIF)
					for i := range n.v {
						n.v[i] = -70 + 16*rng.Float64()
					}
					v, ref := slices.Clone(n.v), slices.Clone(n.ref)
					isyn := [][]float64{slices.Clone(n.isyn[0]), slices.Clone(n.isyn[1])}
					iext := make([]float64, size)
					w := [][]float64{make([]float64, size), make([]float64, size)}
					total := 0
					for step := range 400 {
						var ix []float64
						if step%3 == 1 {
							for i := range iext {
								iext[i] = 20 * rng.NormFloat64()
							}
							ix = iext
						}
						wr := make([][]float64, 2)
						for r := range wr {
							if (step+r)%4 >= 2 {
								for i := range w[r] {
									w[r][i] = 30 * rng.NormFloat64()
								}
								wr[r] = w[r]
							}
						}
						want := refExpLIF(n, v, ref, isyn, ix, wr)
						got, err := n.Step(ix, wr, nil)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(got, want) {
							t.Fatalf("step %d: spikes %v, want %v", step, got, want)
						}
						for i := range v {
							if math.Float64bits(n.v[i]) != math.Float64bits(v[i]) || n.ref[i] != ref[i] ||
								n.isyn[0][i] != isyn[0][i] || n.isyn[1][i] != isyn[1][i] {
								t.Fatalf("step %d neuron %d: V %v ref %d I_syn %v %v, want %v %d %v %v", step, i, n.v[i], n.ref[i], n.isyn[0][i], n.isyn[1][i], v[i], ref[i], isyn[0][i], isyn[1][i])
							}
						}
						total += len(got)
					}
					if total == 0 {
						t.Fatal("no neuron spiked: the test exercises nothing")
					}
				})
			}
		}
	}
}

// TestStepRangeMatchesStep: stepping [0, cut) and [cut, n) with StepRange
// gives Step's states and spikes bit for bit, for LIF and for ExpLIF with
// two ports (the fused step) and three (the general loop).
func TestStepRangeMatchesStep(t *testing.T) {
	const size = 3000
	for _, c := range []struct{ model, params string }{
		{"LIF", "{I_e: 376.0}"},
		{"ExpLIF", "{I_e: 380.0, tau_syn: [2.0, 5.0]}"},
		{"ExpLIF", "{I_e: 380.0, tau_syn: [2.0, 5.0, 8.0]}"},
	} {
		a := loadPop(t, c.model, size, c.params).(RangeStepper)
		b := loadPop(t, c.model, size, c.params).(RangeStepper)
		if !a.Splittable() {
			t.Fatalf("%s: not splittable with EXP_EULER", c.model)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		va, vb := a.State("V"), b.State("V")
		for i := range va {
			va[i] = -70 + 15*rng.Float64()
			vb[i] = va[i]
		}
		w := make([][]float64, a.Ports())
		for r := range w {
			w[r] = make([]float64, size)
		}
		iext := make([]float64, size)
		total := 0
		for step := range 300 {
			for r := range w {
				for i := range w[r] {
					w[r][i] = 20 * rng.NormFloat64()
				}
			}
			for i := range iext {
				iext[i] = 30 * rng.NormFloat64()
			}
			want, err := a.Step(iext, w, nil)
			if err != nil {
				t.Fatal(err)
			}
			cut := 1 + rng.IntN(size-1)
			got, err := b.StepRange(0, cut, iext, w, nil)
			if err == nil {
				got, err = b.StepRange(cut, size, iext, w, got)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s %s step %d: spikes %v split at %d, %v whole", c.model, c.params, step, got, cut, want)
			}
			for _, name := range a.StateNames() {
				if !slices.Equal(a.State(name), b.State(name)) {
					t.Fatalf("%s %s step %d: %s differs split at %d", c.model, c.params, step, name, cut)
				}
			}
			total += len(want)
		}
		if total == 0 {
			t.Fatalf("%s: no spikes", c.model)
		}
	}
}

// TestLIFRefMaxSplit checks LIF.refMax, the per-8-neuron bound that lets
// a block without refractory neurons skip the counters: Step, StepRange
// split at a random cut each step (a multiple of 8 as the engine's
// threads cut, or any neuron, which leaves a group cut in two), and the
// branchy loop give the same V, counters and spikes bit for bit, with no
// input (the kernel's path for such blocks) and with neurons whose
// phases put refractory neurons in some blocks and not in others.
func TestLIFRefMaxSplit(t *testing.T) {
	const size = 5000
	for _, anyCut := range []bool{false, true} {
		params := "{tau_ref: 2.0, I_e: 376.0}"
		a := loadPop(t, "LIF", size, params).(*LIF)
		b := loadPop(t, "LIF", size, params).(*LIF)
		for i := range a.v {
			// A ramp as in LIF100k: the neurons that spike in a step are
			// neighbours, and most blocks have no refractory neuron.
			a.v[i] = -70 + 15*float64(i)/size
		}
		copy(b.v, a.v)
		v, ref := slices.Clone(a.v), slices.Clone(a.ref)
		rng := rand.New(rand.NewPCG(7, 8))
		quietSteps, total := 0, 0
		for step := range 600 {
			want := refLIF(a, v, ref, nil, nil)
			if a.quiet(0, kernelBlock) {
				quietSteps++
			}
			got, err := a.Step(nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cut := 8 * rng.IntN(size/8)
			if anyCut {
				cut = rng.IntN(size)
			}
			split, err := b.StepRange(0, cut, nil, nil, nil)
			if err == nil {
				split, err = b.StepRange(cut, size, nil, nil, split)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) || !slices.Equal(split, want) {
				t.Fatalf("step %d: spikes %v, split at %d %v, want %v", step, got, cut, split, want)
			}
			for i := range v {
				if math.Float64bits(a.v[i]) != math.Float64bits(v[i]) || a.ref[i] != ref[i] ||
					math.Float64bits(b.v[i]) != math.Float64bits(v[i]) || b.ref[i] != ref[i] {
					t.Fatalf("step %d neuron %d: V %v %v ref %d %d, want %v %d", step, i, a.v[i], b.v[i], a.ref[i], b.ref[i], v[i], ref[i])
				}
			}
			for g, m := range a.refMax {
				if hi := slices.Max(a.ref[g*refGroup : min(g*refGroup+refGroup, size)]); m != hi {
					t.Fatalf("step %d: refMax[%d] = %d, want %d (Step cuts no group)", step, g, m, hi)
				}
			}
			total += len(want)
		}
		if total == 0 || quietSteps == 0 || quietSteps == 600 {
			t.Fatalf("%d spikes, first block quiet in %d of 600 steps: the test exercises too little", total, quietSteps)
		}
	}
}
