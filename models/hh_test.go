package models

// Tests of HH and HHPSC (docs/models/hh.md). Expected values follow from the
// spec's formulas, evaluated here independently (NEST's raw quotients).

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// nestRates are the rate functions as NEST's hh_psc_alpha writes them.
func nestRates(v float64) rates {
	return rates{
		am: (0.1 * (v + 40)) / (1 - math.Exp(-(v+40)/10)),
		bm: 4 * math.Exp(-(v+65)/18),
		ah: 0.07 * math.Exp(-(v+65)/20),
		bh: 1 / (1 + math.Exp(-(v+35)/10)),
		an: (0.01 * (v + 55)) / (1 - math.Exp(-(v+55)/10)),
		bn: 0.125 * math.Exp(-(v+65)/80),
	}
}

// fastRates are the rates hhRHS.core uses, read off its gate
// derivatives: alpha (1 - x) - beta x is exactly alpha at x = 0 and
// exactly -beta at x = 1.
func fastRates(v float64) (r rates) {
	var s hhRHS
	_, r.am, r.ah, r.an = s.core(0, v, 0, 0, 0)
	_, r.bm, r.bh, r.bn = s.core(0, v, 1, 1, 1)
	r.bm, r.bh, r.bn = -r.bm, -r.bh, -r.bn
	return r
}

// Away from the singular voltages both rate implementations equal NEST's
// quotients to ~1e-12; at them they take the limits, and they are
// continuous across.
func TestHHRates(t *testing.T) {
	relErr := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	for v := -150.0; v <= 100; v += 0.0137 {
		want := nestRates(v)
		for name, f := range map[string]func(float64) rates{"hhRates": hhRates, "core": fastRates} {
			got := f(v)
			// NEST's own quotient loses digits within ~0.1 mV of the
			// singular points; compare there against the limit instead.
			tolM, tolN := 1e-12, 1e-12
			if math.Abs(v+40) < 0.1 {
				tolM = 1e-9
			}
			if math.Abs(v+55) < 0.1 {
				tolN = 1e-9
			}
			for _, c := range []struct {
				rate      string
				got, want float64
				tol       float64
			}{{"alpha_m", got.am, want.am, tolM}, {"beta_m", got.bm, want.bm, 1e-12}, {"alpha_h", got.ah, want.ah, 1e-12},
				{"beta_h", got.bh, want.bh, 1e-12}, {"alpha_n", got.an, want.an, tolN}, {"beta_n", got.bn, want.bn, 1e-12}} {
				if relErr(c.got, c.want) > c.tol {
					t.Fatalf("%s: %s(%g) = %.17g, NEST %.17g", name, c.rate, v, c.got, c.want)
				}
			}
		}
	}
	for name, f := range map[string]func(float64) rates{"hhRates": hhRates, "core": fastRates} {
		if r := f(-40); r.am != 1 {
			t.Errorf("%s: alpha_m(-40) = %.17g, want the limit 1", name, r.am)
		}
		if r := f(-55); r.an != 0.1 {
			t.Errorf("%s: alpha_n(-55) = %.17g, want the limit 0.1", name, r.an)
		}
		for _, d := range []float64{1e-12, -1e-12, 1e-7, -1e-7} {
			if r := f(-40 + d); math.Abs(r.am-(1+d/20)) > 1e-12 {
				t.Errorf("%s: alpha_m(-40%+g) = %.17g, want %.17g", name, d, r.am, 1+d/20)
			}
			if r := f(-55 + d); math.Abs(r.an-0.1*(1+d/20)) > 1e-13 {
				t.Errorf("%s: alpha_n(-55%+g) = %.17g, want %.17g", name, d, r.an, 0.1*(1+d/20))
			}
		}
	}
}

// m, h, n start at their steady state at v_init, or at an `init` V; a gate
// given in `init` is kept.
func TestHHSteadyStateInit(t *testing.T) {
	n := bioNeuron(t, 0.1, "HH", 2, "v_init: [-65.0, -70.0]").(*HH)
	for i, v := range []float64{-65, -70} {
		r := nestRates(v)
		for _, g := range []struct {
			name      string
			got, want float64
		}{{"m", n.State("m")[i], r.am / (r.am + r.bm)}, {"h", n.State("h")[i], r.ah / (r.ah + r.bh)}, {"n", n.State("n")[i], r.an / (r.an + r.bn)}} {
			if !near(g.got, g.want, 8) {
				t.Errorf("V %g: %s = %.17g, want %.17g", v, g.name, g.got, g.want)
			}
		}
	}
	// NEST's initial gates at -65 mV.
	if m := n.State("m")[0]; math.Abs(m-0.052932485257249) > 1e-12 {
		t.Errorf("m(-65) = %.15g", m)
	}
	net, err := bioLoad(bioNetInit(0.1, "HHPSC", 1, "", "V: -60.0, h: 0.25"))
	if err != nil {
		t.Fatal(err)
	}
	h := net.Populations[0].Model.(*HH)
	r := nestRates(-60)
	if got, want := h.State("m")[0], r.am/(r.am+r.bm); !near(got, want, 8) {
		t.Errorf("init V -60: m = %.17g, want %.17g", got, want)
	}
	if got := h.State("h")[0]; got != 0.25 {
		t.Errorf("init h = %g, want 0.25 as given", got)
	}
}

// With tau_ref null the latch allows one spike per excursion above V_th,
// which for regular firing matches NEST's 2 ms dead time; with tau_ref 0
// every falling step above V_th counts.
func TestHHSpikeRule(t *testing.T) {
	_, nest := bioRun(t, bioNeuron(t, 0.1, "HH", 1, "I_e: 1000.0, tau_ref: 2.0"), "V", 2000)
	_, latch := bioRun(t, bioNeuron(t, 0.1, "HH", 1, "I_e: 1000.0"), "V", 2000)
	_, zero := bioRun(t, bioNeuron(t, 0.1, "HH", 1, "I_e: 1000.0, tau_ref: 0.0"), "V", 2000)
	if len(nest) < 10 {
		t.Fatalf("only %d spikes in 200 ms at 1000 pA", len(nest))
	}
	if len(latch) != len(nest) {
		t.Errorf("tau_ref null: %d spikes %v, tau_ref 2.0: %d spikes %v", len(latch), latch, len(nest), nest)
	}
	for k := range min(len(latch), len(nest)) {
		if latch[k] != nest[k] {
			t.Errorf("spike %d: tau_ref null at step %d, tau_ref 2.0 at step %d", k, latch[k], nest[k])
		}
	}
	if len(zero) <= len(nest) {
		t.Errorf("tau_ref 0: %d spikes, want more than the %d of tau_ref 2.0 (each falling step above 0 mV)", len(zero), len(nest))
	}
	// The spike is stamped one step past the peak: V at the stamp is at or
	// above V_th and below V one step earlier.
	n := bioNeuron(t, 0.1, "HH", 1, "I_e: 1000.0, tau_ref: 2.0")
	v, spikes := bioRun(t, n, "V", 2000)
	for _, s := range spikes {
		if !(v[s-1] >= 0 && v[s-2] > v[s-1]) {
			t.Errorf("spike at step %d: V %g after %g", s, v[s-1], v[s-2])
		}
	}
}

// HH's delta input moves V also during the dead time; HHPSC's sign-split
// input raises the derivative states by e/tau_syn * w.
func TestHHInput(t *testing.T) {
	n := bioNeuron(t, 0.1, "HH", 1, "I_e: 0.0").(*HH)
	before := n.State("V")[0]
	n.ref[0] = 5
	if _, err := n.Step(nil, [][]float64{{3}}, nil); err != nil {
		t.Fatal(err)
	}
	if d := n.State("V")[0] - before; math.Abs(d-3) > 0.01 {
		t.Errorf("V moved by %g with a 3 mV input during the dead time", d)
	}
	p := bioNeuron(t, 0.1, "HHPSC", 2, "tau_syn_e: 0.5, tau_syn_i: 4.0").(*HH)
	if _, err := p.Step(nil, [][]float64{{30, 0}, {-20, 0}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := p.State("dI_syn_e")[0], math.E/0.5*30; !near(got, want, 2) {
		t.Errorf("dI_syn_e %g, want %g", got, want)
	}
	if got, want := p.State("dI_syn_i")[0], math.E/4*-20; !near(got, want, 2) {
		t.Errorf("dI_syn_i %g, want %g", got, want)
	}
	if p.State("dI_syn_e")[1] != 0 || p.State("dI_syn_i")[1] != 0 || p.State("I_syn")[0] != 0 {
		t.Error("input reached the wrong neuron, or I_syn moved in the arrival step")
	}
	// The alpha PSC peaks at w, tau_syn after the arrival (RKF45 within its
	// tolerance).
	peak := 0.0
	for range 20 {
		if _, err := p.Step(nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, p.State("I_syn_e")[0])
	}
	if math.Abs(peak-30) > 1e-2 {
		t.Errorf("excitatory PSC peak %g, want 30", peak)
	}
}

// RK4 and EULER are unstable for NEST's HH at dt 0.1 ms (on the upstroke
// of a spike the Jacobian's fastest eigenvalue reaches -36/ms, and
// 0.1 ms x 36/ms = 3.6 is beyond RK4's real stability limit 2.785; RK4
// diverges at the first spike, t = 2.3 to 2.8 ms for I_e 800 to 1200 pA):
// the run stops with a StateError instead of producing garbage. At
// 0.05 ms they fire like RKF45 (TestMethodsAgreeWithDefault).
func TestHHRK4CoarseStepDiverges(t *testing.T) {
	for _, m := range []string{"RK4", "EULER"} {
		n := bioNeuron(t, 0.1, "HHPSC", 1, "I_e: 1000.0, method: "+m)
		var err error
		for k := 0; k < 1000 && err == nil; k++ {
			_, err = n.Step(nil, nil, nil)
		}
		if _, ok := err.(*StateError); !ok {
			t.Errorf("%s at dt 0.1: got %v, want a StateError", m, err)
		}
	}
}

func TestHHParamErrors(t *testing.T) {
	var cases []paramCase
	for _, m := range []string{"HH", "HHPSC"} {
		cases = append(cases, []paramCase{
			{m, "V_reset: 1.0", "", "params.V_reset"},
			{m, "V_reset: null", "", "params.V_reset"},
			{m, "c_m: 0.0", "", "params.c_m"},
			{m, "c_m: -100.0", "", "params.c_m"},
			{m, "g_L: -1.0", "", "params.g_L"},
			{m, "g_Na: -1.0", "", "params.g_Na"},
			{m, "g_K: -1.0", "", "params.g_K"},
			{m, "tau_ref: -2.0", "", "params.tau_ref"},
			{m, "I_e: [1.0, 2.0, 3.0]", "", "params.I_e"},
			{m, "v_init: [-65.0]", "", "params.v_init"},
			{m, "method: RK2", "", "params.method"},
			{m, "n_receptor: 2", "", "params.n_receptor"},
			{m, "E_K: .inf", "", "params.E_K"},
			{m, "dendritic_delay: 0", "", "params.dendritic_delay"},
			{m, "", "m: 1.5", "init.m"},
			{m, "", "h: [0.5, -0.1]", "init.h"},
			{m, "", "n: .nan", "init.n"},
		}...)
	}
	cases = append(cases, []paramCase{
		{"HH", "tau_syn_e: 0.2", "", "params.tau_syn_e"},
		{"HH", "", "I_syn_e: 1.0", "init.I_syn_e"},
		{"HHPSC", "tau_syn_e: 0.0", "", "params.tau_syn_e"},
		{"HHPSC", "tau_syn_i: -2.0", "", "params.tau_syn_i"},
		{"HHPSC", "", "I_syn: 1.0", "init.I_syn"},
	}...)
	checkParamErrors(t, cases)
	for _, ok := range []string{"g_L: 0.0, g_Na: 0.0, g_K: 0.0", "tau_ref: 0.0", "tau_ref: null", "V_reset: 0.0, V_th: -10.0"} {
		if _, err := bioLoad(bioNet(0.1, "HHPSC", 1, ok)); err != nil {
			t.Errorf("{%s}: %v", ok, err)
		}
	}
	// HHPSC has one receptor port; the sign picks the PSC.
	src := `version: 1
dt: 0.1
populations:
  g: {model: SpikeGenerator, size: 1, params: {spike_times: [1.0]}}
  c: {model: HHPSC, size: 1}
synapses:
  - {pre: g, post: c, conn: {rule: all_to_all}, weight: -5.0, receptor: 1}
`
	if _, err := bioLoad(src); err == nil {
		t.Error("receptor 1 into HHPSC was accepted")
	}
}

// hhExpPoly is exp to within 1e-15 relative on its range, ends included
// (core uses math.Exp beyond it).
func TestHHExp(t *testing.T) {
	for a := hhExpLo; a <= hhExpHi; a += 1e-5 {
		if e := math.Abs(hhExpPoly(a)-math.Exp(a)) / math.Exp(a); e > 1e-15 {
			t.Fatalf("hhExpPoly(%g) off by %g relative", a, e)
		}
	}
	for _, a := range []float64{hhExpLo, hhExpHi} {
		if e := math.Abs(hhExpPoly(a)-math.Exp(a)) / math.Exp(a); e > 1e-15 {
			t.Fatalf("hhExpPoly(%g) off by %g relative", a, e)
		}
	}
}

// The shortcut for HHPSC neurons without synaptic current gives bit for
// bit the result of integrating all eight components, for every method,
// also once input has arrived for some of them.
func TestHHPSCZeroShortcut(t *testing.T) {
	for _, m := range methodNames {
		dt := 0.1
		if m == "EULER" || m == "RK4" {
			dt = 0.05
		}
		params := "I_e: [800.0, 1000.0, 1200.0, 900.0], tau_ref: 2.0, method: " + m
		a := bioNeuron(t, dt, "HHPSC", 4, params).(*HH)
		b := bioNeuron(t, dt, "HHPSC", 4, params).(*HH)
		b.noShortcut = true
		var spa, spb []int32
		var err error
		for k := range 3000 {
			var w [][]float64
			if k == 1000 {
				w = [][]float64{{0, 500, 0, 0}, {0, 0, -300, 0}} // neurons 0 and 3 keep their zeros
			}
			if spa, err = a.Step(nil, w, spa[:0]); err != nil {
				t.Fatal(err)
			}
			if spb, err = b.Step(nil, w, spb[:0]); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(spa) != fmt.Sprint(spb) {
				t.Fatalf("%s step %d: spikes %v with the shortcut, %v without", m, k, spa, spb)
			}
			for c := range a.y {
				for i := range a.y[c] {
					if a.y[c][i] != b.y[c][i] {
						t.Fatalf("%s step %d neuron %d: %s %.17g with the shortcut, %.17g without", m, k, i, hhNames[c], a.y[c][i], b.y[c][i])
					}
				}
			}
		}
	}
}

// The RKF45 kernels (hh_rkf.go) do the generic solver's arithmetic, with
// fused multiply-adds in the stage arguments, the weighted sums and the
// right-hand side where hhFMA fuses (amd64, arm64): from the same
// state, one step of each gives the
// same spikes, and states and carried step sizes within rkfULPs() units in
// the last place of the component's scale (hhScale), for HH and for HHPSC
// neurons with and without synaptic current, with current input and
// spike input of both signs. Each step starts both from the kernel's
// state, so that the bound is per step and does not depend on how the
// dynamics amplify differences over a run.
// On amd64 TestHHRKFScalarMatchesGeneric runs it with the scalar kernel
// a CPU without AVX2 takes.
func TestHHRKFMatchesGeneric(t *testing.T) { hhRKFMatchesGeneric(t) }

func hhRKFMatchesGeneric(t *testing.T) {
	const size = odeBlock + 5
	worst, worstHi := 0.0, 0.0
	bound, stepRel := rkfULPs(), rkfStepRel()
	for _, model := range []string{"HH", "HHPSC"} {
		ie := make([]string, size)
		for i := range ie {
			ie[i] = fmt.Sprint(600 + 700*float64(i)/size)
		}
		params := "tau_ref: 2.0, I_e: [" + strings.Join(ie, ", ") + "]"
		a := bioNeuron(t, 0.1, model, size, params).(*HH)
		b := bioNeuron(t, 0.1, model, size, params).(*HH)
		if a.rkf == nil {
			t.Fatalf("%s: RKF45 does not use its kernel", model)
		}
		b.rkf, b.rkfCore = nil, nil // the generic odeSolver
		iext := make([]float64, size)
		var spa, spb []int32
		var err error
		total := 0
		for k := range 4000 {
			for c := range a.y {
				copy(b.y[c], a.y[c])
			}
			copy(b.sol.hi, a.sol.hi)
			copy(b.ref, a.ref)
			copy(b.arm, a.arm)
			for i := range iext {
				iext[i] = float64((k*7+i*3)%11)*20 - 100
			}
			var w [][]float64
			if k%400 == 100 {
				w = [][]float64{make([]float64, size), make([]float64, size)}
				for i := range size {
					if i%3 == 0 && model == "HHPSC" {
						w[0][i] = 300 // pA
					} else if i%3 == 0 {
						w[0][i] = 20 // mV
					} else if i%3 == 1 && model == "HHPSC" {
						w[1][i] = -200
					}
				}
			}
			if spa, err = a.Step(iext, w, spa[:0]); err != nil {
				t.Fatal(err)
			}
			if spb, err = b.Step(iext, w, spb[:0]); err != nil {
				t.Fatal(err)
			}
			total += len(spa)
			if fmt.Sprint(spa) != fmt.Sprint(spb) {
				t.Fatalf("%s step %d: spikes %v with the kernel, %v generic", model, k, spa, spb)
			}
			for c := range a.y {
				for i := range a.y[c] {
					d := math.Abs(a.y[c][i]-b.y[c][i]) / ulp(hhScale[c])
					worst = max(worst, d)
					if !(d <= bound) {
						t.Fatalf("%s step %d neuron %d: %s %.17g with the kernel, %.17g generic: %.1f ulps of %g apart", model, k, i, hhNames[c], a.y[c][i], b.y[c][i], d, hhScale[c])
					}
				}
			}
			for i := range a.sol.hi {
				d := math.Abs(a.sol.hi[i]-b.sol.hi[i]) / a.sol.hi[i]
				worstHi = max(worstHi, d)
				if !(d <= stepRel) {
					t.Fatalf("%s step %d neuron %d: carried step %.17g with the kernel, %.17g generic", model, k, i, a.sol.hi[i], b.sol.hi[i])
				}
			}
		}
		if total < 10*size {
			t.Errorf("%s: only %d spikes", model, total)
		}
	}
	t.Logf("largest difference: %.1f ulps of a state (bound %g), %.2g relative of a carried step", worst, bound, worstHi)
}

// rkfULPs bounds the difference of one step of the RKF45 kernel and the
// generic solver, in ulps of hhScale. On 386 and 32-bit arm (hhExact)
// neither fuses a multiply-add (hhFMA rounds twice there, and the
// compiler does not fuse x*y + z) and the kernel does the generic
// solver's operations in its order: the bound is 0, the same numbers.
// Else the kernel fuses where it says (hhFMA) and the compiler in the
// generic solver where it finds x*y + z, and the bound is 128 (1.8e-12
// mV for V, against the reference tolerance of 1e-6 mV): the largest
// seen is 47 on amd64 (the vector kernel and the scalar one alike) and
// 65 with GOAMD64=v3 and on arm64, as on the upstroke hs*k moves V by
// tens of mV per stage, and the stages amplify each rounding
// difference.
func rkfULPs() float64 {
	if hhExact {
		return 0
	}
	return 128
}

// rkfStepRel bounds the relative difference of the carried step sizes:
// they derive from the error estimate, a sum that cancels to a few
// digits, through rmax^(-1/5). The largest seen is 4.9e-9, on amd64; 0
// on 386 and arm.
func rkfStepRel() float64 {
	if hhExact {
		return 0
	}
	return 1e-8
}

// hhScale is the magnitude each HH component reaches in the test: V
// 100 mV, the gates 1, the PSCs and their derivative states 1000 pA.
var hhScale = [8]float64{100, 1, 1, 1, 1000, 1000, 1000, 1000}

// ulp is the spacing of float64 numbers at x.
func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}
