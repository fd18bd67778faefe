package models

import (
	"fmt"
	"math"
)

// hhRKF is docs/models/solvers.md (RKF45 with GSL's standard control) specialised
// to HH and HHPSC, the default method of both. It does for a block of up
// to odeBlock neurons what odeSolver.rkf45 does with hhRHS, the same
// operations in the same order per neuron, except that the stage
// arguments and the weighted sums of the new state and the error are
// multiply-adds (hhFMA), fused on amd64 (where the vector kernel,
// hh_amd64.s, computes four lanes at a time) and arm64. There one step
// agrees with the generic solver's to a few ulps; on 386 and 32-bit arm,
// which fuse nothing, it is the same numbers (TestHHRKFMatchesGeneric
// states the bounds). And:
// the block's state is stored component by component (structure of
// arrays, lane index last, fixed-size arrays, so no bounds checks), the
// right-hand side is computed directly rather than through an interface
// per neuron and stage, a stage at a time for all the lanes, and the
// error norm is taken in the loop that forms the new state.
type hhRKF struct {
	rhs *hhRHS
	psc bool // all eight components (HHPSC with synaptic current), else V, m, h, n
	h   float64
	hi  []float64 // per-neuron carried step, shared by the two kernels of an HHPSC population

	idx [odeBlock]int32   // neuron of each lane
	in  [odeBlock]float64 // I(k) of each lane's neuron

	// y is the state at the start of the current sub-step (GSL's y0),
	// ks the stages k1..k6, ynew the attempt's result, tmp the PSC
	// components of a stage's argument.
	y, tmp, ynew hhLanes
	ks           [6]hhLanes

	t, t0, hs, emax  [odeBlock]float64
	rmax, inv5, inv6 [odeBlock]float64 // vector kernel: rkfControl's rmax and its roots (hh_amd64.s)
	final            [odeBlock]bool

	// evalLanes' intermediate results: b = exp(-(V+65)/720), whether
	// core's fast path applies, and the six rates.
	eb         [odeBlock]float64
	rate       [6][odeBlock]float64
	tries      [odeBlock]int32
	act, fresh [odeBlock]int32 // lanes still integrating; lanes starting a sub-step
}

// hhLanes holds component c of lane l at [c][l].
type hhLanes [8][odeBlock]float64

func newHHRKF(rhs *hhRHS, psc bool, h float64, hi []float64) *hhRKF {
	return &hhRKF{rhs: rhs, psc: psc, h: h, hi: hi}
}

// dim is the number of components integrated.
func (k *hhRKF) dim() int {
	if k.psc {
		return 8
	}
	return 4
}

// stage evaluates stage s of the lanes: k1 = f(y) for s = 0, else k_{s+1}
// = f(y + hs (sum of b_sj k_j)), with the coefficients and the order of
// the sums of rkf45.c (odeSolver.fehlberg, hhRHS.deriv). The argument's
// V, m, h and n are formed in the loop that evaluates f, not stored.
func (k *hhRKF) stage(s int, lanes []int32) {
	if hhSIMD {
		k.stageVec(s, hhGroups(lanes))
		return
	}
	k.stageScalar(s, lanes)
}

// stageScalar is stage for the lanes in scalar code, by evalLanes.
func (k *hhRKF) stageScalar(s int, lanes []int32) {
	src := &k.y
	if s > 0 {
		if k.psc {
			k.args(s, lanes)
		} else {
			k.args4(s, lanes)
		}
		src = &k.tmp
	}
	k.evalLanes(s, src, lanes)
}

// evalLanes evaluates the right-hand side at the argument in src (y or
// tmp) for the lanes into stage s: hhRHS.core's operations, bit for bit,
// split into three loops over the lanes (the exponential, the rates,
// the derivatives) with the intermediate results in k.
//
// Why: one evaluation of core is a chain of ~60 dependent operations,
// ~100 cycles of latency, and in one loop over the lanes the
// out-of-order core overlapped little of one lane's chain with the
// next's (its scheduler fills with the waiting chain): 17.9 ns per
// evaluation of 16 independent neurons (BenchmarkHHCore) at ~3.7 GHz,
// 2.3 instructions per cycle. A short loop body leaves several lanes'
// chains in flight. (Four lanes side by side in straight code, in a
// struct of four float64, was slower: 21 ns, as it spills most of its
// values with 15 vector registers.)
func (k *hhRKF) evalLanes(s int, src *hhLanes, lanes []int32) {
	q := &hhK
	sv := &src[hhV]
	// hhExpPoly and core's range test, the constants from hhK (see there).
	c65, c720, c007, lo, hi := q.c65, q.c720, q.c007, q.lo, q.hi
	p0, p1, p2, p3, p4, p5, p6, p7, p8 := q.p0, q.p1, q.p2, q.p3, q.p4, q.p5, q.p6, q.p7, q.p8
	for _, l := range lanes {
		l &= odeBlock - 1
		a := float64((sv[l] + c65) * c720) // rounded, as in core
		t := a + c007
		t2 := t * t
		t4 := t2 * t2
		q01 := hhFMA(p0, t, p1)
		q23 := hhFMA(p2, t, p3)
		q45 := hhFMA(p4, t, p5)
		q67 := hhFMA(p6, t, p7)
		b := hhFMA(t, hhFMA(t4, hhFMA(t2, q67, q45), hhFMA(t2, q23, q01)), p8)
		if !(a >= lo && a <= hi) {
			b = math.Exp(a)
		}
		k.eb[l] = b
	}
	// hhPowers and the quotients.
	rt := &k.rate
	one, e3, e25, e, c40, c55, c01, sing := q.one, q.ex3, q.ex25, q.exE, q.c40, q.c55, q.c01, q.sing
	for _, l := range lanes {
		l &= odeBlock - 1
		v := sv[l]
		b72, nbm, ah, nbn := hhPowers(k.eb[l])
		nbh := -one / (one + float64(b72*e3))
		sm, exm := (v+c40)*c01, float64(b72*e25)
		sn, exn := (v+c55)*c01, float64(b72*e)
		var am, an float64
		if sm*sm >= sing && sn*sn >= sing { // hhAlpha's quotients
			am, an = sm/(one-exm), c01*(sn/(one-exn))
		} else {
			am, an = hhAlpha(sm, exm), 0.1*hhAlpha(sn, exn)
		}
		rt[0][l], rt[1][l], rt[2][l], rt[3][l], rt[4][l], rt[5][l] = am, nbm, ah, nbh, an, nbn
	}
	r := k.rhs
	sm, sh, sn := &src[hhM], &src[hhH], &src[hhN]
	if k.psc {
		for _, l := range lanes {
			l &= odeBlock - 1
			m, h, n := sm[l], sh[l], sn[l]
			num := r.current(k.in[l], sv[l], m, h, n)
			k.put(s, src, l, num, hhGate(rt[0][l], rt[1][l], m), hhGate(rt[2][l], rt[3][l], h), hhGate(rt[4][l], rt[5][l], n))
		}
		return
	}
	// current and hhGate, the parameters in registers.
	dst := &k.ks[s]
	dv, dm, dh, dn := &dst[hhV], &dst[hhM], &dst[hhH], &dst[hhN]
	gNa, eNa, gK, eK, gL, eL, invCm := r.gNa, r.eNa, r.gK, r.eK, r.gL, r.eL, r.invCm
	for _, l := range lanes {
		l &= odeBlock - 1
		v, m, h, n := sv[l], sm[l], sh[l], sn[l]
		iNa := gNa * m * m * m * h * (v - eNa)
		n2 := n * n
		iK := gK * (n2 * n2) * (v - eK)
		dv[l] = (k.in[l] - hhFMA(gL, v-eL, float64(iNa)+float64(iK))) * invCm
		dm[l] = hhFMA(rt[0][l], one-m, rt[1][l]*m)
		dh[l] = hhFMA(rt[2][l], one-h, rt[3][l]*h)
		dn[l] = hhFMA(rt[4][l], one-n, rt[5][l]*n)
	}
}

// put stores lane l of stage s: core's results, completed as
// hhRHS.deriv does, with the PSC components of the argument in src.
func (k *hhRKF) put(s int, src *hhLanes, l int32, num, dm, dh, dn float64) {
	l &= odeBlock - 1
	dst, r := &k.ks[s], k.rhs
	if k.psc {
		dIe, iE, dIi, iI := src[hhDIe][l], src[hhIe][l], src[hhDIi][l], src[hhIi][l]
		dst[hhV][l] = (num + iE + iI) * r.invCm
		dst[hhDIe][l] = -dIe * r.invTauE
		dst[hhIe][l] = dIe - float64(iE*r.invTauE)
		dst[hhDIi][l] = -dIi * r.invTauI
		dst[hhIi][l] = dIi - float64(iI*r.invTauI)
	} else {
		dst[hhV][l] = num * r.invCm
	}
	dst[hhM][l], dst[hhH][l], dst[hhN][l] = dm, dh, dn
}

// args writes stage s's argument (s >= 1) for the lanes to tmp, every
// component: for k_{s+1}, y + hs (sum of b_sj k_j), with the
// coefficients and the order of the sums of rkf45.c
// (odeSolver.fehlberg). One loop per component and stage with the rows
// hoisted, the coefficients read from hhK once (see there): per lane
// and stage, calls to one function per stage were a quarter of HH1000's
// time.
func (k *hhRKF) args(s int, lanes []int32) {
	hs, ks, q, dim := &k.hs, &k.ks, &hhK, k.dim()
	switch s {
	case 1:
		a0 := q.a0
		for c := range dim {
			t, y, k1 := &k.tmp[c], &k.y[c], &ks[0][c]
			for _, l := range lanes {
				l &= odeBlock - 1
				t[l] = hhFMA(a0*hs[l], k1[l], y[l])
			}
		}
	case 2:
		b30, b31 := q.b30, q.b31
		for c := range dim {
			t, y, k1, k2 := &k.tmp[c], &k.y[c], &ks[0][c], &ks[1][c]
			for _, l := range lanes {
				l &= odeBlock - 1
				t[l] = hhFMA(hs[l], hhFMA(b31, k2[l], b30*k1[l]), y[l])
			}
		}
	case 3:
		b40, b41, b42 := q.b40, q.b41, q.b42
		for c := range dim {
			t, y, k1, k2, k3 := &k.tmp[c], &k.y[c], &ks[0][c], &ks[1][c], &ks[2][c]
			for _, l := range lanes {
				l &= odeBlock - 1
				d := hhFMA(b41, k2[l], b40*k1[l])
				d = hhFMA(b42, k3[l], d)
				t[l] = hhFMA(hs[l], d, y[l])
			}
		}
	case 4:
		b50, b51, b52, b53 := q.b50, q.b51, q.b52, q.b53
		for c := range dim {
			t, y := &k.tmp[c], &k.y[c]
			k1, k2, k3, k4 := &ks[0][c], &ks[1][c], &ks[2][c], &ks[3][c]
			for _, l := range lanes {
				l &= odeBlock - 1
				d := hhFMA(b51, k2[l], b50*k1[l])
				d = hhFMA(b52, k3[l], d)
				d = hhFMA(b53, k4[l], d)
				t[l] = hhFMA(hs[l], d, y[l])
			}
		}
	default:
		b60, b61, b62, b63, b64 := q.b60, q.b61, q.b62, q.b63, q.b64
		for c := range dim {
			t, y := &k.tmp[c], &k.y[c]
			k1, k2, k3, k4, k5 := &ks[0][c], &ks[1][c], &ks[2][c], &ks[3][c], &ks[4][c]
			for _, l := range lanes {
				l &= odeBlock - 1
				d := hhFMA(b61, k2[l], b60*k1[l])
				d = hhFMA(b62, k3[l], d)
				d = hhFMA(b63, k4[l], d)
				d = hhFMA(b64, k5[l], d)
				t[l] = hhFMA(hs[l], d, y[l])
			}
		}
	}
}

// args4 is args for V, m, h and n, all four in one loop over the lanes
// (a lane's index and step loaded once, not four times).
func (k *hhRKF) args4(s int, lanes []int32) {
	t, y, ks, hs, q := &k.tmp, &k.y, &k.ks, &k.hs, &hhK
	switch s {
	case 1:
		a0 := q.a0
		for _, l := range lanes {
			l &= odeBlock - 1
			h := a0 * hs[l]
			t[hhV][l] = hhFMA(h, ks[0][hhV][l], y[hhV][l])
			t[hhM][l] = hhFMA(h, ks[0][hhM][l], y[hhM][l])
			t[hhH][l] = hhFMA(h, ks[0][hhH][l], y[hhH][l])
			t[hhN][l] = hhFMA(h, ks[0][hhN][l], y[hhN][l])
		}
	case 2:
		b30, b31 := q.b30, q.b31
		for _, l := range lanes {
			l &= odeBlock - 1
			h := hs[l]
			t[hhV][l] = arg3(ks, y, hhV, l, h, b30, b31)
			t[hhM][l] = arg3(ks, y, hhM, l, h, b30, b31)
			t[hhH][l] = arg3(ks, y, hhH, l, h, b30, b31)
			t[hhN][l] = arg3(ks, y, hhN, l, h, b30, b31)
		}
	case 3:
		b40, b41, b42 := q.b40, q.b41, q.b42
		for _, l := range lanes {
			l &= odeBlock - 1
			h := hs[l]
			t[hhV][l] = arg4(ks, y, hhV, l, h, b40, b41, b42)
			t[hhM][l] = arg4(ks, y, hhM, l, h, b40, b41, b42)
			t[hhH][l] = arg4(ks, y, hhH, l, h, b40, b41, b42)
			t[hhN][l] = arg4(ks, y, hhN, l, h, b40, b41, b42)
		}
	case 4:
		b50, b51, b52, b53 := q.b50, q.b51, q.b52, q.b53
		for _, l := range lanes {
			l &= odeBlock - 1
			h := hs[l]
			var d float64
			d = hhFMA(b51, ks[1][hhV][l], b50*ks[0][hhV][l])
			d = hhFMA(b52, ks[2][hhV][l], d)
			t[hhV][l] = hhFMA(h, hhFMA(b53, ks[3][hhV][l], d), y[hhV][l])
			d = hhFMA(b51, ks[1][hhM][l], b50*ks[0][hhM][l])
			d = hhFMA(b52, ks[2][hhM][l], d)
			t[hhM][l] = hhFMA(h, hhFMA(b53, ks[3][hhM][l], d), y[hhM][l])
			d = hhFMA(b51, ks[1][hhH][l], b50*ks[0][hhH][l])
			d = hhFMA(b52, ks[2][hhH][l], d)
			t[hhH][l] = hhFMA(h, hhFMA(b53, ks[3][hhH][l], d), y[hhH][l])
			d = hhFMA(b51, ks[1][hhN][l], b50*ks[0][hhN][l])
			d = hhFMA(b52, ks[2][hhN][l], d)
			t[hhN][l] = hhFMA(h, hhFMA(b53, ks[3][hhN][l], d), y[hhN][l])
		}
	default:
		b60, b61, b62, b63, b64 := q.b60, q.b61, q.b62, q.b63, q.b64
		for _, l := range lanes {
			l &= odeBlock - 1
			h := hs[l]
			var d float64
			d = hhFMA(b61, ks[1][hhV][l], b60*ks[0][hhV][l])
			d = hhFMA(b62, ks[2][hhV][l], d)
			d = hhFMA(b63, ks[3][hhV][l], d)
			t[hhV][l] = hhFMA(h, hhFMA(b64, ks[4][hhV][l], d), y[hhV][l])
			d = hhFMA(b61, ks[1][hhM][l], b60*ks[0][hhM][l])
			d = hhFMA(b62, ks[2][hhM][l], d)
			d = hhFMA(b63, ks[3][hhM][l], d)
			t[hhM][l] = hhFMA(h, hhFMA(b64, ks[4][hhM][l], d), y[hhM][l])
			d = hhFMA(b61, ks[1][hhH][l], b60*ks[0][hhH][l])
			d = hhFMA(b62, ks[2][hhH][l], d)
			d = hhFMA(b63, ks[3][hhH][l], d)
			t[hhH][l] = hhFMA(h, hhFMA(b64, ks[4][hhH][l], d), y[hhH][l])
			d = hhFMA(b61, ks[1][hhN][l], b60*ks[0][hhN][l])
			d = hhFMA(b62, ks[2][hhN][l], d)
			d = hhFMA(b63, ks[3][hhN][l], d)
			t[hhN][l] = hhFMA(h, hhFMA(b64, ks[4][hhN][l], d), y[hhN][l])
		}
	}
}

// arg3 and arg4 are component c of lane l of the arguments of k3 and
// k4, as args forms them (args4 writes out those of k5 and k6: as
// functions they are not inlined).
func arg3(ks *[6]hhLanes, y *hhLanes, c int, l int32, h, b0, b1 float64) float64 {
	return hhFMA(h, hhFMA(b1, ks[1][c][l], b0*ks[0][c][l]), y[c][l])
}

func arg4(ks *[6]hhLanes, y *hhLanes, c int, l int32, h, b0, b1, b2 float64) float64 {
	d := hhFMA(b1, ks[1][c][l], b0*ks[0][c][l])
	return hhFMA(h, hhFMA(b2, ks[2][c][l], d), y[c][l])
}

// hhK holds the kernel's constants, read only. Go reloads a constant
// from memory at every use in a loop (it rematerializes constants
// rather than keep them in registers), and in these loops those loads
// were the bottleneck: the loads of one lane's stage-6 argument took 8.2
// ns for four components with constants, 5.4 with the coefficients read
// once from here into registers. A variable, so that the compiler cannot
// fold it into constants.
var hhK = struct {
	a0, b30, b31, b40, b41, b42, b50, b51, b52, b53, b60, b61, b62, b63, b64 float64
	c1, c3, c4, c5, c6, e1, e3, e4, e5, e6                                   float64

	// evalLanes: hhExpPoly's coefficients and core's other constants.
	p0, p1, p2, p3, p4, p5, p6, p7, p8                                float64
	c65, c720, c007, lo, hi, one, ex3, ex25, exE, c40, c55, c01, sing float64
}{
	rkfA0, rkfB30, rkfB31, rkfB40, rkfB41, rkfB42, rkfB50, rkfB51, rkfB52, rkfB53, rkfB60, rkfB61, rkfB62, rkfB63, rkfB64,
	rkfC1, rkfC3, rkfC4, rkfC5, rkfC6, rkfE1, rkfE3, rkfE4, rkfE5, rkfE6,
	hhP0, hhP1, hhP2, hhP3, hhP4, hhP5, hhP6, hhP7, hhP8,
	65, -1.0 / 720, 0.07, hhExpLo, hhExpHi, 1, hhE3, hhE25, math.E, 40, 55, 0.1, 1e-4,
}

// gather loads lanes 0..nl-1 of y (state by component, then neuron) for
// the neurons in idx.
func (k *hhRKF) gather(y [][]float64, nl int) {
	for c := range k.dim() {
		row, kc := y[c], &k.y[c]
		for l, i := range k.idx[:nl] {
			kc[l] = row[i]
		}
	}
}

// scatter stores lanes 0..nl-1 back to y.
func (k *hhRKF) scatter(y [][]float64, nl int) {
	for c := range k.dim() {
		row, kc := y[c], &k.y[c]
		for l, i := range k.idx[:nl] {
			row[i] = kc[l]
		}
	}
}

// finite tells whether every component of lanes 0..nl-1 is finite: x - x
// is 0 for a finite x and NaN for NaN and +-Inf.
func (k *hhRKF) finite(nl int) bool {
	acc := 0.0
	for c := range k.dim() {
		kc := &k.y[c]
		for l := range nl {
			x := kc[l&(odeBlock-1)]
			acc += x - x
		}
	}
	return acc == 0
}

// advance moves lanes 0..n-1 (idx, in and y set by the caller, y by
// gather) from t_k
// to t_{k+1}, as odeSolver.rkf45.
func (k *hhRKF) advance(n int) error {
	h, dim := k.h, k.dim()
	act := k.act[:0]
	for l := range n {
		act = append(act, int32(l))
		k.t[l], k.tries[l] = 0, 0
	}
	fresh := k.fresh[:0]
	fresh = append(fresh, act...)
	for len(act) > 0 {
		// One gsl_odeiv_evolve_apply call starts from t0 for the fresh
		// lanes: k1 = f(y0), shared by all its attempts.
		k.stage(0, fresh)
		for _, l := range fresh {
			l &= odeBlock - 1
			k.t0[l] = k.t[l]
		}
		for _, l := range act {
			l &= odeBlock - 1
			hs, final := k.hi[k.idx[l]], false
			if hs > h-k.t0[l] {
				hs, final = h-k.t0[l], true
			}
			k.hs[l], k.final[l] = hs, final
		}
		k.fehlberg(act, dim)
		if !hhSIMD {
			k.roots(act)
		}
		keep, fresh2 := act[:0], k.fresh[:0]
		for _, l := range act {
			l &= odeBlock - 1
			i := k.idx[l]
			k.tries[l]++
			if k.tries[l] > rkfMaxAttempts {
				return fmt.Errorf("neuron %d: RKF45 needed more than %d attempts in one step (last step size %g ms)", i, rkfMaxAttempts, k.hi[i])
			}
			hs, tnew := k.hs[l], h
			if !k.final[l] {
				tnew = k.t0[l] + hs
			}
			hi, retry := rkfControlRoots(k.rmax[l], k.inv5[l], k.inv6[l], hs, tnew)
			k.hi[i] = hi
			if retry {
				keep = append(keep, l) // attempt again from t0
				continue
			}
			for c := range dim {
				k.y[c][l] = k.ynew[c][l]
			}
			k.t[l] = tnew
			if tnew < h {
				keep = append(keep, l)
				fresh2 = append(fresh2, l)
			}
		}
		act, fresh = keep, fresh2
	}
	return nil
}

// fehlberg is odeSolver.fehlberg for the lanes in act: the five further
// stages, ynew with the 5th-order weights, and the largest |error| in
// emax (a NaN error is skipped, as there).
func (k *hhRKF) fehlberg(act []int32, dim int) {
	if hhSIMD {
		groups := hhGroups(act) // once for the five stages and the sums
		for s := 1; s < 6; s++ {
			k.stageVec(s, groups)
		}
		k.sumsVec(groups, dim)
		return
	}
	for s := 1; s < 6; s++ {
		k.stageScalar(s, act)
	}
	k.sums(act, dim)
}

// sums is fehlberg's sums in scalar code: ynew and the largest |error|
// per lane in emax.
func (k *hhRKF) sums(act []int32, dim int) {
	hs, emax := &k.hs, &k.emax
	for _, l := range act {
		emax[l&(odeBlock-1)] = 0
	}
	// Per component, pointers to its rows: the compiler does not hoist
	// the row addresses out of the lane loops itself. The weights from
	// hhK, as in args.
	q := &hhK
	c1, c3, c4, c5, c6 := q.c1, q.c3, q.c4, q.c5, q.c6
	e1, e3, e4, e5, e6 := q.e1, q.e3, q.e4, q.e5, q.e6
	for c := range dim {
		yn, y := &k.ynew[c], &k.y[c]
		k1, k3, k4, k5, k6 := &k.ks[0][c], &k.ks[2][c], &k.ks[3][c], &k.ks[4][c], &k.ks[5][c]
		for _, l := range act {
			l &= odeBlock - 1
			h := hs[l]
			a1, a3, a4, a5, a6 := k1[l], k3[l], k4[l], k5[l], k6[l]
			d := hhFMA(c6, a6, hhFMA(c5, a5, hhFMA(c4, a4, hhFMA(c3, a3, c1*a1))))
			yn[l] = hhFMA(h, d, y[l])
			e := h * hhFMA(e6, a6, hhFMA(e5, a5, hhFMA(e4, a4, hhFMA(e3, a3, e1*a1))))
			if a := math.Abs(e); a > emax[l] {
				emax[l] = a
			}
		}
	}
}

// hhGroups has bit g set if one of lanes is in 4g..4g+3: the groups of
// four lanes the vector kernel (hh_amd64.s) computes. It computes all
// four lanes of a group: the others' results are not used, except that
// a lane retrying an attempt gets its k1 again, from the same y.
func hhGroups(lanes []int32) uint {
	var g uint
	for _, l := range lanes {
		g |= 1 << (uint(l) >> 2 & (odeBlock/4 - 1))
	}
	return g
}

// roots sets rmax and the root of it rkfControl takes, inv5 or inv6 (if
// any), for the lanes in act, for rkfControlRoots: rkfControl's
// operations, in a loop of their own. The roots are ~80 cycles of
// dependent operations; in the loop of the control's decisions, with
// its branches, little of one lane's chain overlapped the next's:
// rkfControl took 10% of HH1000 RKF45; roots and rkfControlRoots
// take 8%.
func (k *hhRKF) roots(act []int32) {
	for _, l := range act {
		l &= odeBlock - 1
		rmax := max(k.emax[l]/rkfEpsAbs, dblMin)
		k.rmax[l] = rmax
		if rmax > 1.1 {
			if rmax < rkfShrinkCap {
				k.inv5[l] = rkfInvRoot5(rmax)
			}
		} else if rmax < 0.5 && rmax > rkfGrowCap {
			k.inv6[l] = rkfInvRoot6(rmax)
		}
	}
}

// rkfControlRoots is rkfControl given rmax and rkfInvRoot5(rmax) and
// rkfInvRoot6(rmax) (only the one its branch needs is meaningful).
func rkfControlRoots(rmax, inv5, inv6, hs, tnew float64) (hi float64, retry bool) {
	if rmax > 1.1 {
		q := 0.2
		if rmax < rkfShrinkCap {
			q = max(0.9*inv5, 0.2)
		}
		hnew := q * hs
		if hnew < hs && tnew+hnew != tnew {
			return hnew, true
		}
		return hs, false
	}
	if rmax < 0.5 {
		q := 5.0
		if rmax > rkfGrowCap {
			q = max(min(0.9*inv6, 5), 1)
		}
		return q * hs, false
	}
	return hs, false
}
