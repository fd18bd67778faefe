package engine

import (
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// izhFloat is NEST's izhikevich Euler step in float64 with the same
// (quantized) coefficients the image holds, so that the two differ only
// by the engine's rounding of each term to 2^-16.
type izhFloat struct{ a, b, h, ha, bu, c, th, reset, d, ie float64 }

func (m izhFloat) step(v, u float64) (float64, float64, bool) {
	nv := v + m.a*v*v + m.b*v + m.c + m.h*(m.ie-u)
	nu := u + m.ha*(m.bu*v-u)
	if nv >= m.th {
		return m.reset, nu + m.d, true
	}
	return nv, nu, false
}

// TestIzhikevichAgainstFloat: regular spiking (a 0.02, b 0.2, c -65,
// d 8) and chattering (c -50, d 2) at dt 0.1 ms and three currents, 2000
// steps each. Every spike of the fixed-point run has the same stamp as
// the float64 run's. The engine rounds each term to 2^-16 (half an LSB
// each); u forgets an error at the rate h·a = 0.002 per step, so its
// rounding errors add up over ~1/(h·a) steps: |du| <= 2 LSB/(h·a) =
// 0.015. V follows u below the upstroke: |dV| <= 0.05 mV while V < -40
// mV (worst seen 0.038 mV, chattering). On the upstroke the Euler map
// expands the error by up to (1 + h(0.08·V + 5)) per step, so there the
// difference is only printed (0.35 mV at most, one step before a spike
// whose stamp agrees).
func TestIzhikevichAgainstFloat(t *testing.T) {
	const dt = 0.1
	for _, tc := range []struct{ c, d, ie float64 }{{-65, 8, 5}, {-65, 8, 10}, {-65, 8, 14}, {-50, 2, 10}} {
		coefs := []image.Coef{coef(dt * 0.04), coef(dt * 5), coef(dt), coef(dt * 0.02), coef(0.2)}
		pop := image.Pop{Kind: image.KindIzhikevich, Ports: 1, Size: 1, Coefs: coefs,
			Consts: []int32{q(dt * 140), q(30), q(tc.c), q(tc.d)},
			Unit:   [][]int32{{q(tc.ie)}, {q(-65)}, {q(-13)}}}
		img := &image.Image{Version: image.Version, Pops: []image.Pop{pop},
			Monitors: []image.Monitor{{Pop: 0, Spikes: true, Every: 1}}}
		e := mustNew(t, img)
		m := izhFloat{a: coefVal(coefs[0]), b: coefVal(coefs[1]), h: coefVal(coefs[2]), ha: coefVal(coefs[3]), bu: coefVal(coefs[4]),
			c: float64(q(dt*140)) / 65536, th: 30, reset: float64(q(tc.c)) / 65536, d: float64(q(tc.d)) / 65536, ie: float64(q(tc.ie)) / 65536}
		v, u := -65.0, float64(q(-13))/65536
		var fs, gs []int64
		worstV, worstU, upV := 0.0, 0.0, 0.0
		var buf []Spike
		for k := int64(0); k < 2000; k++ {
			var sp bool
			v, u, sp = m.step(v, u)
			if sp {
				fs = append(fs, k+1)
			}
			e.Step()
			buf = e.DrainSpikes(buf[:0])
			for _, s := range buf {
				gs = append(gs, s.Stamp)
			}
			if v < -40 {
				worstV = max(worstV, math.Abs(float64(e.State(0, 0)[0])/65536-v))
			}
			upV = max(upV, math.Abs(float64(e.State(0, 0)[0])/65536-v))
			worstU = max(worstU, math.Abs(float64(e.State(0, 1)[0])/65536-u))
		}
		if len(fs) < 3 {
			t.Fatalf("%+v: only %d float spikes; the case tests nothing", tc, len(fs))
		}
		if len(fs) != len(gs) {
			t.Fatalf("%+v: fixed spikes %v, float %v", tc, gs, fs)
		}
		for i := range fs {
			if fs[i] != gs[i] {
				t.Fatalf("%+v: spike %d at %d, float %d", tc, i, gs[i], fs[i])
			}
		}
		if worstV > 0.05 || worstU > 2.0/65536/(dt*0.02) {
			t.Errorf("%+v: worst |dV| %.3g mV below -40 mV, |du| %.3g", tc, worstV, worstU)
		}
		t.Logf("%+v: %d spikes, same stamps; worst |dV| %.3g mV below -40 mV, %.3g on the upstroke, |du| %.3g", tc, len(fs), worstV, upV, worstU)
	}
}
