package cpu_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// stdpNet: one pre spike train into one LIF post neuron through a plastic
// synapse; the post neuron is made to spike at chosen times by strong
// static input from a second generator (200 mV jumps, delay 0.1 ms, so a
// drive time t - 0.1 gives a post spike stamped t).
func stdpNet(model, params string, w0 float64, pre, post []float64, dd int) string {
	list := func(ts []float64) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = fmt.Sprintf("%.1f", t)
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	drive := make([]float64, len(post))
	for i, t := range post {
		drive[i] = t - 0.1
	}
	return fmt.Sprintf(`version: 1
dt: 0.1
duration: 200
populations:
  pre: {model: SpikeGenerator, size: 1, params: {spike_times: %s}}
  drive: {model: SpikeGenerator, size: 1, params: {spike_times: %s}}
  post: {model: LIF, size: 1, params: {V_th: -10.0, tau_ref: 0.5, dendritic_delay: %d}}
synapses:
  - {name: plastic, pre: pre, post: post, model: %s, params: %s, conn: {rule: all_to_all}, weight: %g, delay: 1.0}
  - {pre: drive, post: post, conn: {rule: all_to_all}, weight: 200.0, delay: 0.1}
monitors:
  - {population: post, record: [spikes]}
  - {synapse: plastic, record: [weight]}
`, list(pre), list(drive), dd, model, params, w0)
}

// runSTDP returns the final weight and the post spike stamps (ms).
func runSTDP(t *testing.T, src string) (float64, []float64) {
	t.Helper()
	net, e := load(t, src)
	if err := e.Advance(int(net.Steps())); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	var posts []float64
	for _, s := range rec.Spikes {
		posts = append(posts, float64(s.Stamp)*net.Dt)
	}
	tr := rec.Traces[0]
	return tr.Values[len(tr.Values)-1], posts
}

// The pair rule over a single pre/post pair at Δt = t_post - t_pre from
// -50 to +50 ms follows NEST's exponential window, shifted by the
// dendritic delay d: facilitation λ(1-w/Wmax)·exp(-(Δt+d)/τ+) for
// Δt > -d, depression αλ(w/Wmax)·exp((Δt+d)/τ-) for Δt < -d, none at -d.
func TestSTDPPairWindow(t *testing.T) {
	const (
		w0, wmax, lambda, alpha = 30.0, 100.0, 0.05, 1.2
		tauPlus, tauMinus       = 15.0, 25.0
		tPre                    = 100.0
	)
	params := fmt.Sprintf("{tau_plus: %g, lambda: %g, alpha: %g, Wmax: %g}", tauPlus, lambda, alpha, wmax)
	for _, dd := range []int{1, 7} {
		d := float64(dd) * 0.1
		for dt := -50.0; dt <= 50.0; dt += 2.5 {
			tPost := tPre + dt
			src := stdpNet("STDPSynapse", params, w0, []float64{tPre}, []float64{tPost}, dd)
			src = strings.Replace(src, "post: {model: LIF, size: 1, params: {", fmt.Sprintf("post: {model: LIF, size: 1, params: {stdp_tau: %g, ", tauMinus), 1)
			got, posts := runSTDP(t, src)
			if len(posts) != 1 || math.Abs(posts[0]-tPost) > 1e-9 {
				t.Fatalf("Δt %g: post spikes %v, want one at %g", dt, posts, tPost)
			}
			x := w0 / wmax
			var want float64
			switch s := dt + d; {
			case s > 1e-9:
				want = math.Min(x+lambda*(1-x)*math.Exp(-s/tauPlus), 1) * wmax
			case s < -1e-9:
				want = math.Max(x-alpha*lambda*x*math.Exp(s/tauMinus), 0) * wmax
			default:
				want = w0
			}
			if math.Abs(got-want) > 1e-12*wmax {
				t.Errorf("d %d steps, Δt %+g ms: w = %.15g, want %.15g (Δw %.6g, want %.6g)", dd, dt, got, want, got-w0, want-w0)
			}
		}
	}
}

// Weights stay within [0, Wmax]: a huge learning rate saturates at Wmax
// (potentiation) and at 0 (depression), never beyond.
func TestSTDPBounds(t *testing.T) {
	up := stdpNet("STDPSynapse", "{lambda: 5.0, Wmax: 50.0}", 40, []float64{50}, []float64{52}, 1)
	if w, _ := runSTDP(t, up); w != 50 {
		t.Errorf("potentiation: w = %g, want Wmax 50", w)
	}
	down := stdpNet("STDPSynapse", "{lambda: 5.0, alpha: 3.0, Wmax: 50.0}", 40, []float64{52}, []float64{50}, 1)
	if w, _ := runSTDP(t, down); w != 0 {
		t.Errorf("depression: w = %g, want 0", w)
	}
	// Negative Wmax (inhibitory plastic synapse): bounds are [Wmax, 0].
	neg := stdpNet("STDPSynapse", "{lambda: 5.0, Wmax: -50.0}", -40, []float64{50}, []float64{52}, 1)
	if w, _ := runSTDP(t, neg); w != -50 {
		t.Errorf("negative Wmax potentiation: w = %g, want -50", w)
	}
}

// Triplet rule: in pre-post-post the second post spike's potentiation is
// enhanced by the long post trace of the first (Aplus_triplet·ky); in
// post-pre-pre the second pre spike's depression by the pre trace
// (Aminus_triplet·kx). Both against the formulas of docs/models/synapses.md.
func TestTripletSTDP(t *testing.T) {
	const (
		w0, aplus, aminus, a3p, a3m = 10.0, 0.05, 0.04, 0.3, 0.2
		tp, tpt, tm, tmt            = 16.8, 101.0, 20.0, 110.0
		d                           = 0.1
	)
	params := fmt.Sprintf("{Aplus: %g, Aminus: %g, Aplus_triplet: %g, Aminus_triplet: %g, Wmax: 100.0}", aplus, aminus, a3p, a3m)
	// pre 50, post 55 and 60.
	got, _ := runSTDP(t, stdpNet("TripletSTDPSynapse", params, w0, []float64{50}, []float64{55, 60}, 1))
	k1 := math.Exp(-(55 + d - 50) / tp)
	k2 := math.Exp(-(60 + d - 50) / tp)
	ky := math.Exp(-(60 - 55) / tmt)
	want := w0 + k1*aplus + k2*(aplus+a3p*ky)
	pairOnly := w0 + k1*aplus + k2*aplus
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("pre-post-post: w = %.15g, want %.15g", got, want)
	}
	if got-pairOnly < 0.1*a3p*k2*ky {
		t.Errorf("pre-post-post: no triplet potentiation (w %g, pair terms alone %g)", got, pairOnly)
	}
	// post 50, pre 60 and 65.
	got, _ = runSTDP(t, stdpNet("TripletSTDPSynapse", params, w0, []float64{60, 65}, []float64{50}, 1))
	km1 := math.Exp(-(60 - d - 50) / tm)
	km2 := math.Exp(-(65 - d - 50) / tm)
	kx := math.Exp(-(65 - 60) / tpt) // pre triplet trace at the second pre spike
	want = w0 - km1*aminus - km2*(aminus+a3m*kx)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("post-pre-pre: w = %.15g, want %.15g", got, want)
	}
}

func TestSTDPLoadErrors(t *testing.T) {
	base := stdpNet("STDPSynapse", "{}", 10, []float64{50}, []float64{52}, 1)
	cases := []struct{ from, to, msg string }{
		{"{}", "{tau_plus: 0}", "tau_plus: must be > 0"},
		{"{}", "{Wmax: 0}", "Wmax: must be != 0"},
		{"{}", "{Kplus: -1}", "Kplus: must be >= 0"},
		{"{}", "{tau_minus: 3}", "unknown parameter of STDPSynapse"},
		{"weight: 10,", "weight: 150,", "0 <= w/Wmax <= 1"},
		{"weight: 10,", "weight: -1,", "0 <= w/Wmax <= 1"},
		{"model: STDPSynapse, params: {}", "model: TripletSTDPSynapse, params: {Wmax: -5}", "sign of Wmax"},
		{"model: STDPSynapse, params: {}", "model: TripletSTDPSynapse, params: {tau_plus_triplet: -2}", "tau_plus_triplet: must be > 0"},
		{"dendritic_delay: 1", "dendritic_delay: 0", "dendritic_delay"},
		{"{synapse: plastic, record: [weight]}", "{synapse: plastic, record: [V]}", "records [weight]"},
	}
	for _, c := range cases {
		src := strings.Replace(base, c.from, c.to, 1)
		if src == base {
			t.Fatalf("case %q did not change the file", c.to)
		}
		_, err := models.Load([]byte(src), "stdp.yaml", models.NewRegistry(), models.DefaultLimits)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %q", c.to, err, c.msg)
		}
	}
}
