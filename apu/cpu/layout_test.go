package cpu_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
)

// Connections are stored as uint16 targets into a population of at most
// 65,536 units and as int32 above, with one weight per entry when all are
// equal: every form must reach the first and the last neuron with its
// own weight and delay, for spikes and for currents.
func TestTargetWidths(t *testing.T) {
	for _, size := range []int{10, 1 << 16, 1<<16 + 1} {
		for _, w := range [][2]float64{{2, 2}, {2, 3}} {
			for _, d := range [][2]int64{{2, 2}, {2, 5}} {
				t.Run(fmt.Sprintf("%d/w%v/d%v", size, w, d), func(t *testing.T) {
					for _, current := range []bool{false, true} {
						checkWidths(t, size, w, d, current)
					}
				})
			}
		}
	}
}

// checkWidths sends one spike at 1.0 ms (stamp 10), or a current of step
// 5 only, to neurons 0 and size-1 of a LIF population that stays at rest
// otherwise, with weights w and delays d (steps), and checks when and by
// how much each neuron's V first moves.
func checkWidths(t *testing.T, size int, w [2]float64, d [2]int64, current bool) {
	last := size - 1
	pre, sent := "{model: SpikeGenerator, size: 1, params: {spike_times: [1.0]}}", int64(10)
	if current {
		// A current of step k moves V at stamp k + 1 + D.
		pre, sent = "{model: DCGenerator, size: 1, params: {amplitude: 100.0, start: 0.5, stop: 0.6}}", 6
	}
	src := fmt.Sprintf(`version: 1
dt: 0.1
populations:
  src: %s
  cells: {model: LIF, size: %d, params: {tau_ref: 0.0, V_th: 100.0, V_reset: -70, V_rest: -70}}
synapses:
  - {pre: src, post: cells, conn: {rule: explicit, pairs: [[0, 0], [0, %d]]}, weight: [%g, %g], delay: [%g, %g]}
monitors:
  - {population: cells, record: [V], neurons: [0, %d]}
`, pre, size, last, w[0], w[1], float64(d[0])/10, float64(d[1])/10, last)
	_, e := load(t, src)
	if err := e.Advance(30); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	tr := rec.Traces[0]
	var jump [2]float64
	for col, n := range []int{0, last} {
		arrived := int64(-1)
		for r, st := range tr.Stamps {
			if dv := tr.Values[r*2+col] + 70; dv > 1e-12 {
				arrived, jump[col] = st, dv
				break
			}
		}
		if want := sent + d[col]; arrived != want {
			t.Errorf("current %v: neuron %d: input arrived at stamp %d, want %d", current, n, arrived, want)
		}
	}
	if !current {
		// A spike moves V by its weight.
		for col, n := range []int{0, last} {
			if math.Abs(jump[col]-w[col]) > 1e-9 {
				t.Errorf("neuron %d: V jumped by %g, want the weight %g", n, jump[col], w[col])
			}
		}
	} else if r := jump[1] / jump[0]; jump[0] <= 0 || math.Abs(r-w[1]/w[0]) > 1e-9 {
		t.Errorf("currents moved V by %g and %g, want the ratio of the weights %g", jump[0], jump[1], w[1]/w[0])
	}
}
