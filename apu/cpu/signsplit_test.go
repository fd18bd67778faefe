package cpu_test

import (
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
)

// HHPSC splits its spike input by weight sign, not by receptor (docs/models/hh.md):
// in one synapse entry with mixed weights, and with an excitatory and
// an inhibitory spike arriving in the same step, w > 0 must reach
// dI_syn_e (scaled by e/tau_syn_e) and w <= 0 dI_syn_i, without cancelling.
func TestHHPSCSignSplit(t *testing.T) {
	src := `version: 1
dt: 0.1
populations:
  src: {model: SpikeGenerator, size: 2, params: {spike_times: [[1.0], [1.0]]}}
  cells: {model: HHPSC, size: 1, params: {tau_syn_e: 0.5, tau_syn_i: 4.0}}
synapses:
  - {pre: src, post: cells, conn: {rule: all_to_all}, weight: [30.0, -20.0], delay: [0.5, 0.5]}
monitors:
  - {population: cells, record: [dI_syn_e, dI_syn_i]}
`
	_, e := load(t, src)
	if err := e.Advance(15); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	de, di := rec.Traces[0], rec.Traces[1]
	// Stamp 10 + D 5 = 15: the jump is in the state reported at t = 1.5 ms.
	last := len(de.Stamps) - 1
	if de.Stamps[last] != 15 || de.Values[last-1] != 0 || di.Values[last-1] != 0 {
		t.Fatalf("input arrived early: stamps %v, dI_e %v, dI_i %v", de.Stamps, de.Values, di.Values)
	}
	if got, want := de.Values[last], math.E/0.5*30; math.Abs(got-want) > 1e-12 {
		t.Errorf("dI_syn_e after arrival = %g, want e/tau_syn_e*30 = %g", got, want)
	}
	if got, want := di.Values[last], math.E/4.0*-20; math.Abs(got-want) > 1e-12 {
		t.Errorf("dI_syn_i after arrival = %g, want e/tau_syn_i*(-20) = %g", got, want)
	}
}
