package engine

import (
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// TestExpLIFAgainstFloat: one iaf_psc_exp neuron with two ports (tau_syn
// 2 and 5 ms), driven by I_e and by excitatory and inhibitory spike
// trains for 3000 steps, each step checked against the exact-propagator
// update in float64 with the image's (quantized) coefficients, started
// from the engine's own state of the step before (a pushed trajectory):
// the only difference is rounding, at most 1/2 LSB per product, so y
// (four products) is within 2 LSB and each current (one product; the
// weights arrive exactly) within 1/2 LSB. The spike decision is the
// float one's wherever the float y is more than 2 LSB from the
// threshold, and the refractory steps hold y exactly.
func TestExpLIFAgainstFloat(t *testing.T) {
	const dt, tau, r, th = 0.1, 10.0, 0.04, 15.0
	cm := tau / r
	p22 := math.Exp(-dt / tau)
	var p11, p21 [2]float64
	taus := [2]float64{2, 5}
	for i, ts := range taus {
		p11[i] = math.Exp(-dt / ts)
		p21[i] = ts * tau / (tau - ts) / cm * math.Exp(-dt/ts) * math.Expm1(dt*(tau-ts)/(ts*tau))
	}
	coefs := []image.Coef{coef(p22), coef(r * (1 - p22)), coef(p11[0]), coef(p21[0]), coef(p11[1]), coef(p21[1])}
	var steps []int64
	var vals []int32
	var offs = []uint32{0}
	for u := 0; u < 2; u++ {
		for k := int64(3 + 7*u); k < 3000; k += int64(11 + 6*u) {
			steps = append(steps, k)
			vals = append(vals, One)
		}
		offs = append(offs, uint32(len(steps)))
	}
	gen := image.Pop{Kind: image.KindSpike, Size: 2, SpikeOff: offs, SpikeStep: steps, SpikeVal: vals}
	n := image.Pop{Kind: image.KindExpLIF, Ports: 2, Size: 1, RefSteps: 20, Coefs: coefs,
		Consts: []int32{q(th), 0},
		Unit:   [][]int32{{q(360)}, {0}, {0}, {0}}}
	exc := image.Synapse{Pre: 0, Post: 1, Port: 0, Shift: 8, Off: []uint32{0, 1, 1}, Target: []uint32{0}, Weight: []int16{20000}, Delay: []uint16{1}}
	inh := image.Synapse{Pre: 0, Post: 1, Port: 1, Shift: 8, Off: []uint32{0, 0, 1}, Target: []uint32{0}, Weight: []int16{-9000}, Delay: []uint16{2}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{gen, n}, Synapses: []image.Synapse{exc, inh},
		Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}}}
	e := mustNew(t, img)
	c := make([]float64, len(coefs))
	for i := range coefs {
		c[i] = coefVal(coefs[i])
	}
	w := [2]float64{20000 * 256 / 65536.0, -9000 * 256 / 65536.0}
	delay := [2]int64{1, 2}
	arrive := func(port int, k int64) bool { // a spike of unit port arrives in step k
		for j := offs[port]; j < offs[port+1]; j++ {
			if steps[j]+delay[port] == k {
				return true
			}
		}
		return false
	}
	lsb := 1.0 / 65536
	ie := float64(q(360)) / 65536
	val := func(i int) float64 { return float64(e.State(1, i)[0]) / 65536 }
	var buf []Spike
	spikes, worstY, worstI := 0, 0.0, 0.0
	for k := int64(0); k < 3000; k++ {
		y, is := val(0), [2]float64{val(1), val(2)}
		refractory := e.pops[1].ref[0] > 0
		if !refractory {
			y = c[0]*y + c[3]*is[0] + c[5]*is[1] + c[1]*ie
		}
		for p := range is {
			is[p] *= c[2+2*p]
			if arrive(p, k) {
				is[p] += w[p]
			}
		}
		e.Step()
		buf = e.DrainSpikes(buf[:0])
		spiked := len(buf) == 1 && buf[0].Stamp == k+1
		spikes += len(buf)
		if math.Abs(y-th) > 2*lsb && spiked != (y >= th) {
			t.Fatalf("step %d: spiked %v, float y %.6f", k, spiked, y)
		}
		switch {
		case refractory && !spiked && val(0) != 0:
			t.Fatalf("step %d: refractory y %v, want the reset value 0", k, val(0))
		case !spiked:
			worstY = max(worstY, math.Abs(val(0)-y))
		}
		for p := range is {
			worstI = max(worstI, math.Abs(val(1+p)-is[p]))
		}
	}
	if spikes < 5 {
		t.Fatalf("%d spikes: the example tests no spike", spikes)
	}
	if worstY > 2*lsb || worstI > 0.5*lsb {
		t.Errorf("worst one-step |dy| %.3g LSB (bound 2), |dI| %.3g LSB (bound 1/2)", worstY/lsb, worstI/lsb)
	}
	t.Logf("%d spikes; worst one-step |dy| %.3g LSB, |dI| %.3g LSB", spikes, worstY/lsb, worstI/lsb)
}
