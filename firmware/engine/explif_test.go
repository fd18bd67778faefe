package engine

import (
	"math"
	"math/rand/v2"
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

// TestExpLIFPaths: the ExpLIF loops (two ports with factors in [0, 1],
// with one I_e for all or not, and without; any other port count) against the update written out
// from image.go's text with the package's rounding (mul, sat), on random
// and extreme states, inputs and factors (negative and above 1 too):
// the same potentials, currents, counters, saturation counts and spikes.
func TestExpLIFPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	i32 := func() int32 {
		switch rng.IntN(5) {
		case 0:
			return math.MaxInt32
		case 1:
			return math.MinInt32
		case 2:
			return int32(rng.IntN(1<<20) - 1<<19)
		}
		return int32(rng.Uint32())
	}
	for _, ports := range []int{1, 2, 3} {
		for _, variant := range []int{0, 1, 2} {
			unit, flat := variant > 0, variant == 2
			const n = 500
			coefs := make([]image.Coef, image.ExpLIFCoefs(ports))
			for j := range coefs {
				if unit {
					coefs[j] = image.Coef{M: int32(rng.IntN(1 << 30)), Shift: uint8(30 + rng.IntN(20))}
				} else {
					coefs[j] = image.Coef{M: int32(rng.Uint32()), Shift: uint8(rng.IntN(40))}
				}
			}
			unitRows := make([][]int32, image.ExpLIFUnits(ports))
			for r := range unitRows {
				unitRows[r] = make([]int32, n)
				for i := range unitRows[r] {
					unitRows[r][i] = i32()
				}
			}
			if flat { // one I_e for all
				for i := range unitRows[image.ExpLIFIe] {
					unitRows[image.ExpLIFIe][i] = unitRows[image.ExpLIFIe][0]
				}
			}
			p := image.Pop{Kind: image.KindExpLIF, Ports: uint8(ports), Size: n, RefSteps: 2, Coefs: coefs,
				Consts: []int32{i32(), i32()}, Unit: unitRows}
			e := mustNew(t, &image.Image{Version: image.Version, Pops: []image.Pop{p}})
			pp := &e.pops[0]
			for i := range pp.ref {
				pp.ref[i] = int32(rng.IntN(3))
			}
			for k := 0; k < 4; k++ {
				// Inputs for this step: a spike ring row per port and a current row.
				pp.wRing = make([]int32, ports*n)
				pp.wDirty = make([]bool, ports)
				pp.ringLen = 1
				for r := 0; r < ports; r++ {
					if rng.IntN(3) > 0 {
						pp.wDirty[r] = true
						for i := 0; i < n; i++ {
							pp.wRing[r*n+i] = i32()
						}
					}
				}
				var cur []int32
				if k%2 == 1 {
					cur = make([]int32, n)
					for i := range cur {
						cur[i] = i32()
					}
				}
				// The reference, from the state before the step.
				y := append([]int32(nil), pp.st[:n]...)
				cs := make([][]int32, ports)
				for r := range cs {
					cs[r] = append([]int32(nil), pp.st[(1+r)*n:(2+r)*n]...)
				}
				ref := append([]int32(nil), pp.ref...)
				var ns uint64
				var spikes []uint32
				for i := 0; i < n; i++ {
					if ref[i] > 0 {
						ref[i]--
					} else {
						in := pp.par[image.ExpLIFIe][i]
						if cur != nil {
							in = sat(int64(in)+int64(cur[i]), &ns)
						}
						v := int64(mul(coefs[image.ExpLIFP22], y[i], &ns)) + int64(mul(coefs[image.ExpLIFP20], in, &ns))
						for r := 0; r < ports; r++ {
							v += int64(mul(coefs[image.ExpLIFPort+2*r+1], cs[r][i], &ns))
						}
						y[i] = sat(v, &ns)
					}
					for r := 0; r < ports; r++ {
						v := int64(mul(coefs[image.ExpLIFPort+2*r], cs[r][i], &ns))
						if pp.wDirty[r] {
							v += int64(pp.wRing[r*n+i])
						}
						cs[r][i] = sat(v, &ns)
					}
					if y[i] >= p.Consts[image.ExpLIFTh] {
						y[i] = p.Consts[image.ExpLIFReset]
						ref[i] = 2
						spikes = append(spikes, uint32(i))
					}
				}
				sat0 := pp.sat
				pp.spiked = pp.spiked[:0]
				stepExpLIF(e, pp, 0, cur)
				for i := 0; i < n; i++ {
					if pp.st[i] != y[i] || pp.ref[i] != ref[i] {
						t.Fatalf("ports %d unit %v step %d neuron %d: y %d ref %d, want %d %d", ports, unit, k, i, pp.st[i], pp.ref[i], y[i], ref[i])
					}
					for r := 0; r < ports; r++ {
						if got := pp.st[(1+r)*n+i]; got != cs[r][i] {
							t.Fatalf("ports %d unit %v step %d neuron %d: I_%d %d, want %d", ports, unit, k, i, r, got, cs[r][i])
						}
					}
				}
				if pp.sat-sat0 != ns || len(pp.spiked) != len(spikes) {
					t.Fatalf("ports %d unit %v step %d: %d saturations, %d spikes; want %d, %d", ports, unit, k, pp.sat-sat0, len(pp.spiked), ns, len(spikes))
				}
			}
		}
	}
}
