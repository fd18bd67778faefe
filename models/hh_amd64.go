package models

import (
	"math"
	"math/bits"

	"golang.org/x/sys/cpu"
)

// hhSIMD: on an amd64 CPU with AVX2 and FMA, the RKF45 kernel takes four
// lanes per vector (hh_amd64.s): the stage arguments, the right-hand
// side (HH, and HHPSC with its PSC terms), the 5th-order sums, the error
// norm and the step control's roots, with the same operations, roundings
// included, as the one-lane code with hhFMA fused (TestHHVecMatchesScalar);
// the step control's decisions stay per lane in Go. HH1000 RKF45 takes
// about half the time with it (README, Performance). Set once here; tests
// and benchmarks switch it off to measure or check the scalar code.
var hhSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hhFused: this CPU has FMA, and hhFMA fuses, as the vector kernel does
// (the scalar code runs beside it, for lanes outside its range, and must
// round as it does). Without FMA there is no vector kernel, and hhFMA
// rounds twice as on 386 and arm, the generic solver's numbers: math.FMA
// computes the fused result in software there, a routine per operation,
// and HH1000 RKF45 took 35 s/simsec with it (GODEBUG=cpu.fma=off,
// BenchmarkHH1000Kernel/scalar), 18 times the unfused kernel's time.
var hhFused = cpu.X86.HasFMA

// hhFMA is x*y + z, fused (math.FMA) if hhFused, else rounded twice (the
// conversions keep the compiler from fusing it with GOAMD64=v3).
func hhFMA(x, y, z float64) float64 {
	if hhFused {
		return math.FMA(x, y, z)
	}
	return float64(x*y) + float64(z)
}

// The assembly addresses lane rows as hh_rkf.go lays them out: 16 lanes
// of 8 bytes per component (a row of 128 bytes), groups of four lanes 32
// bytes apart, hhLanes 1024 bytes. A different odeBlock does not compile
// here.
var (
	_ [odeBlock - 16]struct{}
	_ [16 - odeBlock]struct{}
)

// hhStageAVX is stage s (hhRKF.stage) for the groups of four lanes in
// groups (hhGroups), with the constants c (hhVK): the argument into
// k.tmp (s >= 1), then the right-hand side into k.ks[s]. It returns the groups it left to the
// scalar code: those with a lane whose V is outside hhExpPoly's range or
// near alpha_m's or alpha_n's removable singularity (or NaN), which
// core handles with math.Exp and hhAlpha's series.
//
//go:noescape
func hhStageAVX(k *hhRKF, c *hhVecConsts, s int, groups uint) (failed uint)

// hhSumsAVX is fehlberg's sums for the groups: k.ynew, the largest
// |error| per lane in k.emax (a NaN error skipped), rkfControl's rmax in
// k.rmax, and the roots of it in k.inv5 (if a lane of the group has rmax
// above 1.1) and k.inv6 (rkfInvRoot5 and rkfInvRoot6's operations).
//
//go:noescape
func hhSumsAVX(k *hhRKF, c *hhVecConsts, groups uint, dim int)

// hhInvRootsAVX is hhSumsAVX's roots alone, for the test: inv5 and inv6
// of four positive normal numbers.
//
//go:noescape
func hhInvRootsAVX(c *hhVecConsts, r, inv5, inv6 *[4]float64)

// stageVec is stage s for the groups of four lanes in groups, the groups
// the assembly leaves in scalar code.
func (k *hhRKF) stageVec(s int, groups uint) {
	failed := hhStageAVX(k, &hhVK, s, groups)
	for failed != 0 {
		g := int32(bits.TrailingZeros(failed)) * 4
		failed &= failed - 1
		lanes := [4]int32{g, g + 1, g + 2, g + 3}
		k.stageScalar(s, lanes[:])
	}
}

func (k *hhRKF) sumsVec(groups uint, dim int) { hhSumsAVX(k, &hhVK, groups, dim) }

// hhVecConsts are the vector kernel's constants, each four times (one
// per lane), for hh_amd64.s, which finds them by go_asm.h's offsets.
// The values are hhK's, core's and rkfInvRoot5's and rkfInvRoot6's.
type hhVecConsts struct {
	a0, b30, b31, b40, b41, b42, b50, b51, b52, b53, b60, b61, b62, b63, b64 [4]float64
	c1, c3, c4, c5, c6, e1, e3, e4, e5, e6                                   [4]float64

	p0, p1, p2, p3, p4, p5, p6, p7, p8              [4]float64
	c65, c720, c007, lo, hi, c40, c55, c01, sing    [4]float64
	one, negOne, neg4, negEighth, exp3, exp25, expE [4]float64
	sign, abs                                       [4]uint64 // the sign bit; all bits but it
	epsAbs, dblMin, shrink                          [4]float64
	mant, oneBits, twoP52, bits11                   [4]uint64
	expOff                                          [4]float64
	root5, root6                                    hhRootVec
}

// hhRootVec are rkfInvRoot5's or rkfInvRoot6's constants: n, 1/n, the
// quartic (highest coefficient first, the signs of its terms alternating
// from +), the integers 0..5 (for n = 5 the last is -1, which no f
// equals) and 2^(-f/n).
type hhRootVec struct {
	n, inv [4]float64
	quart  [5][4]float64
	js     [6][4]float64
	roots  [6][4]float64
}

var hhVK = newHHVecConsts()

func newHHVecConsts() hhVecConsts {
	f := func(x float64) [4]float64 { return [4]float64{x, x, x, x} }
	u := func(x uint64) [4]uint64 { return [4]uint64{x, x, x, x} }
	root := func(n int, quart [5]float64, roots *[8]float64) hhRootVec {
		r := hhRootVec{n: f(float64(n)), inv: f(1 / float64(n))}
		for j, x := range quart {
			r.quart[j] = f(x)
		}
		for j := range r.js {
			r.js[j] = f(float64(j))
			if j < n {
				r.roots[j] = f(roots[j])
			}
		}
		if n == 5 {
			r.js[5] = f(-1)
		}
		return r
	}
	return hhVecConsts{
		a0: f(rkfA0), b30: f(rkfB30), b31: f(rkfB31), b40: f(rkfB40), b41: f(rkfB41), b42: f(rkfB42),
		b50: f(rkfB50), b51: f(rkfB51), b52: f(rkfB52), b53: f(rkfB53),
		b60: f(rkfB60), b61: f(rkfB61), b62: f(rkfB62), b63: f(rkfB63), b64: f(rkfB64),
		c1: f(rkfC1), c3: f(rkfC3), c4: f(rkfC4), c5: f(rkfC5), c6: f(rkfC6),
		e1: f(rkfE1), e3: f(rkfE3), e4: f(rkfE4), e5: f(rkfE5), e6: f(rkfE6),
		p0: f(hhP0), p1: f(hhP1), p2: f(hhP2), p3: f(hhP3), p4: f(hhP4), p5: f(hhP5), p6: f(hhP6), p7: f(hhP7), p8: f(hhP8),
		c65: f(65), c720: f(-1.0 / 720), c007: f(0.07), lo: f(hhExpLo), hi: f(hhExpHi),
		c40: f(40), c55: f(55), c01: f(0.1), sing: f(1e-4),
		one: f(1), negOne: f(-1), neg4: f(-4), negEighth: f(-0.125), exp3: f(hhE3), exp25: f(hhE25), expE: f(math.E),
		sign: u(1 << 63), abs: u(1<<63 - 1),
		epsAbs: f(rkfEpsAbs), dblMin: f(dblMin), shrink: f(1.1),
		mant: u(1<<52 - 1), oneBits: u(1023 << 52), twoP52: u(0x4330000000000000), bits11: u(0x7ff),
		expOff: f(1<<52 + 1023),
		root5:  root(5, [5]float64{rkfQ50, rkfQ51, rkfQ52, rkfQ53, rkfQ54}, &rkfRoot5),
		root6:  root(6, [5]float64{rkfQ60, rkfQ61, rkfQ62, rkfQ63, rkfQ64}, &rkfRoot6),
	}
}
