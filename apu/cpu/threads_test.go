package cpu_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// mixedNetwork has what a step of the threaded engine must keep in order:
// Poisson and DC generators, delays of 1, 2.5 and 3 ms and per-connection
// delays, LIF and two- and three-port ExpLIF populations split over the
// threads, an Izhikevich population that is not split (worker 0 steps
// it), recurrent connections between them, and monitors of spikes and of
// states every step and every 7 steps.
const mixedNetwork = `version: 1
dt: 0.1
duration: 300.0
seed: 3
populations:
  noise: {model: PoissonGenerator, size: 200, params: {rate: 40.0}}
  drive: {model: DCGenerator, size: 2, params: {amplitude: 150.0, start: 20.0}}
  lif: {model: LIF, size: 1500, params: {tau_ref: 2.0, I_e: 360.0}, init: {V: {dist: uniform, low: -70.0, high: -55.0}}}
  exp2: {model: ExpLIF, size: 1100, params: {tau_syn: [2.0, 5.0], I_e: 370.0}, init: {V: {dist: uniform, low: -70.0, high: -55.0}}}
  exp3: {model: ExpLIF, size: 700, params: {tau_syn: [2.0, 5.0, 8.0], I_e: 300.0}}
  izh: {model: Izhikevich, size: 50, params: {I_e: 5.0}}
synapses:
  - {pre: noise, post: lif, conn: {rule: fixed_indegree, n: 10}, weight: 1.5, delay: 1.0}
  - {pre: noise, post: exp2, conn: {rule: fixed_prob, p: 0.1}, weight: 30.0, delay: 2.5, receptor: 0}
  - {pre: drive, post: exp3, conn: {rule: all_to_all}, weight: 1.0, delay: 0.5}
  - {pre: drive, post: lif, conn: {rule: all_to_all}, weight: 0.3, delay: 0.2}
  - {pre: lif, post: exp2, conn: {rule: fixed_prob, p: 0.02}, weight: 25.0, delay: 3.0, receptor: 0}
  - {pre: exp2, post: lif, conn: {rule: fixed_prob, p: 0.02}, weight: -0.8, delay: 1.0}
  - {pre: exp2, post: exp2, conn: {rule: fixed_prob, p: 0.02}, weight: -60.0, delay: 0.1, receptor: 1}
  - {pre: lif, post: exp3, conn: {rule: fixed_prob, p: 0.03}, weight: 40.0, delay: 0.7, receptor: 2}
  - {pre: izh, post: lif, conn: {rule: fixed_prob, p: 0.2}, weight: 2.0, delay: 1.2}
  - {pre: lif, post: izh, conn: {rule: fixed_prob, p: 0.01}, weight: 3.0, delay: 0.4}
  - {pre: exp3, post: exp3, conn: {rule: one_to_one}, weight: [%s], delay: [%s], receptor: 1}
monitors:
  - {population: lif, record: [spikes, V]}
  - {population: exp2, record: [spikes, V, I_syn_1], every: 7}
  - {population: exp3, record: [spikes]}
  - {population: izh, record: [spikes, V], neurons: [0, 3, 9]}
`

// hhInputNetwork is 400 HHPSC neurons (RKF45) with a ramp of I_e, Poisson
// input (excitatory alpha PSCs) to about a third of them and sparse
// recurrent inhibition: the solver's blocks hold neurons integrated with
// all eight components and neurons without synaptic current (V, m, h, n
// alone), and neurons move between the two as input arrives.
const hhInputNetwork = `version: 1
dt: 0.1
duration: 300.0
seed: 11
populations:
  noise: {model: PoissonGenerator, size: 40, params: {rate: 60.0}}
  hh: {model: HHPSC, size: 400, params: {tau_ref: 2.0, I_e: [%s]}}
synapses:
  - {pre: noise, post: hh, conn: {rule: fixed_prob, p: 0.01}, weight: 400.0, delay: 1.0}
  - {pre: hh, post: hh, conn: {rule: fixed_prob, p: 0.001}, weight: -300.0, delay: 1.5}
monitors:
  - {population: hh, record: [spikes, V, I_syn]}
`

// hhInput is hhInputNetwork loaded, I_e from 600 to 1300 pA in a
// scrambled order.
func hhInput(t *testing.T) *models.Network {
	t.Helper()
	ie := make([]string, 400)
	for i := range ie {
		ie[i] = fmt.Sprint(600 + 700*float64(i*37%400)/400)
	}
	net, err := models.Load([]byte(fmt.Sprintf(hhInputNetwork, join(ie))), "hh.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func mixed(t *testing.T) *models.Network {
	t.Helper()
	w, d := make([]string, 700), make([]string, 700)
	for i := range w {
		w[i] = fmt.Sprint(float64(i%13) - 6)
		d[i] = fmt.Sprint(0.1 * float64(1+i%17))
	}
	src := fmt.Sprintf(mixedNetwork, join(w), join(d))
	net, err := models.Load([]byte(src), "mixed.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// runRecord runs net for steps steps (in chunks, as sim and the daemon
// call Advance) on an engine with the given threads and returns all it
// recorded.
func runRecord(t *testing.T, net *models.Network, threads, steps int) apu.Record {
	t.Helper()
	e := cpu.New(cpu.WithThreads(threads, nil))
	if err := e.Load(net); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Threads() != threads {
		t.Fatalf("runs on %d threads, want %d (%s)", e.Threads(), threads, e.ThreadsNote())
	}
	var all, rec apu.Record
	for done := 0; done < steps; {
		n := min(steps-done, 97)
		if err := e.Advance(n); err != nil {
			t.Fatal(err)
		}
		done += n
		e.Drain(&rec)
		all.Spikes = append(all.Spikes, rec.Spikes...)
		if all.Traces == nil {
			all.Traces = make([]apu.Trace, len(rec.Traces))
		}
		for i, tr := range rec.Traces {
			all.Traces[i].State = tr.State
			all.Traces[i].Stamps = append(all.Traces[i].Stamps, tr.Stamps...)
			all.Traces[i].Values = append(all.Traces[i].Values, tr.Values...)
		}
	}
	return all
}

func sameRecord(t *testing.T, got, want apu.Record) {
	t.Helper()
	if len(want.Spikes) < 100 {
		t.Fatalf("only %d spikes: the test exercises little", len(want.Spikes))
	}
	if !slices.Equal(got.Spikes, want.Spikes) {
		n := 0
		for n < min(len(got.Spikes), len(want.Spikes)) && got.Spikes[n] == want.Spikes[n] {
			n++
		}
		t.Fatalf("%d spikes, want %d; first difference at %d", len(got.Spikes), len(want.Spikes), n)
	}
	for i, tr := range want.Traces {
		g := got.Traces[i]
		if !slices.Equal(g.Stamps, tr.Stamps) || len(g.Values) != len(tr.Values) {
			t.Fatalf("trace %s: %d samples, want %d", tr.State, len(g.Stamps), len(tr.Stamps))
		}
		for j, v := range tr.Values {
			if math.Float64bits(g.Values[j]) != math.Float64bits(v) {
				t.Fatalf("trace %s value %d: %v, want %v", tr.State, j, g.Values[j], v)
			}
		}
	}
}

// Two threads give the one-thread engine's spikes and traces bit for bit,
// on CUBA and on a network with delays, generators and monitors.
func TestThreadsMatchOneThread(t *testing.T) {
	t.Run("CUBA", func(t *testing.T) {
		one := runRecord(t, cubaTestNetwork(t, 4000), 1, 2000)
		for _, n := range []int{2, 3} {
			sameRecord(t, runRecord(t, cubaTestNetwork(t, 4000), n, 2000), one)
		}
	})
	t.Run("mixed", func(t *testing.T) {
		one := runRecord(t, mixed(t), 1, 1500)
		for _, n := range []int{2, 3} {
			sameRecord(t, runRecord(t, mixed(t), n, 1500), one)
		}
	})
	t.Run("HHPSC", func(t *testing.T) {
		one := runRecord(t, hhInput(t), 1, 1500)
		// Both kinds of lanes, and neurons that switch: I_syn exactly 0
		// at the start and in a share of the samples at the end.
		var isyn apu.Trace
		for _, tr := range one.Traces {
			if tr.State == "I_syn" {
				isyn = tr
			}
		}
		zeros, last := 0, isyn.Values[len(isyn.Values)-400:]
		for _, x := range isyn.Values {
			if x == 0 {
				zeros++
			}
		}
		lastZeros := 0
		for _, x := range last {
			if x == 0 {
				lastZeros++
			}
		}
		if frac := float64(zeros) / float64(len(isyn.Values)); frac < 0.1 || frac > 0.9 || lastZeros < 40 || lastZeros > 360 {
			t.Fatalf("I_syn is 0 in %.0f%% of the samples and for %d of 400 neurons at the end: want both kinds of lanes", 100*frac, lastZeros)
		}
		t.Logf("I_syn 0 in %d of %d samples, for %d neurons at the end", zeros, len(isyn.Values), lastZeros)
		for _, n := range []int{2, 3} {
			sameRecord(t, runRecord(t, hhInput(t), n, 1500), one)
		}
	})
}

// A network with a plastic synapse runs on one thread and says why.
func TestThreadsFallBack(t *testing.T) {
	src := `version: 1
populations:
  a: {model: LIF, size: 10}
synapses:
  - {pre: a, post: a, conn: {rule: all_to_all}, model: STDPSynapse, weight: 1.0}
`
	net, err := models.Load([]byte(src), "stdp.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	e := cpu.New(cpu.WithThreads(2, nil))
	if err := e.Load(net); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Threads() != 1 || e.ThreadsNote() == "" {
		t.Errorf("Threads() = %d, note %q; want 1 and a reason", e.Threads(), e.ThreadsNote())
	}
}

// A threaded step allocates nothing (spikes are not recorded here, so
// the record does not grow), on CUBA and on HHPSC, whose RKF45 kernels
// for each range are made at the first steps.
func TestThreadsAllocateNothingPerStep(t *testing.T) {
	for name, net := range map[string]*models.Network{
		"CUBA":  cubaTestNetwork(t, 4000),
		"HHPSC": hhInput(t),
	} {
		net.Monitors = nil
		e := cpu.New(cpu.WithThreads(2, nil))
		if err := e.Load(net); err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.Threads() != 2 {
			t.Fatalf("%s: runs on %d threads, want 2 (%s)", name, e.Threads(), e.ThreadsNote())
		}
		if err := e.Advance(100); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() {
			if err := e.Advance(50); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per 50 threaded steps, want 0", name, a)
		}
	}
}

func cubaTestNetwork(t *testing.T, n int) *models.Network {
	t.Helper()
	net, err := models.Load([]byte(cpu.CUBASource(n)), fmt.Sprintf("cuba%d.yaml", n), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return net
}
