// Package backendtest is the conformance suite of apu.Backend: what any
// backend (the cpu engine now, the fixed-point and APU backends later)
// must do, as seen through the interface only. A backend's tests call
// Run with a function that opens a new, unloaded backend.
//
// The suite checks behaviour, not numbers: a fixed-point backend does
// not give the cpu engine's spikes, but it must give the same spikes for
// a tick's inputs in one Run as step by step, the same run after Reset as
// after a fresh load, and no allocation per tick.
package backendtest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Net is the suite's network: a Poisson source and a DC current into LIF
// neurons, a Bernoulli source, a Custom source and an InputTransmitter,
// with spike and V monitors. Every generator the daemon's commands and
// encoders set is in it.
const Net = `version: 1
dt: 0.1
duration: 20.0
seed: 11
populations:
  noise: {model: PoissonGenerator, size: 8, params: {rate: 400.0}}
  coin: {model: BernoulliGenerator, size: 4, params: {prob: 0.2}}
  drive: {model: DCGenerator, size: 1, params: {amplitude: 0.0}}
  window: {model: CustomGenerator, size: 3, params: {data: [0.0]}}
  in: {model: InputTransmitter, size: 2, params: {inputs_type: current}}
  cells:
    model: LIF
    size: 4
    params: {V_th: -55.0, V_reset: -70.0, tau: 10.0, R: 0.04, tau_ref: 2.0}
synapses:
  - {pre: noise, post: cells, conn: {rule: all_to_all}, weight: 1.5, delay: 1.0}
  - {pre: coin, post: cells, conn: {rule: all_to_all}, weight: 1.0, delay: 1.0}
  - {pre: drive, post: cells, conn: {rule: all_to_all}, weight: 1.0}
  - {pre: window, post: cells, conn: {rule: all_to_all}, weight: 2.0, delay: 1.0}
  - {pre: in, post: cells, conn: {rule: all_to_all}, weight: 1.0}
monitors:
  - population: cells
    record: [spikes, V]
`

// Opener opens a new, unloaded backend.
type Opener func() (apu.Backend, error)

// Run runs the suite against the backends open makes.
func Run(t *testing.T, open Opener) {
	t.Run("LoadAdvanceDrain", func(t *testing.T) { loadAdvanceDrain(t, open) })
	t.Run("TickInputs", func(t *testing.T) { tickInputs(t, open) })
	t.Run("Setters", func(t *testing.T) { setters(t, open) })
	t.Run("State", func(t *testing.T) { state(t, open) })
	t.Run("Errors", func(t *testing.T) { errorClasses(t, open) })
	t.Run("Deterministic", func(t *testing.T) { deterministic(t, open) })
	t.Run("ResetIsFreshLoad", func(t *testing.T) { resetIsFresh(t, open) })
	t.Run("NoAllocPerTick", func(t *testing.T) { noAlloc(t, open) })
	t.Run("Probe", func(t *testing.T) { probe(t, open) })
}

// load loads the suite's network (or src) into a new backend.
func load(t *testing.T, open Opener, src string) apu.Backend {
	t.Helper()
	net, err := models.Load([]byte(src), "backendtest.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	b, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	return b
}

// drive is a tick's inputs: 10 steps, the InputTransmitter's 2 units a
// ramp that makes the cells spike.
func drive(tick int) []apu.Feed {
	v := make([]float64, 10*2)
	for s := range 10 {
		v[2*s] = float64(2000 + 100*((tick+s)%7))
		v[2*s+1] = float64(1500 + 50*s)
	}
	return []apu.Feed{{Pop: "in", Values: v}}
}

// ticks runs n ticks of drive and returns every spike drained.
func ticks(t *testing.T, b apu.Backend, n int) []apu.Spike {
	t.Helper()
	var rec apu.Record
	var all []apu.Spike
	for k := range n {
		if err := b.Run(10, drive(k)); err != nil {
			t.Fatalf("tick %d: %v", k, err)
		}
		b.Drain(&rec)
		all = append(all, rec.Spikes...)
	}
	return all
}

func loadAdvanceDrain(t *testing.T, open Opener) {
	b := load(t, open, Net)
	if b.Now() != 0 {
		t.Fatalf("Now after Load %d, want 0", b.Now())
	}
	var rec apu.Record
	b.Drain(&rec)
	if len(rec.Traces) != 1 || rec.Traces[0].State != "V" || len(rec.Traces[0].Stamps) != 1 || rec.Traces[0].Stamps[0] != 0 {
		t.Fatalf("after Load: want one V trace with the initial row (stamp 0), got %+v", rec.Traces)
	}
	if err := b.Advance(50); err != nil {
		t.Fatal(err)
	}
	if b.Now() != 50 {
		t.Fatalf("Now after Advance(50) %d", b.Now())
	}
	b.Drain(&rec)
	if got := rec.Traces[0].Stamps; len(got) != 50 || got[0] != 1 || got[49] != 50 {
		t.Fatalf("rows of Advance(50): %d, stamps from %v; want 50, stamps 1..50", len(got), got[:min(len(got), 3)])
	}
	spikes := ticks(t, b, 5)
	if b.Now() != 100 {
		t.Fatalf("Now after 5 ticks of 10 %d", b.Now())
	}
	if len(spikes) == 0 {
		t.Fatal("no spike in 10 ms of drive: the inputs did not arrive")
	}
	for _, s := range spikes {
		if s.Stamp <= 50 || s.Stamp > 100 || s.Pop != 5 || s.Neuron < 0 || s.Neuron >= 4 {
			t.Fatalf("spike %+v: want population 5 (cells), unit < 4, stamp in (50, 100]", s)
		}
	}
	b.Drain(&rec)
	if len(rec.Spikes) != 0 || len(rec.Traces[0].Stamps) != 0 {
		t.Fatalf("a second Drain with no step between: %d spikes, %d rows", len(rec.Spikes), len(rec.Traces[0].Stamps))
	}
	if err := b.Advance(3); err != nil {
		t.Fatal(err)
	}
	b.Drain(&rec)
	if got := rec.Traces[0].Stamps; !slices.Equal(got, []int64{101, 102, 103}) {
		t.Fatalf("rows after 3 steps: stamps %v, want [101 102 103]", got)
	}
	if len(rec.Traces[0].Values) != 3*len(rec.Traces[0].Neurons) {
		t.Fatalf("%d values for 3 rows of %d neurons", len(rec.Traces[0].Values), len(rec.Traces[0].Neurons))
	}
}

// A tick's inputs in one Run give what the same inputs step by step give.
func tickInputs(t *testing.T, open Opener) {
	whole := ticks(t, load(t, open, Net), 8)
	b := load(t, open, Net)
	var rec apu.Record
	b.Drain(&rec)
	var steps []apu.Spike
	for k := range 8 {
		f := drive(k)[0]
		for s := range 10 {
			if err := b.Run(1, []apu.Feed{{Pop: "in", Values: f.Values[2*s : 2*s+2]}}); err != nil {
				t.Fatal(err)
			}
		}
		b.Drain(&rec)
		steps = append(steps, rec.Spikes...)
	}
	if len(whole) == 0 || !slices.Equal(whole, steps) {
		t.Fatalf("a tick in one Run: %d spikes; step by step: %d (or they differ)", len(whole), len(steps))
	}
	// No feed: zeros, which is less than the drive.
	quiet := load(t, open, Net)
	if err := quiet.Run(80, nil); err != nil {
		t.Fatal(err)
	}
	quiet.Drain(&rec)
	if len(rec.Spikes) >= len(whole) {
		t.Errorf("without inputs %d spikes, with them %d: the feed made no difference", len(rec.Spikes), len(whole))
	}
}

func setters(t *testing.T, open Opener) {
	count := func(b apu.Backend, n int) int {
		t.Helper()
		var rec apu.Record
		if err := b.Advance(n); err != nil {
			t.Fatal(err)
		}
		b.Drain(&rec)
		return len(rec.Spikes)
	}
	// Everything off but the DC current: the cells spike only when Set
	// turns it on, and stop when Set turns it off.
	b := load(t, open, Net)
	for _, s := range []struct {
		pop string
		s   apu.Setting
	}{{"noise", apu.PoissonRate}, {"coin", apu.BernoulliProb}} {
		if err := b.Set(s.pop, s.s, []float64{0}); err != nil {
			t.Fatalf("Set(%s, %s, 0): %v", s.pop, s.s, err)
		}
	}
	if n := count(b, 100); n != 0 {
		t.Fatalf("generators off: %d spikes", n)
	}
	if err := b.Set("drive", apu.DCAmplitude, []float64{1000}); err != nil {
		t.Fatal(err)
	}
	if n := count(b, 100); n == 0 {
		t.Fatal("DC amplitude 1000 pA set: no spike")
	}
	if err := b.Set("drive", apu.DCAmplitude, []float64{0}); err != nil {
		t.Fatal(err)
	}
	count(b, 50) // the last refractory spikes fade
	if n := count(b, 100); n != 0 {
		t.Fatalf("DC amplitude back to 0: %d spikes", n)
	}
	// Custom rows: from the next step on, zeros after the last row.
	rows := make([]float64, 30*3)
	for i := range rows {
		rows[i] = 30
	}
	if err := b.Set("window", apu.CustomRows, rows); err != nil {
		t.Fatal(err)
	}
	if n := count(b, 40); n == 0 {
		t.Fatal("custom rows of 30 for 30 steps: no spike")
	}
	count(b, 50)
	if n := count(b, 100); n != 0 {
		t.Fatalf("after the custom rows ran out: %d spikes", n)
	}
	// Per-unit values, and the Poisson rate back on.
	if err := b.Set("noise", apu.PoissonRate, []float64{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}); err != nil {
		t.Fatal(err)
	}
	if n := count(b, 100); n == 0 {
		t.Fatal("Poisson rate 5000 Hz per unit: no spike")
	}
	// Refusals name what is wrong, change nothing, and are not the
	// network's or the link's fault.
	for _, c := range []struct {
		pop string
		s   apu.Setting
		v   []float64
	}{
		{"nowhere", apu.DCAmplitude, []float64{1}},
		{"noise", apu.DCAmplitude, []float64{1}},
		{"cells", apu.PoissonRate, []float64{1}},
		{"coin", apu.BernoulliProb, []float64{2}},
		{"noise", apu.PoissonRate, []float64{1, 2, 3}},
		{"window", apu.CustomRows, []float64{1, 2}},
		{"window", apu.CustomRows, []float64{1, -2, 3}},
		{"drive", apu.Setting(0), []float64{1}},
	} {
		err := b.Set(c.pop, c.s, c.v)
		if err == nil {
			t.Errorf("Set(%s, %s, %v) accepted", c.pop, c.s, c.v)
			continue
		}
		if errors.Is(err, apu.ErrDiverged) || errors.Is(err, apu.ErrLink) {
			t.Errorf("Set(%s, %s, %v): %v is classed as the network's or the link's", c.pop, c.s, c.v, err)
		}
	}
}

// State reads what the V monitor records at the same step.
func state(t *testing.T, open Opener) {
	b := load(t, open, Net)
	var rec apu.Record
	ticks(t, b, 3)
	if err := b.Advance(1); err != nil {
		t.Fatal(err)
	}
	b.Drain(&rec)
	tr := rec.Traces[0]
	last := tr.Values[len(tr.Values)-len(tr.Neurons):]
	dst := make([]float64, 0, 8)
	got, err := b.State("cells", "V", tr.Neurons, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, last) {
		t.Fatalf("State(cells, V) %v, the monitor's row at the same step %v", got, last)
	}
	got, err = b.State("cells", "V", []int{3, 0}, got)
	if err != nil || len(got) != 2 || got[0] != last[3] || got[1] != last[0] {
		t.Fatalf("State for units [3 0]: %v, %v; want [%g %g]", got, err, last[3], last[0])
	}
	if a := testing.AllocsPerRun(50, func() { got, _ = b.State("cells", "V", tr.Neurons, got) }); a != 0 {
		t.Errorf("State with capacity: %v allocations", a)
	}
	for _, c := range []struct {
		pop, st string
		units   []int
	}{{"nowhere", "V", []int{0}}, {"cells", "nothing", []int{0}}, {"cells", "V", []int{4}}, {"cells", "V", []int{-1}}} {
		if _, err := b.State(c.pop, c.st, c.units, nil); err == nil {
			t.Errorf("State(%s, %s, %v) accepted", c.pop, c.st, c.units)
		}
	}
}

func errorClasses(t *testing.T, open Opener) {
	b := load(t, open, Net)
	now := b.Now()
	for _, f := range [][]apu.Feed{
		{{Pop: "nowhere", Values: make([]float64, 20)}},
		{{Pop: "cells", Values: make([]float64, 40)}},
		{{Pop: "in", Values: make([]float64, 19)}},
		{{Pop: "in", Values: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, nan()}}},
	} {
		err := b.Run(10, f)
		if err == nil {
			t.Errorf("Run(10, %s with %d values) accepted", f[0].Pop, len(f[0].Values))
			continue
		}
		if errors.Is(err, apu.ErrDiverged) || errors.Is(err, apu.ErrLink) {
			t.Errorf("refused input %v classed as the network's or the link's", err)
		}
	}
	// The NaN is in the last step: the earlier steps of a refused
	// Run may have run; nothing past the refusal did.
	if b.Now() > now+9 {
		t.Errorf("Now %d after refused Runs from %d", b.Now(), now)
	}
	// A current too large for float64 makes V infinite: the network
	// diverged, every later step says so. A backend that cannot hold the
	// network refuses it at Load (apu.ErrUnsupported): the fixed-point
	// one, whose weights stop at 32767 and whose states saturate (and
	// are counted) instead of diverging.
	net, err := models.Load([]byte(divergent), "divergent.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.Load(net); errors.Is(err, apu.ErrUnsupported) {
		t.Logf("divergence not checked: the backend refuses the network that would diverge: %v", err)
		return
	} else if err != nil {
		t.Fatal(err)
	}
	if err := b.Set("drive", apu.DCAmplitude, []float64{1e300}); err != nil {
		t.Fatal(err)
	}
	err = b.Advance(1000)
	if !errors.Is(err, apu.ErrDiverged) || errors.Is(err, apu.ErrLink) {
		t.Fatalf("V driven to infinity: %v, want ErrDiverged only", err)
	}
	if again := b.Run(10, drive(0)); !errors.Is(again, apu.ErrDiverged) {
		t.Fatalf("Run after divergence: %v, want the error again", again)
	}
}

// divergent is a network whose state can be driven to infinity: an
// Izhikevich neuron (v' grows with v squared) under a DC current.
const divergent = `version: 1
dt: 0.1
populations:
  drive: {model: DCGenerator, size: 1, params: {amplitude: 0.0}}
  iz: {model: Izhikevich, size: 1}
synapses:
  - {pre: drive, post: iz, conn: {rule: all_to_all}, weight: 1.0e300}
`

func nan() float64 { var z float64; return z / z }

func deterministic(t *testing.T, open Opener) {
	a := ticks(t, load(t, open, Net), 20)
	b := ticks(t, load(t, open, Net), 20)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("two loads of one seed: %d and %d spikes (or they differ)", len(a), len(b))
	}
	other := ticks(t, load(t, open, changeSeed(Net)), 20)
	if slices.Equal(a, other) {
		t.Error("another seed gave the same spikes: the seed reaches nothing")
	}
}

func changeSeed(src string) string { return strings.Replace(src, "seed: 11", "seed: 12", 1) }

// Reset gives what a fresh load gives: settings, state, streams, Now.
func resetIsFresh(t *testing.T, open Opener) {
	fresh := ticks(t, load(t, open, Net), 20)
	b := load(t, open, Net)
	ticks(t, b, 7)
	if err := b.Set("drive", apu.DCAmplitude, []float64{800}); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("window", apu.CustomRows, []float64{5, 5, 5}); err != nil {
		t.Fatal(err)
	}
	ticks(t, b, 3)
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	if b.Now() != 0 {
		t.Fatalf("Now after Reset %d", b.Now())
	}
	var rec apu.Record
	b.Drain(&rec)
	if len(rec.Spikes) != 0 || len(rec.Traces[0].Stamps) != 1 || rec.Traces[0].Stamps[0] != 0 {
		t.Fatalf("Drain after Reset: %d spikes, stamps %v; want none and the initial row", len(rec.Spikes), rec.Traces[0].Stamps)
	}
	if got := ticks(t, b, 20); !slices.Equal(got, fresh) {
		t.Fatalf("after Reset %d spikes, a fresh load %d (or they differ)", len(got), len(fresh))
	}
}

// A tick (Set, Run with inputs, Drain, State) allocates nothing once
// the buffers have grown.
func noAlloc(t *testing.T, open Opener) {
	b := load(t, open, Net)
	feeds := drive(0)
	amp := []float64{300}
	rows := []float64{1, 1, 1, 2, 2, 2}
	var rec apu.Record
	var v []float64
	units := []int{0, 1}
	tick := func() {
		if err := b.Set("drive", apu.DCAmplitude, amp); err != nil {
			t.Fatal(err)
		}
		if err := b.Set("window", apu.CustomRows, rows); err != nil {
			t.Fatal(err)
		}
		if err := b.Run(10, feeds); err != nil {
			t.Fatal(err)
		}
		b.Drain(&rec)
		v, _ = b.State("cells", "V", units, v)
	}
	for range 200 {
		tick()
	}
	if a := testing.AllocsPerRun(200, tick); a != 0 {
		t.Errorf("%v allocations per tick in steady state, want 0", a)
	}
}

func probe(t *testing.T, open Opener) {
	net, err := models.Load([]byte(Net), "backendtest.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	b, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := b.Probe(net)
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend == "" || p.Memory <= 0 {
		t.Errorf("Probe: %+v; want the backend's name and the memory it needs", p)
	}
	if p.MaxNeurons > 0 && p.MaxNeurons < 21 {
		t.Errorf("Probe: runs at most %d units, the suite's network has 21", p.MaxNeurons)
	}
	// Probe loads nothing: a Load after it works.
	if err := b.Load(net); err != nil {
		t.Fatalf("Load after Probe: %v", err)
	}
}
