package models

// Tests of GLIF3 and GLIF3PSC (docs/models/glif.md). The anchors are the
// spec's; the other expectations are worked out from the spec's formulas.

import (
	"math"
	"strings"
	"testing"
)

// near reports whether got is within ulps units in the last place of want.
func near(got, want float64, ulps float64) bool {
	return math.Abs(got-want) <= ulps*math.Abs(want)*0x1p-52
}

// bioNetInit is bioNet with an `init` mapping (a flow mapping without
// braces; "" for none).
func bioNetInit(dt float64, model string, size int, params, init string) string {
	text := bioNet(dt, model, size, params)
	if init == "" {
		return text
	}
	return strings.Replace(text, "}}\n", "}, init: {"+init+"}}\n", 1)
}

func TestGLIFAnchors(t *testing.T) {
	n := bioNeuron(t, 0.1, "GLIF3PSC", 1, "").(*GLIF)
	check := func(name string, got, want float64) {
		t.Helper()
		if !near(got, want, 1) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	check("P33", n.p33, 0.9840689981616766)
	check("P30", n.p30, 1.6893957410735324e-3)
	for j, want := range []float64{0.9997000449955004, 0.9900498337491681} {
		check("a", n.decay[j], want)
	}
	for j, want := range []float64{0.9998500149988042, 0.9950166250831893} {
		check("m", n.mean[j], want)
	}
	for j, want := range []float64{0.9888130446112331, 0.6872892787909722} {
		check("q", n.refDecay[j], want)
	}
	check("P31", n.p31[0], 8.192125107670286e-5)
	check("P32", n.p32[0], 1.6477457933247632e-3)
	check("P11", n.p11[0], math.Exp(-0.05))
	check("P21", n.p21[0], 0.1*math.Exp(-0.05))
	check("PSC initial value", n.pscInit[0], math.E/2)
	if n.refSteps != 38 {
		t.Errorf("R_ref = %d, want 38 (3.75 ms rounded up)", n.refSteps)
	}
	if n.theta != -51.68 {
		t.Errorf("threshold %g, want th_inf + spike_th = -51.68", n.theta)
	}
	if tauM := 58.72 / 9.43; !near(tauM, 6.226935312831389, 1) {
		t.Errorf("tau_m %.17g", tauM)
	}
}

// With tau_syn equal to tau_m both closed forms break down and the limits
// of docs/models/glif.md apply.
func TestGLIFPSCPropagatorLimit(t *testing.T) {
	h, tau, cm := 0.1, 5.0, 50.0
	p31, p32 := alphaPSCPropagators(h, tau, tau, cm)
	if want := h / cm * math.Exp(-h/tau); p32 != want {
		t.Errorf("P32 = %g, want %g", p32, want)
	}
	if want := 0.5 * h * h / cm * math.Exp(-h/tau); p31 != want {
		t.Errorf("P31 = %g, want %g", p31, want)
	}
	// Close but not equal: the closed forms, continuous with the limit.
	q31, q32 := alphaPSCPropagators(h, tau, tau*(1+1e-6), cm)
	if math.Abs(q31-p31) > 1e-6*p31 || math.Abs(q32-p32) > 1e-6*p32 {
		t.Errorf("near the limit P31 %g P32 %g, limit %g %g", q31, q32, p31, p32)
	}
}

// The test is strict: V exactly at the threshold does not spike.
func TestGLIFStrictThreshold(t *testing.T) {
	// At rest exactly on the threshold, without input, V stays there.
	n := bioNeuron(t, 0.1, "GLIF3", 1, "V_rest: -50.0, th_inf: -50.0, v_init: -50.0, V_reset: -60.0")
	_, spikes := bioRun(t, n, "V", 100)
	if len(spikes) != 0 {
		t.Errorf("spiked at %v with V equal to the threshold", spikes)
	}
	// A delta input of 1e-9 mV pushes it over.
	sp, err := n.Step(nil, [][]float64{{1e-9}}, nil)
	if err != nil || len(sp) != 1 {
		t.Errorf("V just above the threshold: spikes %v, err %v", sp, err)
	}
}

// After a spike in step k: the ASCs jump to amp + asc*q (asc already
// decayed over step k), V reads V_reset at t_{k+1} ... t_{k+R_ref+1}, and
// V, the ASCs and I_asc are frozen for R_ref steps; delta input arriving
// then is discarded.
func TestGLIFSpikeAndRefractory(t *testing.T) {
	n := bioNeuron(t, 0.1, "GLIF3", 1, "I_e: 300.0").(*GLIF)
	var sp []int32
	var err error
	var ascBefore [2]float64
	k := 0
	for ; ; k++ {
		ascBefore = [2]float64{n.asc[0][0], n.asc[1][0]}
		if sp, err = n.Step(nil, nil, sp[:0]); err != nil {
			t.Fatal(err)
		}
		if len(sp) > 0 {
			break
		}
		if k > 1000 {
			t.Fatal("no spike in 100 ms at 300 pA")
		}
	}
	amps, q, a := []float64{-9.18, -198.94}, n.refDecay, n.decay
	for j := range 2 {
		want := amps[j] + ascBefore[j]*a[j]*q[j]
		if !near(n.asc[j][0], want, 4) {
			t.Errorf("asc_%d after the spike = %.17g, want %.17g", j, n.asc[j][0], want)
		}
	}
	ascAfter := [2]float64{n.asc[0][0], n.asc[1][0]}
	iAsc := n.iAsc[0]
	for r := 1; r <= int(n.refSteps); r++ {
		if sp, err = n.Step(nil, [][]float64{{5}}, sp[:0]); err != nil || len(sp) != 0 {
			t.Fatal(sp, err)
		}
		if n.v[0] != -78.85 || n.asc[0][0] != ascAfter[0] || n.asc[1][0] != ascAfter[1] || n.iAsc[0] != iAsc {
			t.Fatalf("refractory step %d: V %g, asc %g %g, I_asc %g: not frozen", r, n.v[0], n.asc[0][0], n.asc[1][0], n.iAsc[0])
		}
	}
	// The first step after the clamp integrates again.
	if _, err = n.Step(nil, nil, sp[:0]); err != nil {
		t.Fatal(err)
	}
	if n.v[0] == -78.85 || n.asc[1][0] == ascAfter[1] {
		t.Errorf("first step after the clamp: V %g, asc_1 %g: still frozen", n.v[0], n.asc[1][0])
	}
	wantIAsc := n.mean[0]*ascAfter[0] + n.mean[1]*ascAfter[1]
	if !near(n.iAsc[0], wantIAsc, 4) {
		t.Errorf("I_asc %.17g, want the step mean %.17g", n.iAsc[0], wantIAsc)
	}
}

// An alpha PSC on port r peaks at w pA tau_syn after the arrival, and the
// other port stays at zero.
func TestGLIFPSCAlphaPeak(t *testing.T) {
	n := bioNeuron(t, 0.1, "GLIF3PSC", 1, "tau_syn: [2.0, 0.5]").(*GLIF)
	if n.Ports() != 2 {
		t.Fatalf("%d ports, want 2", n.Ports())
	}
	if _, err := n.Step(nil, [][]float64{nil, {80}}, nil); err != nil {
		t.Fatal(err)
	}
	peak, at := 0.0, 0
	for k := 1; k <= 50; k++ {
		if _, err := n.Step(nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if x := n.State("I_syn_1")[0]; x > peak {
			peak, at = x, k
		}
		if n.State("I_syn_0")[0] != 0 {
			t.Fatal("port 0 received port 1's input")
		}
	}
	if at != 5 || math.Abs(peak-80) > 1e-12 {
		t.Errorf("PSC peak %.15g pA %d steps after arrival, want 80 pA after 5 steps (0.5 ms)", peak, at)
	}
	if s := n.State("I_syn")[0]; s != n.State("I_syn_1")[0] {
		t.Errorf("I_syn %g is not the sum of the ports", s)
	}
}

func TestGLIFStates(t *testing.T) {
	n := bioNeuron(t, 0.1, "GLIF3PSC", 2, "tau_syn: [2.0, 3.0]").(*GLIF)
	want := "V asc_0 asc_1 I_asc I_syn I_syn_0 I_syn_1"
	if got := strings.Join(n.StateNames(), " "); got != want {
		t.Errorf("states %q, want %q", got, want)
	}
	if got := strings.Join(n.InitNames(), " "); got != "V asc_0 asc_1 I_syn_0 I_syn_1" {
		t.Errorf("init names %q", got)
	}
	for _, s := range n.StateNames() {
		if len(n.State(s)) != 2 {
			t.Errorf("state %s has %d values", s, len(n.State(s)))
		}
	}
	for _, s := range []string{"asc_2", "asc_01", "I_syn_2", "y1_0", "I_syn_e"} {
		if n.State(s) != nil {
			t.Errorf("state %q should not exist", s)
		}
	}
	net, err := bioLoad(bioNetInit(0.1, "GLIF3", 1, "", "asc_1: -5.0, V: -60.0"))
	if err == nil {
		g := net.Populations[0].Model.(*GLIF)
		if g.asc[1][0] != -5 || g.v[0] != -60 {
			t.Errorf("init: asc_1 %g V %g", g.asc[1][0], g.v[0])
		}
	} else {
		t.Error(err)
	}
}

// paramCase is a network file population that must be rejected, naming
// the parameter (or init state) in the error.
type paramCase struct {
	model, params, init, field string
}

func checkParamErrors(t *testing.T, cases []paramCase) {
	t.Helper()
	for _, c := range cases {
		_, err := bioLoad(bioNetInit(0.1, c.model, 2, c.params, c.init))
		if err == nil {
			t.Errorf("%s {%s} init {%s}: loaded, want an error naming %s", c.model, c.params, c.init, c.field)
			continue
		}
		if !strings.Contains(err.Error(), "populations.c."+c.field+":") {
			t.Errorf("%s {%s} init {%s}: error %q does not name %s", c.model, c.params, c.init, err, c.field)
		}
	}
}

func TestGLIFParamErrors(t *testing.T) {
	var cases []paramCase
	for _, m := range []string{"GLIF3", "GLIF3PSC"} {
		cases = append(cases, []paramCase{
			{m, "V_th: 1.0", "", "params.V_th"},
			{m, "th_inf: -80.0", "", "params.th_inf"},
			{m, "th_inf: -51.68, spike_th: -30.0", "", "params.th_inf"},
			{m, "th_inf: -78.85", "", "params.th_inf"},               // Θ must be above V_reset
			{m, "V_reset: null, V_rest: -40.0", "", "params.th_inf"}, // a soft reset goes relative to V_rest
			{m, "G: 0.0", "", "params.G"},
			{m, "G: -9.43", "", "params.G"},
			{m, "C_m: 0.0", "", "params.C_m"},
			{m, "asc_amps_init: []", "", "params.asc_amps_init"},
			{m, "asc_decay_init: [0.003]", "", "params.asc_decay_init"},
			{m, "asc_decay_init: [0.0, 0.1]", "", "params.asc_decay_init"},
			{m, "asc_decay_init: [0.003, -0.1]", "", "params.asc_decay_init"},
			{m, "asc_r_init: [1.0, 1.0, 1.0]", "", "params.asc_r_init"},
			{m, "asc_r_init: [1.5, 1.0]", "", "params.asc_r_init"},
			{m, "asc_r_init: [1.0, -0.1]", "", "params.asc_r_init"},
			{m, "asc_amps_init: -9.18, asc_decay_init: [0.003, 0.1], asc_r_init: [1.0, 1.0]", "", "params.asc_decay_init"},
			{m, "tau_ref: null", "", "params.tau_ref"},
			{m, "tau_ref: 0.0", "", "params.tau_ref"},
			{m, "tau_ref: -1.0", "", "params.tau_ref"},
			{m, "I_e: [1.0, 2.0, 3.0]", "", "params.I_e"},
			{m, "v_init: [1.0]", "", "params.v_init"},
			{m, "method: RK45", "", "params.method"},
			{m, "V_th: .nan", "", "params.V_th"},
			{m, "stdp_tau: 0.0", "", "params.stdp_tau"},
			{m, "tau: 10.0", "", "params.tau"},
			{m, "", "I_asc: 1.0", "init.I_asc"},
		}...)
	}
	cases = append(cases, []paramCase{
		{"GLIF3", "n_receptor: 2", "", "params.n_receptor"},
		{"GLIF3", "tau_syn: 2.0", "", "params.tau_syn"},
		{"GLIF3PSC", "tau_syn: [2.0, 0.0]", "", "params.tau_syn"},
		{"GLIF3PSC", "tau_syn: []", "", "params.tau_syn"},
		{"GLIF3PSC", "tau_syn: -1.0", "", "params.tau_syn"},
		{"GLIF3PSC", "tau_syn: [2.0, 3.0], n_receptor: 1", "", "params.n_receptor"},
		{"GLIF3PSC", "", "I_syn: 1.0", "init.I_syn"},
		{"GLIF3PSC", "", "I_syn_1: 1.0", "init.I_syn_1"},
	}...)
	checkParamErrors(t, cases)
	// The constraints' boundaries are accepted.
	for _, ok := range []string{"asc_r_init: [0.0, 1.0]", "V_th: 0.0", "asc_amps_init: 0.0, asc_decay_init: 0.5, asc_r_init: 0.0", "th_inf: -78.8"} {
		if _, err := bioLoad(bioNet(0.1, "GLIF3", 1, ok)); err != nil {
			t.Errorf("{%s}: %v", ok, err)
		}
	}
}
