package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// hhExact: on a CPU without FMA, hhFMA rounds twice and the compiler
// does not fuse (but with GOAMD64=v3, which needs FMA): the kernel is
// the generic solver's numbers (rkfULPs).
var hhExact = !hhFused

// hhInvRootsAVX does rkfInvRoot5's and rkfInvRoot6's operations on four
// lanes: the same numbers, over the ranges rkfControl takes them and
// beyond.
func TestInvRoot4(t *testing.T) {
	if !hhSIMD {
		t.Skip("no AVX2 and FMA on this CPU: the vector kernel is not used")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var r [4]float64
		for j := range r {
			// log-uniform from 1e-12 to 1e12, and the control's ranges
			r[j] = math.Pow(10, -12+24*rng.Float64())
			if i%2 == 0 {
				r[j] = rkfGrowCap + (0.5-rkfGrowCap)*rng.Float64()
			}
			if i%4 == 1 {
				r[j] = 1.1 + (rkfShrinkCap-1.1)*rng.Float64()
			}
		}
		var got5, got6 [4]float64
		hhInvRootsAVX(&hhVK, &r, &got5, &got6)
		for j := range r {
			if got5[j] != rkfInvRoot5(r[j]) || got6[j] != rkfInvRoot6(r[j]) {
				t.Fatalf("r %g: 1/5: %.17g in the vector, %.17g scalar; 1/6: %.17g, %.17g", r[j], got5[j], rkfInvRoot5(r[j]), got6[j], rkfInvRoot6(r[j]))
			}
		}
	}
}

// The assembly kernel computes, for every lane of the groups it is
// given, the numbers the scalar code does (evalLanes, args, sums and
// roots with hhFMA fused), bit for bit: each stage's argument and
// derivatives, for HH's four components and HHPSC's eight, and the
// 5th-order sums, error norm, rmax and roots; and it leaves to the scalar
// code exactly the groups with a lane that core's range tests send to
// math.Exp or hhAlpha's series. Random states, stage values and step
// sizes, many of them outside the range or near the singularities.
func TestHHVecMatchesScalar(t *testing.T) {
	if !hhSIMD {
		t.Skip("no AVX2 and FMA on this CPU: the vector kernel is not used")
	}
	n := bioNeuron(t, 0.1, "HHPSC", 4, "").(*HH)
	rng := rand.New(rand.NewPCG(3, 4))
	var failedSeen, passedSeen, roots5, roots6 int
	for _, base := range []*hhRKF{n.rkf, n.rkfCore} {
		dim := base.dim()
		for trial := range 3000 {
			k := *base
			randomLanes(rng, &k, trial)
			groups := uint(1 + rng.IntN(15))
			var lanes []int32
			for l := range int32(odeBlock) {
				if groups>>(l/4)&1 != 0 {
					lanes = append(lanes, l)
				}
			}
			for s := range 6 {
				vec, sc := k, k
				failed := hhStageAVX(&vec, &hhVK, s, groups)
				sc.stageScalar(s, lanes)
				src := &sc.y
				if s > 0 {
					src = &sc.tmp
				}
				for _, l := range lanes {
					g := l / 4
					if s > 0 {
						for c := range dim {
							same(t, "argument", s, c, l, vec.tmp[c][l], sc.tmp[c][l])
						}
					}
					if want := !vecRange(src[hhV][g*4 : g*4+4]); want != (failed>>g&1 != 0) {
						t.Fatalf("stage %d lane %d: V %v: failed %b", s, l, src[hhV][g*4:g*4+4], failed)
					}
					if failed>>g&1 != 0 {
						failedSeen++
						continue
					}
					passedSeen++
					for c := range dim {
						same(t, "derivative", s, c, l, vec.ks[s][c][l], sc.ks[s][c][l])
					}
				}
				// stageVec with the scalar code for the failed groups.
				vec = k
				vec.stageVec(s, groups)
				for _, l := range lanes {
					for c := range dim {
						same(t, "stageVec's derivative", s, c, l, vec.ks[s][c][l], sc.ks[s][c][l])
					}
				}
				k.tmp, k.ks[s] = sc.tmp, sc.ks[s] // the later stages' input
			}
			vec, sc := k, k
			vec.sumsVec(groups, dim)
			sc.sums(lanes, dim)
			sc.roots(lanes)
			for _, l := range lanes {
				for c := range dim {
					same(t, "ynew", 6, c, l, vec.ynew[c][l], sc.ynew[c][l])
				}
				same(t, "emax", 6, 0, l, vec.emax[l], sc.emax[l])
				same(t, "rmax", 6, 0, l, vec.rmax[l], sc.rmax[l])
				if r := sc.rmax[l]; r > 1.1 && r < rkfShrinkCap {
					roots5++
					same(t, "inv5", 6, 0, l, vec.inv5[l], sc.inv5[l])
				} else if r < 0.5 && r > rkfGrowCap {
					roots6++
					same(t, "inv6", 6, 0, l, vec.inv6[l], sc.inv6[l])
				}
			}
		}
	}
	t.Logf("lanes in groups the kernel computed: %d; left to the scalar code: %d; roots 1/5: %d, 1/6: %d", passedSeen, failedSeen, roots5, roots6)
	if failedSeen < 1000 || passedSeen < 10000 || roots5 < 1000 || roots6 < 1000 {
		t.Errorf("the random lanes did not cover each case")
	}
}

// vecRange is core's range tests for the four V of a group: all within
// hhExpPoly's range and away from alpha's singularities.
func vecRange(v []float64) bool {
	for _, x := range v {
		a := (x + 65) * (-1.0 / 720)
		sm, sn := (x+40)*0.1, (x+55)*0.1
		if !(a >= hhExpLo && a <= hhExpHi) || !(sm*sm >= 1e-4) || !(sn*sn >= 1e-4) {
			return false
		}
	}
	return true
}

// randomLanes fills k's state, stages, step sizes and inputs at random:
// V mostly in the range where the kernel computes, some lanes beyond it
// or within 0.1 mV of -40 or -55 mV; the stages scaled by a random
// power of ten, so that the error norms fall in each of the step
// control's branches.
func randomLanes(rng *rand.Rand, k *hhRKF, trial int) {
	scale := math.Pow(10, -7+8*rng.Float64())
	mag := [8]float64{100, 1, 1, 1, 1000, 1000, 1000, 1000}
	for l := range odeBlock {
		v := -90 + 150*rng.Float64()
		switch rng.IntN(40) {
		case 0:
			v = -40 + 0.1*(rng.Float64()-0.5)
		case 1:
			v = -55 + 0.1*(rng.Float64()-0.5)
		case 2:
			v = -130 + 35*rng.Float64()
		case 3:
			v = 64 + 40*rng.Float64()
		}
		k.y[hhV][l] = v
		for c := 1; c < 8; c++ {
			k.y[c][l] = rng.Float64()
			if c >= 4 {
				k.y[c][l] = 2000*rng.Float64() - 1000
				if trial%3 == 0 {
					k.y[c][l] = 0 // HHPSC without synaptic current
				}
			}
		}
		for s := range k.ks {
			for c := range k.ks[s] {
				k.ks[s][c][l] = scale * mag[c] * rng.NormFloat64()
			}
		}
		k.hs[l] = 0.1 * rng.Float64()
		k.in[l] = 1500 * rng.Float64()
	}
}

func same(t *testing.T, what string, s, c int, l int32, vec, scalar float64) {
	t.Helper()
	if math.Float64bits(vec) != math.Float64bits(scalar) {
		t.Fatalf("stage %d component %d lane %d: %s %.17g in the assembly, %.17g scalar", s, c, l, what, vec, scalar)
	}
}

// A run of the vector kernel and one of the scalar kernel are the same
// numbers, bit for bit, step after step: HH and HHPSC, with current input
// and spike input of both signs (HHPSC's blocks then mix lanes with and
// without synaptic current).
func TestHHVecRunMatchesScalar(t *testing.T) {
	if !hhSIMD {
		t.Skip("no AVX2 and FMA on this CPU: the vector kernel is not used")
	}
	defer func(on bool) { hhSIMD = on }(hhSIMD)
	const size = 2*odeBlock + 7
	for _, model := range []string{"HH", "HHPSC"} {
		ie := make([]string, size)
		for i := range ie {
			ie[i] = fmt.Sprint(500 + 800*float64(i)/size)
		}
		params := "tau_ref: 2.0, I_e: [" + strings.Join(ie, ", ") + "]"
		a := bioNeuron(t, 0.1, model, size, params).(*HH)
		b := bioNeuron(t, 0.1, model, size, params).(*HH)
		iext := make([]float64, size)
		var spa, spb []int32
		var err error
		spikes := 0
		for k := range 3000 {
			for i := range iext {
				iext[i] = float64((k*7+i*3)%11)*20 - 100
			}
			var w [][]float64
			if k%300 == 100 {
				w = [][]float64{make([]float64, size), make([]float64, size)}
				for i := range size {
					if i%3 == 0 {
						w[0][i] = 300
					} else if i%3 == 1 {
						w[1][i] = -200
					}
				}
			}
			hhSIMD = true
			if spa, err = a.Step(iext, w, spa[:0]); err != nil {
				t.Fatal(err)
			}
			hhSIMD = false
			if spb, err = b.Step(iext, w, spb[:0]); err != nil {
				t.Fatal(err)
			}
			spikes += len(spa)
			if fmt.Sprint(spa) != fmt.Sprint(spb) {
				t.Fatalf("%s step %d: spikes %v vector, %v scalar", model, k, spa, spb)
			}
			for c := range a.y {
				for i := range a.y[c] {
					if math.Float64bits(a.y[c][i]) != math.Float64bits(b.y[c][i]) {
						t.Fatalf("%s step %d neuron %d: %s %.17g vector, %.17g scalar", model, k, i, hhNames[c], a.y[c][i], b.y[c][i])
					}
				}
			}
			for i := range a.sol.hi {
				if a.sol.hi[i] != b.sol.hi[i] {
					t.Fatalf("%s step %d neuron %d: carried step %.17g vector, %.17g scalar", model, k, i, a.sol.hi[i], b.sol.hi[i])
				}
			}
		}
		if spikes < 5*size {
			t.Errorf("%s: only %d spikes", model, spikes)
		}
	}
}

// TestHHRKFMatchesGeneric with the scalar kernel, which a CPU without
// AVX2 and FMA runs (hhFMA fused in software there).
func TestHHRKFScalarMatchesGeneric(t *testing.T) {
	defer func(on bool) { hhSIMD = on }(hhSIMD)
	hhSIMD = false
	hhRKFMatchesGeneric(t)
}

// BenchmarkHH1000Kernel is BenchmarkHH1000/RKF45 (apu/cpu) without the
// engine: 1,000 HHPSC neurons stepped for 1 s simulated per iteration,
// with the vector kernel ("asm", if this CPU has AVX2 and FMA) and with
// the scalar kernel a CPU without them runs ("scalar"). Reports seconds
// per simulated second.
//
//	GOMAXPROCS=1 go test -run XXX -bench HH1000Kernel ./models/
func BenchmarkHH1000Kernel(b *testing.B) {
	for _, c := range []struct {
		name string
		simd bool
	}{{"asm", true}, {"scalar", false}} {
		b.Run(c.name, func(b *testing.B) {
			if c.simd && !hhSIMD {
				b.Skip("no AVX2 and FMA on this CPU")
			}
			defer func(on bool) { hhSIMD = on }(hhSIMD)
			hhSIMD = c.simd
			const size = 1000
			ie := make([]string, size)
			for i := range ie {
				ie[i] = fmt.Sprint(800 + 400*float64(i)/(size-1))
			}
			m := bioNeuron(b, 0.1, "HHPSC", size, "tau_ref: 2.0, I_e: ["+strings.Join(ie, ", ")+"]").(*HH)
			var spiked []int32
			var err error
			for b.Loop() {
				for range 10000 {
					if spiked, err = m.Step(nil, nil, spiked[:0]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/simsec")
		})
	}
}

// BenchmarkHHStageAVX: one stage of the vector kernel for a full block
// (four groups of four HH neurons, V from -78 to 31.5 mV, stage 6's
// argument), as advance calls it. Reports nanoseconds per group of four
// evaluations.
func BenchmarkHHStageAVX(b *testing.B) {
	if !hhSIMD {
		b.Skip("no AVX2 and FMA on this CPU")
	}
	n := bioNeuron(b, 0.1, "HH", 1, "").(*HH)
	k := *n.rkf
	for l := range odeBlock {
		k.y[hhV][l] = -78 + 7.3*float64(l)
		k.y[hhM][l], k.y[hhH][l], k.y[hhN][l] = 0.05, 0.6, 0.32
		k.hs[l], k.in[l] = 0.01, 500
	}
	for b.Loop() {
		if hhStageAVX(&k, &hhVK, 5, 15) != 0 {
			b.Fatal("a group left to the scalar code")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*odeBlock/4), "ns/group")
}
