//go:build goexperiment.simd && amd64

package models

import (
	"math"
	"simd/archsimd"
)

// hhSIMD: in a build with GOEXPERIMENT=simd, on a CPU with AVX2 and FMA,
// the RKF45 kernel takes four lanes per vector: the stage arguments,
// the right-hand side (HH, and HHPSC with its PSC terms), the 5th-order
// sums, the error norm and the step control's roots, with the same
// operations, roundings included, as the one-lane code; the step
// control's decisions stay per lane. simd/archsimd is an experiment of
// Go 1.26, hence opt-in: HH1000 RKF45 takes 1.15 CPU s/simsec with it
// against 2.3 without (README, Performance). TestHHRKFMatchesGeneric,
// TestInvRoot4 and the reference tests cover this code when run with
// GOEXPERIMENT=simd (.ci/run does).
var hhSIMD = archsimd.X86.AVX2() && archsimd.X86.FMA()

type f64x4 = archsimd.Float64x4

// Constant vectors, loaded rather than broadcast in the loops.
var (
	kRkfA0   = [4]float64{rkfA0, rkfA0, rkfA0, rkfA0}
	kRkfB31  = [4]float64{rkfB31, rkfB31, rkfB31, rkfB31}
	kRkfB30  = [4]float64{rkfB30, rkfB30, rkfB30, rkfB30}
	kRkfB41  = [4]float64{rkfB41, rkfB41, rkfB41, rkfB41}
	kRkfB40  = [4]float64{rkfB40, rkfB40, rkfB40, rkfB40}
	kRkfB42  = [4]float64{rkfB42, rkfB42, rkfB42, rkfB42}
	kRkfB51  = [4]float64{rkfB51, rkfB51, rkfB51, rkfB51}
	kRkfB50  = [4]float64{rkfB50, rkfB50, rkfB50, rkfB50}
	kRkfB52  = [4]float64{rkfB52, rkfB52, rkfB52, rkfB52}
	kRkfB53  = [4]float64{rkfB53, rkfB53, rkfB53, rkfB53}
	kRkfB61  = [4]float64{rkfB61, rkfB61, rkfB61, rkfB61}
	kRkfB60  = [4]float64{rkfB60, rkfB60, rkfB60, rkfB60}
	kRkfB62  = [4]float64{rkfB62, rkfB62, rkfB62, rkfB62}
	kRkfB63  = [4]float64{rkfB63, rkfB63, rkfB63, rkfB63}
	kRkfB64  = [4]float64{rkfB64, rkfB64, rkfB64, rkfB64}
	k65      = [4]float64{65, 65, 65, 65}
	kInv720  = [4]float64{-1.0 / 720, -1.0 / 720, -1.0 / 720, -1.0 / 720}
	k40      = [4]float64{40, 40, 40, 40}
	kTenth   = [4]float64{0.1, 0.1, 0.1, 0.1}
	k55      = [4]float64{55, 55, 55, 55}
	kZero    = [4]float64{0, 0, 0, 0}
	kOne     = [4]float64{1, 1, 1, 1}
	kHhExpLo = [4]float64{hhExpLo, hhExpLo, hhExpLo, hhExpLo}
	kHhExpHi = [4]float64{hhExpHi, hhExpHi, hhExpHi, hhExpHi}
	kSing    = [4]float64{1e-2, 1e-2, 1e-2, 1e-2}
	kP07     = [4]float64{0.07, 0.07, 0.07, 0.07}
	kP0      = [4]float64{0.4661969099529739, 0.4661969099529739, 0.4661969099529739, 0.4661969099529739}
	kP1      = [4]float64{0.9323938199059463, 0.9323938199059463, 0.9323938199059463, 0.9323938199059463}
	kP2      = [4]float64{0.03884974249629459, 0.03884974249629459, 0.03884974249629459, 0.03884974249629459}
	kP3      = [4]float64{0.1553989699864589, 0.1553989699864589, 0.1553989699864589, 0.1553989699864589}
	kP4      = [4]float64{0.0012949913530425213, 0.0012949913530425213, 0.0012949913530425213, 0.0012949913530425213}
	kP5      = [4]float64{0.0077699478642580975, 0.0077699478642580975, 0.0077699478642580975, 0.0077699478642580975}
	kP6      = [4]float64{2.313184295192173e-05, 2.313184295192173e-05, 2.313184295192173e-05, 2.313184295192173e-05}
	kP7      = [4]float64{0.00018506873799552313, 0.00018506873799552313, 0.00018506873799552313, 0.00018506873799552313}
	kP8      = [4]float64{0.9323938199059483, 0.9323938199059483, 0.9323938199059483, 0.9323938199059483}
	kFour    = [4]float64{4, 4, 4, 4}
	kEighth  = [4]float64{0.125, 0.125, 0.125, 0.125}
	kHhE3    = [4]float64{hhE3, hhE3, hhE3, hhE3}
	kHhE25   = [4]float64{hhE25, hhE25, hhE25, hhE25}
	kE       = [4]float64{math.E, math.E, math.E, math.E}
	kRkfC6   = [4]float64{rkfC6, rkfC6, rkfC6, rkfC6}
	kRkfC5   = [4]float64{rkfC5, rkfC5, rkfC5, rkfC5}
	kRkfC4   = [4]float64{rkfC4, rkfC4, rkfC4, rkfC4}
	kRkfC3   = [4]float64{rkfC3, rkfC3, rkfC3, rkfC3}
	kRkfC1   = [4]float64{rkfC1, rkfC1, rkfC1, rkfC1}
	kRkfE6   = [4]float64{rkfE6, rkfE6, rkfE6, rkfE6}
	kRkfE5   = [4]float64{rkfE5, rkfE5, rkfE5, rkfE5}
	kRkfE4   = [4]float64{rkfE4, rkfE4, rkfE4, rkfE4}
	kRkfE3   = [4]float64{rkfE3, rkfE3, rkfE3, rkfE3}
	kRkfE1   = [4]float64{rkfE1, rkfE1, rkfE1, rkfE1}
)

func c4(c *[4]float64) f64x4 { return archsimd.LoadFloat64x4(c) }

// ld4 and st4 load and store lanes g..g+3 of a lane row.
func ld4(row *[odeBlock]float64, g int) f64x4 {
	return archsimd.LoadFloat64x4((*[4]float64)(row[g : g+4]))
}

func st4(x f64x4, row *[odeBlock]float64, g int) { x.Store((*[4]float64)(row[g : g+4])) }

// stageVec is stage s for the groups of four lanes in groups
// (hhGroups).
func (k *hhRKF) stageVec(s int, groups uint) {
	y, ks, dst, r := &k.y, &k.ks, &k.ks[s], k.rhs
	var lanes [4]int32
	for g := 0; g < odeBlock; g += 4 {
		if groups>>(g/4)&1 == 0 {
			continue
		}
		hs := ld4(&k.hs, g)
		var a [4]f64x4 // V, m, h, n of the argument (argVec, written out)
		for c := range a {
			yc := ld4(&y[c], g)
			switch s {
			case 0:
				a[c] = yc
			case 1:
				a[c] = c4(&kRkfA0).Mul(hs).MulAdd(ld4(&ks[0][c], g), yc)
			case 2:
				d := c4(&kRkfB31).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB30).Mul(ld4(&ks[0][c], g)))
				a[c] = hs.MulAdd(d, yc)
			case 3:
				d := c4(&kRkfB41).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB40).Mul(ld4(&ks[0][c], g)))
				d = c4(&kRkfB42).MulAdd(ld4(&ks[2][c], g), d)
				a[c] = hs.MulAdd(d, yc)
			case 4:
				d := c4(&kRkfB51).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB50).Mul(ld4(&ks[0][c], g)))
				d = c4(&kRkfB52).MulAdd(ld4(&ks[2][c], g), d)
				d = c4(&kRkfB53).MulAdd(ld4(&ks[3][c], g), d)
				a[c] = hs.MulAdd(d, yc)
			default:
				d := c4(&kRkfB61).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB60).Mul(ld4(&ks[0][c], g)))
				d = c4(&kRkfB62).MulAdd(ld4(&ks[2][c], g), d)
				d = c4(&kRkfB63).MulAdd(ld4(&ks[3][c], g), d)
				d = c4(&kRkfB64).MulAdd(ld4(&ks[4][c], g), d)
				a[c] = hs.MulAdd(d, yc)
			}
		}
		num, dm, dh, dn, ok := r.core4(ld4(&k.in, g), a[hhV], a[hhM], a[hhH], a[hhN])
		if !ok {
			for j := range lanes {
				lanes[j] = int32(g + j)
			}
			k.stageScalar(s, lanes[:])
			continue
		}
		if k.psc {
			// hhRHS.deriv's PSC terms, in its order.
			invE, invI, zero := c4(&r.vec[7]), c4(&r.vec[8]), c4(&kZero)
			dIe, iE := k.argVec(s, hhDIe, g, hs), k.argVec(s, hhIe, g, hs)
			dIi, iI := k.argVec(s, hhDIi, g, hs), k.argVec(s, hhIi, g, hs)
			st4(num.Add(iE).Add(iI).Mul(c4(&r.vec[6])), &dst[hhV], g)
			st4(zero.Sub(dIe).Mul(invE), &dst[hhDIe], g)
			st4(dIe.Sub(iE.Mul(invE)), &dst[hhIe], g)
			st4(zero.Sub(dIi).Mul(invI), &dst[hhDIi], g)
			st4(dIi.Sub(iI.Mul(invI)), &dst[hhIi], g)
		} else {
			st4(num.Mul(c4(&r.vec[6])), &dst[hhV], g)
		}
		st4(dm, &dst[hhM], g)
		st4(dh, &dst[hhH], g)
		st4(dn, &dst[hhN], g)
	}
}

// argVec is component c of stage s's argument for lanes g..g+3 (stageVec
// writes it out for V, m, h and n: a call each was 6% slower in HH1000).
func (k *hhRKF) argVec(s, c, g int, hs f64x4) f64x4 {
	y, ks := &k.y, &k.ks
	yc := ld4(&y[c], g)
	switch s {
	case 0:
		return yc
	case 1:
		return c4(&kRkfA0).Mul(hs).MulAdd(ld4(&ks[0][c], g), yc)
	case 2:
		d := c4(&kRkfB31).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB30).Mul(ld4(&ks[0][c], g)))
		return hs.MulAdd(d, yc)
	case 3:
		d := c4(&kRkfB41).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB40).Mul(ld4(&ks[0][c], g)))
		d = c4(&kRkfB42).MulAdd(ld4(&ks[2][c], g), d)
		return hs.MulAdd(d, yc)
	case 4:
		d := c4(&kRkfB51).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB50).Mul(ld4(&ks[0][c], g)))
		d = c4(&kRkfB52).MulAdd(ld4(&ks[2][c], g), d)
		d = c4(&kRkfB53).MulAdd(ld4(&ks[3][c], g), d)
		return hs.MulAdd(d, yc)
	}
	d := c4(&kRkfB61).MulAdd(ld4(&ks[1][c], g), c4(&kRkfB60).Mul(ld4(&ks[0][c], g)))
	d = c4(&kRkfB62).MulAdd(ld4(&ks[2][c], g), d)
	d = c4(&kRkfB63).MulAdd(ld4(&ks[3][c], g), d)
	d = c4(&kRkfB64).MulAdd(ld4(&ks[4][c], g), d)
	return hs.MulAdd(d, yc)
}

// core4 is core for four lanes; ok is false, and nothing computed, if a
// lane's V is outside hhExpPoly's range or near alpha_m's or alpha_n's
// removable singularity (or NaN), which core handles.
func (s *hhRHS) core4(in, v, m, h, n f64x4) (num, dm, dh, dn f64x4, ok bool) {
	a := v.Add(c4(&k65)).Mul(c4(&kInv720))
	sm := v.Add(c4(&k40)).Mul(c4(&kTenth))
	sn := v.Add(c4(&k55)).Mul(c4(&kTenth))
	zero, one := c4(&kZero), c4(&kOne)
	good := a.GreaterEqual(c4(&kHhExpLo)).And(a.LessEqual(c4(&kHhExpHi))).
		And(sm.Max(zero.Sub(sm)).GreaterEqual(c4(&kSing))).
		And(sn.Max(zero.Sub(sn)).GreaterEqual(c4(&kSing)))
	if good.ToBits() != 15 {
		return num, dm, dh, dn, false
	}
	// hhExpPoly
	t := a.Add(c4(&kP07))
	t2 := t.Mul(t)
	t4 := t2.Mul(t2)
	q01 := c4(&kP0).MulAdd(t, c4(&kP1))
	q23 := c4(&kP2).MulAdd(t, c4(&kP3))
	q45 := c4(&kP4).MulAdd(t, c4(&kP5))
	q67 := c4(&kP6).MulAdd(t, c4(&kP7))
	b := t.MulAdd(t4.MulAdd(t2.MulAdd(q67, q45), t2.MulAdd(q23, q01)), c4(&kP8))
	b2 := b.Mul(b)
	b4 := b2.Mul(b2)
	b8 := b4.Mul(b4)
	b16 := b8.Mul(b8)
	b32 := b16.Mul(b16)
	b36 := b32.Mul(b4)
	b72 := b36.Mul(b36)
	bm := c4(&kFour).Mul(b32.Mul(b8))
	ah := c4(&kP07).Mul(b36)
	bn := c4(&kEighth).Mul(b8.Mul(b))
	bh := one.Div(one.Add(b72.Mul(c4(&kHhE3))))
	am := sm.Div(one.Sub(b72.Mul(c4(&kHhE25))))
	an := c4(&kTenth).Mul(sn.Div(one.Sub(b72.Mul(c4(&kE)))))

	iNa := c4(&s.vec[0]).Mul(m).Mul(m).Mul(m).Mul(h).Mul(v.Sub(c4(&s.vec[1])))
	n2 := n.Mul(n)
	iK := c4(&s.vec[2]).Mul(n2.Mul(n2)).Mul(v.Sub(c4(&s.vec[3])))
	num = in.Sub(c4(&s.vec[4]).MulAdd(v.Sub(c4(&s.vec[5])), iNa.Add(iK)))
	dm = am.MulAdd(one.Sub(m), zero.Sub(bm).Mul(m))
	dh = ah.MulAdd(one.Sub(h), zero.Sub(bh).Mul(h))
	dn = an.MulAdd(one.Sub(n), zero.Sub(bn).Mul(n))
	return num, dm, dh, dn, true
}

// sumsVec is fehlberg's sums for the groups of four lanes in groups:
// ynew and the largest |error| per lane (a NaN error skipped, as there).
func (k *hhRKF) sumsVec(groups uint, dim int) {
	ks := &k.ks
	for g := 0; g < odeBlock; g += 4 {
		if groups>>(g/4)&1 == 0 {
			continue
		}
		h := ld4(&k.hs, g)
		emax, zero := c4(&kZero), c4(&kZero)
		for c := range dim {
			a1, a3, a4 := ld4(&ks[0][c], g), ld4(&ks[2][c], g), ld4(&ks[3][c], g)
			a5, a6 := ld4(&ks[4][c], g), ld4(&ks[5][c], g)
			d := c4(&kRkfC6).MulAdd(a6, c4(&kRkfC5).MulAdd(a5, c4(&kRkfC4).MulAdd(a4, c4(&kRkfC3).MulAdd(a3, c4(&kRkfC1).Mul(a1)))))
			st4(h.MulAdd(d, ld4(&k.y[c], g)), &k.ynew[c], g)
			e := h.Mul(c4(&kRkfE6).MulAdd(a6, c4(&kRkfE5).MulAdd(a5, c4(&kRkfE4).MulAdd(a4, c4(&kRkfE3).MulAdd(a3, c4(&kRkfE1).Mul(a1))))))
			ae := e.Max(zero.Sub(e))
			emax = ae.Merge(emax, ae.Greater(emax))
		}
		st4(emax, &k.emax, g)
		rmax := emax.Div(c4(&kEpsAbs)).Max(c4(&kDblMin))
		st4(rmax, &k.rmax, g)
		if rmax.Greater(c4(&kShrink)).ToBits() != 0 {
			st4(invRoot4(rmax, kRoot5), &k.inv5, g) // only for a rejected attempt
		}
		st4(invRoot4(rmax, kRoot6), &k.inv6, g)
	}
}

// The constants of invRoot4 besides the root's, as vectors.
var (
	kEpsAbs  = [4]float64{rkfEpsAbs, rkfEpsAbs, rkfEpsAbs, rkfEpsAbs}
	kDblMin  = [4]float64{dblMin, dblMin, dblMin, dblMin}
	kShrink  = [4]float64{1.1, 1.1, 1.1, 1.1} // rkfControl shrinks the step above it
	kMant    = [4]uint64{1<<52 - 1, 1<<52 - 1, 1<<52 - 1, 1<<52 - 1}
	kOneBits = [4]uint64{1023 << 52, 1023 << 52, 1023 << 52, 1023 << 52}
	k2p52    = [4]uint64{0x4330000000000000, 0x4330000000000000, 0x4330000000000000, 0x4330000000000000}
	kExpOff  = [4]float64{1<<52 + 1023, 1<<52 + 1023, 1<<52 + 1023, 1<<52 + 1023}
	k11bits  = [4]uint64{0x7ff, 0x7ff, 0x7ff, 0x7ff}
)

// invRootConsts are the constants of rkfInvRoot5 or rkfInvRoot6 as
// vectors: n, 1/n, the quartic (highest coefficient first, the signs
// of its terms alternating from +), the integers 0..n-1 and 2^(-f/n).
type invRootConsts struct {
	n       int
	nf, inv [4]float64
	quart   [5][4]float64
	js      [8][4]float64
	roots   [8][4]float64
}

var kRoot5, kRoot6 = newInvRootConsts(5), newInvRootConsts(6)

func newInvRootConsts(n int) *invRootConsts {
	four := func(x float64) [4]float64 { return [4]float64{x, x, x, x} }
	quart := [5]float64{0.014245373683843082, 0.11196867763723466, 0.3606346690427562, 0.6412189998315366, 1.3782854886340428}
	if n == 6 {
		quart = [5]float64{0.01138383974054361, 0.089694145680407, 0.2902565113218118, 0.5227422186560641, 1.3107784956789583}
	}
	c := &invRootConsts{n: n, nf: four(float64(n)), inv: four(1 / float64(n))}
	for j, x := range quart {
		c.quart[j] = four(x)
	}
	for f := range n {
		c.js[f] = four(float64(f))
		c.roots[f] = four(math.Exp2(-float64(f) / float64(n))) // as rkfRoot5, rkfRoot6
	}
	return c
}

func u4(c *[4]uint64) archsimd.Uint64x4 { return archsimd.LoadUint64x4(c) }

// invRoot4 is rkfInvRoot5 (c kRoot5) or rkfInvRoot6 (kRoot6) for four
// positive normal numbers, the same operations: r = m 2^(n q + f) split
// with integer arithmetic done exactly in float64 (e = n q + f, |e| <
// 1023), the quartic in m, two Newton steps, times 2^(-f/n) and 2^(-q).
func invRoot4(r f64x4, c *invRootConsts) f64x4 {
	bits := r.AsUint64x4()
	m := bits.And(u4(&kMant)).Or(u4(&kOneBits)).AsFloat64x4()
	// 2^52 + biased exponent, minus 2^52 + 1023: e, exactly.
	e := bits.ShiftAllRight(52).Or(u4(&k2p52)).AsFloat64x4().Sub(c4(&kExpOff))
	nf := c4(&c.nf)
	q := e.Div(nf).Floor() // e/n rounds to an integer only if it is one
	f := e.Sub(nf.Mul(q))
	root := c4(&c.roots[0])
	for j := 1; j < c.n; j++ {
		root = c4(&c.roots[j]).Merge(root, f.Equal(c4(&c.js[j])))
	}
	// 2^(-q): 1023 - q in the exponent field.
	p := c4(&kExpOff).Sub(q).AsUint64x4().And(u4(&k11bits)).ShiftAllLeft(52).AsFloat64x4()
	z := c4(&c.quart[0]).Mul(m).Sub(c4(&c.quart[1])).Mul(m).Add(c4(&c.quart[2])).Mul(m).Sub(c4(&c.quart[3])).Mul(m).Add(c4(&c.quart[4]))
	one, inv := c4(&kOne), c4(&c.inv)
	for range 2 {
		var w f64x4
		if c.n == 5 {
			z2 := z.Mul(z)
			w = z2.Mul(z2).Mul(z)
		} else {
			z3 := z.Mul(z).Mul(z)
			w = z3.Mul(z3)
		}
		z = z.Add(z.Mul(one.Sub(m.Mul(w))).Mul(inv))
	}
	return z.Mul(root).Mul(p)
}
