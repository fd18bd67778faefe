package cpu

import (
	"fmt"
	"strings"
)

// The benchmark networks, as network-file text: the apu/cpu benchmarks
// and "spikeloop bench engine" run the same ones.

// LIF100kSource is examples/lif100k.yaml: n independent LIF neurons
// (NEST iaf_psc_delta defaults) driven just above rheobase by I_e 376 pA,
// V starting on a ramp over [-70, -55), spikes recorded.
func LIF100kSource(n int) string {
	return fmt.Sprintf(`version: 1
dt: 0.1
duration: 1000.0
populations:
  cells:
    model: LIF
    size: %d
    params: {V_th: -55.0, V_reset: -70.0, V_rest: -70.0, R: 0.04, tau: 10.0, tau_ref: 2.0, I_e: 376.0}
    init:
      V: {dist: ramp, low: -70.0, high: -55.0}
monitors:
  - population: cells
    record: [spikes]
`, n)
}

// CUBASource is examples/cuba.yaml (Vogels and Abbott's CUBA) with n
// neurons, 4:1 excitatory to inhibitory, and p = 80/n, so that each
// neuron keeps 80 inputs whatever n. A network of n >= 44,722 needs
// models.Limits.MaxPairs lifted (fixed_prob looks at every pair).
func CUBASource(n int) string {
	ne, ni := n*4/5, n/5
	p := 80.0 / float64(n)
	cell := `{tau: 20.0, R: 0.08, V_rest: -49.0, V_th: -50.0, V_reset: -60.0, tau_ref: 5.0, tau_syn: [5.0, 10.0]}`
	return fmt.Sprintf(`version: 1
dt: 0.1
duration: 1000.0
seed: 1
populations:
  exc: {model: ExpLIF, size: %d, params: %s, init: {V: {dist: uniform, low: -60.0, high: -50.0}}}
  inh: {model: ExpLIF, size: %d, params: %s, init: {V: {dist: uniform, low: -60.0, high: -50.0}}}
synapses:
  - {pre: exc, post: exc, conn: {rule: fixed_prob, p: %[5]g}, weight: 20.25, delay: 0.1, receptor: 0}
  - {pre: exc, post: inh, conn: {rule: fixed_prob, p: %[5]g}, weight: 20.25, delay: 0.1, receptor: 0}
  - {pre: inh, post: exc, conn: {rule: fixed_prob, p: %[5]g}, weight: -112.5, delay: 0.1, receptor: 1}
  - {pre: inh, post: inh, conn: {rule: fixed_prob, p: %[5]g}, weight: -112.5, delay: 0.1, receptor: 1}
monitors:
  - {population: exc, record: [spikes]}
  - {population: inh, record: [spikes]}
`, ne, cell, ni, cell, p)
}

// HHSource is HH1000: n HHPSC neurons with NEST hh_psc_alpha's defaults
// (tau_ref 2.0 ms), V(0) = -65 mV with steady-state gates, I_e a ramp
// from 800 to 1200 pA across the neurons, no synapses.
func HHSource(n int, method string, dt float64) string {
	ie := make([]string, n)
	for i := range ie {
		ie[i] = fmt.Sprint(800 + 400*float64(i)/float64(max(n-1, 1)))
	}
	return fmt.Sprintf(`version: 1
dt: %g
duration: 1000.0
populations:
  cells:
    model: HHPSC
    size: %d
    params: {tau_ref: 2.0, v_init: -65.0, method: %s, I_e: [%s]}
monitors:
  - {population: cells, record: [spikes]}
`, dt, n, method, strings.Join(ie, ", "))
}
