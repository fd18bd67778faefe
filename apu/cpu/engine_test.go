package cpu_test

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

func load(t testing.TB, src string) (*models.Network, *cpu.Engine) {
	t.Helper()
	net, err := models.Load([]byte(src), "test.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	e := cpu.New()
	if err := e.Load(net); err != nil {
		t.Fatal(err)
	}
	return net, e
}

// A spike stamped t_s through delay d must be in the state reported at
// t_s + d and not one step earlier (docs/models/README.md); with mixed delays per
// connection each target sees its own arrival time.
func TestSpikeArrivalTimes(t *testing.T) {
	src := `version: 1
dt: 0.1
duration: 10
populations:
  src: {model: SpikeGenerator, size: 1, params: {spike_times: [1.0]}}
  cells: {model: LIF, size: 3, params: {tau_ref: 0.0, V_th: 100.0, V_reset: -70, V_rest: -70}}
synapses:
  - {pre: src, post: cells, conn: {rule: all_to_all}, weight: [1.0, 2.0, 4.0], delay: [0.1, 0.5, 2.3]}
monitors:
  - {population: cells, record: [V]}
`
	_, e := load(t, src)
	if err := e.Advance(50); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	tr := rec.Traces[0]
	// Stamp index = time / dt. The spike at 1.0 ms is stamp 10.
	wantArrival := []int64{11, 15, 33}
	for col, arr := range wantArrival {
		for r, st := range tr.Stamps {
			v := tr.Values[r*3+col]
			jumped := v > -70+1e-12
			if st < arr && jumped {
				t.Errorf("neuron %d: V %g at stamp %d, before the arrival at stamp %d", col, v, st, arr)
			}
			if st >= arr && !jumped {
				t.Errorf("neuron %d: V %g at stamp %d, the input arriving at stamp %d is missing", col, v, st, arr)
			}
		}
	}
}

// A DCGenerator's current with delay D acts in steps start+D ... (docs/models/generators.md):
// with start 0 and D = 3 the first step with current is step 3, so
// V first moves at stamp 4.
func TestCurrentDelay(t *testing.T) {
	src := `version: 1
dt: 0.1
populations:
  dc: {model: DCGenerator, size: 1, params: {amplitude: 100.0}}
  cells: {model: LIF, size: 1, params: {V_th: 100.0}}
synapses:
  - {pre: dc, post: cells, conn: {rule: all_to_all}, weight: 2.0, delay: 0.3}
monitors:
  - {population: cells, record: [V]}
`
	_, e := load(t, src)
	e.Advance(6)
	var rec apu.Record
	e.Drain(&rec)
	v := rec.Traces[0].Values
	for st := 0; st <= 3; st++ {
		if v[st] != -70 {
			t.Errorf("stamp %d: V = %g, want -70 (current not yet arrived)", st, v[st])
		}
	}
	// One exact step with I = 200 pA from rest.
	want := -70 + 0.04*(1-math.Exp(-0.1/10))*200
	if math.Abs(v[4]-want) > 1e-12 {
		t.Errorf("stamp 4: V = %.15g, want %.15g", v[4], want)
	}
}

// Monitors: `every` samples stamps that are multiples of every, after the
// initial row, and neurons subsets keep the given order.
func TestMonitorEveryAndSubset(t *testing.T) {
	src := `version: 1
populations:
  cells: {model: LIF, size: 4, params: {I_e: 500.0}, init: {V: [-70, -69, -68, -67]}}
monitors:
  - {population: cells, record: [V], neurons: [3, 1], every: 5}
`
	_, e := load(t, src)
	e.Advance(12)
	var rec apu.Record
	e.Drain(&rec)
	tr := rec.Traces[0]
	if got := tr.Stamps; len(got) != 3 || got[0] != 0 || got[1] != 5 || got[2] != 10 {
		t.Fatalf("stamps %v, want [0 5 10]", got)
	}
	if tr.Values[0] != -67 || tr.Values[1] != -69 {
		t.Errorf("initial row %v, want [-67 -69] (neurons 3, 1)", tr.Values[:2])
	}
	e.Advance(5)
	e.Drain(&rec)
	if len(rec.Traces[0].Stamps) != 1 || rec.Traces[0].Stamps[0] != 15 {
		t.Errorf("after drain: stamps %v, want [15]", rec.Traces[0].Stamps)
	}
}

// A state that stops being finite ends the run with an error naming the
// population, neuron and step, and the engine refuses to go on.
func TestNonFiniteStateStopsRun(t *testing.T) {
	src := `version: 1
populations:
  cells: {model: Izhikevich, size: 2, params: {I_e: [0.0, 1.0e300], V_th: 1.0e308}}
`
	_, e := load(t, src)
	err := e.Advance(100)
	if err == nil || !strings.Contains(err.Error(), `population "cells"`) || !strings.Contains(err.Error(), "neuron 1") {
		t.Fatalf("err = %v, want one naming population cells and neuron 1", err)
	}
	if err2 := e.Advance(1); err2 == nil {
		t.Fatal("Advance after a failed step succeeded")
	}
}

// The engine allocates nothing per step in steady state, with delays,
// ring buffers, generators, currents and monitors in use.
func TestZeroAllocsPerStep(t *testing.T) {
	src := `version: 1
seed: 3
populations:
  noise: {model: PoissonGenerator, size: 50, params: {rate: 200.0}}
  dc: {model: DCGenerator, size: 1, params: {amplitude: 300.0}}
  exc: {model: ExpLIF, size: 200, params: {tau_syn: [2.0, 5.0]}}
  izh: {model: Izhikevich, size: 50, params: {I_e: 5.0}}
synapses:
  - {pre: noise, post: exc, conn: {rule: fixed_prob, p: 0.2}, weight: 300.0, delay: [0.1], receptor: 0}
  - {pre: exc, post: exc, conn: {rule: fixed_indegree, n: 10}, weight: {dist: uniform, low: -50, high: 50}, delay: 1.5, receptor: 1}
  - {pre: dc, post: exc, conn: {rule: all_to_all}, weight: 1.0, delay: 0.5}
  - {pre: exc, post: izh, conn: {rule: fixed_prob, p: 0.1}, weight: 0.5, delay: 2.0}
monitors:
  - {population: exc, record: [spikes, V, I_syn], every: 2}
  - {population: izh, record: [spikes, u], neurons: [0, 5]}
  - {population: noise, record: [spikes]}
`
	src = strings.Replace(src, "delay: [0.1], ", "delay: 0.1, ", 1)
	_, e := load(t, src)
	var rec apu.Record
	// Warm up: let the recorder buffers reach their steady capacity.
	for i := 0; i < 20; i++ {
		if err := e.Advance(100); err != nil {
			t.Fatal(err)
		}
		e.Drain(&rec)
	}
	spikes := 0
	allocs := testing.AllocsPerRun(50, func() {
		if err := e.Advance(100); err != nil {
			t.Fatal(err)
		}
		e.Drain(&rec)
		spikes += len(rec.Spikes)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 100 steps, want 0", allocs)
	}
	if spikes == 0 {
		t.Error("no spikes: the test network exercises no routing")
	}
}

// TestResetMatchesFreshLoad: run part of a network, Reset, run again:
// every spike and sample equals, bit for bit, a new engine on a new load
// with the same seed (every example network, plus a plastic one).
func TestResetMatchesFreshLoad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	stdp, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "reference", "stdp", "*.yaml"))
	files = append(files, stdp...)
	files = append(files, filepath.Join("..", "..", "models", "testdata", "neurai", "soft_reset_lif.yaml"),
		filepath.Join("..", "..", "models", "testdata", "neurai", "before_reset_monitor.yaml"))
	if len(files) < 3 {
		t.Fatalf("found %d example networks", len(files))
	}
	run := func(e *cpu.Engine, steps int) apu.Record {
		t.Helper()
		if err := e.Advance(steps); err != nil {
			t.Fatal(err)
		}
		var rec apu.Record
		e.Drain(&rec)
		return rec
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			load := func() *models.Network {
				net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				return net
			}
			steps := int(min(load().Steps(), 300))
			fresh := cpu.New()
			if err := fresh.Load(load()); err != nil {
				t.Fatal(err)
			}
			want := run(fresh, steps)

			// On two threads, so that Reset also remakes the workers
			// (threads give the outputs of one thread).
			e := cpu.New(cpu.WithThreads(2, nil))
			defer e.Close()
			if err := e.Load(load()); err != nil {
				t.Fatal(err)
			}
			run(e, steps/2+7)
			threads := e.Threads()
			if err := e.Reset(); err != nil {
				t.Fatal(err)
			}
			if e.Threads() != threads {
				t.Errorf("threads %d before Reset, %d after", threads, e.Threads())
			}
			if e.Now() != 0 {
				t.Fatalf("after Reset Now() = %d", e.Now())
			}
			got := run(e, steps)
			if !reflect.DeepEqual(got.Spikes, want.Spikes) {
				t.Errorf("spikes after Reset differ from a fresh load: %d vs %d", len(got.Spikes), len(want.Spikes))
			}
			if !reflect.DeepEqual(got.Traces, want.Traces) {
				t.Errorf("traces after Reset differ from a fresh load")
			}
			if len(want.Spikes) == 0 && len(want.Traces) == 0 {
				t.Logf("%s records nothing in %d steps", path, steps)
			}
		})
	}
}

// A population's ring has as many slots as its longest delay: a spike
// routed with that delay lands in the slot its step has just read and
// cleared. Spikes in consecutive steps through delays of one step (a
// ring of one slot) and of three steps (three slots, the longest delay
// landing in the slot just freed) must each arrive once, in their own
// step: V of a LIF (input added to V, no refractory time) follows
// V_s = V_rest + (V_{s-1} - V_rest) P + w [arrival at s].
func TestRingSlotReuse(t *testing.T) {
	src := `version: 1
dt: 0.1
populations:
  src: {model: SpikeGenerator, size: 2, params: {spike_times: [[1.0, 1.1, 1.2, 1.3, 1.6], [1.0, 1.1, 1.2, 1.3, 1.6]]}}
  one: {model: LIF, size: 1, params: {tau_ref: 0.0, V_th: 100.0, V_reset: -70, V_rest: -70}}
  three: {model: LIF, size: 1, params: {tau_ref: 0.0, V_th: 100.0, V_reset: -70, V_rest: -70}}
synapses:
  - {pre: src, post: one, conn: {rule: explicit, pairs: [[0, 0]]}, weight: 1.0, delay: 0.1}
  - {pre: src, post: three, conn: {rule: explicit, pairs: [[0, 0], [1, 0]]}, weight: [1.0, 0.5], delay: [0.3, 0.1]}
monitors:
  - {population: one, record: [V]}
  - {population: three, record: [V]}
`
	_, e := load(t, src)
	if err := e.Advance(30); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	p := math.Exp(-0.1 / 10)
	spikes := []int64{10, 11, 12, 13, 16} // stamps of the generator's spikes
	want := func(inputs map[int64]float64, n int) []float64 {
		v := make([]float64, n)
		v[0] = -70
		for s := 1; s < n; s++ {
			v[s] = -70 + (v[s-1]+70)*p + inputs[int64(s)]
		}
		return v
	}
	one, three := map[int64]float64{}, map[int64]float64{}
	for _, s := range spikes {
		one[s+1] += 1.0
		three[s+3] += 1.0
		three[s+1] += 0.5
	}
	for i, in := range []map[int64]float64{one, three} {
		tr := rec.Traces[i]
		w := want(in, len(tr.Stamps))
		for r, st := range tr.Stamps {
			if math.Abs(tr.Values[r]-w[st]) > 1e-9 {
				t.Errorf("%s: V at stamp %d = %.12g, want %.12g", []string{"one", "three"}[i], st, tr.Values[r], w[st])
			}
		}
	}
}
