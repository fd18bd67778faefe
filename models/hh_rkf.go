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
// fused multiply-adds (math.FMA, one instruction on arm64, amd64 with
// FMA and arm with VFPv4), one rounding where the generic solver has
// two. So one step agrees with the generic solver's to a few ulps
// (TestHHRKFMatchesGeneric states the bound), and:
// the block's state is stored component by component (structure of
// arrays, lane index last, fixed-size arrays, so no bounds checks), the
// right-hand side is called directly rather than through an interface
// per neuron and stage, and the error norm is taken in the loop that
// forms the new state.
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
	rmax, inv5, inv6 [odeBlock]float64 // vector kernel: rkfControl's rmax and its roots (hh_simd.go)
	final            [odeBlock]bool
	tries            [odeBlock]int32
	act, fresh       [odeBlock]int32 // lanes still integrating; lanes starting a sub-step
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

// stageScalar is stage one lane at a time.
func (k *hhRKF) stageScalar(s int, lanes []int32) {
	if k.psc {
		for c := hhDIe; c <= hhIi; c++ {
			k.combine(s, c, lanes)
		}
	}
	y, ks, tmp, dst := &k.y, &k.ks, &k.tmp, &k.ks[s]
	r := k.rhs
	invCm, invE, invI := r.invCm, r.invTauE, r.invTauI
	for _, l := range lanes {
		l &= odeBlock - 1
		hs := k.hs[l]
		var v, m, h, n float64
		switch s {
		case 0:
			v, m, h, n = y[hhV][l], y[hhM][l], y[hhH][l], y[hhN][l]
		case 1:
			v, m, h, n = arg2(hhV, l, hs, y, ks), arg2(hhM, l, hs, y, ks), arg2(hhH, l, hs, y, ks), arg2(hhN, l, hs, y, ks)
		case 2:
			v, m, h, n = arg3(hhV, l, hs, y, ks), arg3(hhM, l, hs, y, ks), arg3(hhH, l, hs, y, ks), arg3(hhN, l, hs, y, ks)
		case 3:
			v, m, h, n = arg4(hhV, l, hs, y, ks), arg4(hhM, l, hs, y, ks), arg4(hhH, l, hs, y, ks), arg4(hhN, l, hs, y, ks)
		case 4:
			v, m, h, n = arg5(hhV, l, hs, y, ks), arg5(hhM, l, hs, y, ks), arg5(hhH, l, hs, y, ks), arg5(hhN, l, hs, y, ks)
		default:
			v, m, h, n = arg6(hhV, l, hs, y, ks), arg6(hhM, l, hs, y, ks), arg6(hhH, l, hs, y, ks), arg6(hhN, l, hs, y, ks)
		}
		num, dm, dh, dn := r.core(k.in[l], v, m, h, n)
		if k.psc {
			dIe, iE, dIi, iI := tmp[hhDIe][l], tmp[hhIe][l], tmp[hhDIi][l], tmp[hhIi][l]
			dst[hhV][l] = (num + iE + iI) * invCm
			dst[hhDIe][l] = -dIe * invE
			dst[hhIe][l] = dIe - iE*invE
			dst[hhDIi][l] = -dIi * invI
			dst[hhIi][l] = dIi - iI*invI
		} else {
			dst[hhV][l] = num * invCm
		}
		dst[hhM][l], dst[hhH][l], dst[hhN][l] = dm, dh, dn
	}
}

// combine writes component c of stage s's argument to tmp.
func (k *hhRKF) combine(s, c int, lanes []int32) {
	t, y, hs := &k.tmp[c], &k.y, &k.hs
	for _, l := range lanes {
		l &= odeBlock - 1
		switch s {
		case 0:
			t[l] = y[c][l]
		case 1:
			t[l] = arg2(c, l, hs[l], y, &k.ks)
		case 2:
			t[l] = arg3(c, l, hs[l], y, &k.ks)
		case 3:
			t[l] = arg4(c, l, hs[l], y, &k.ks)
		case 4:
			t[l] = arg5(c, l, hs[l], y, &k.ks)
		default:
			t[l] = arg6(c, l, hs[l], y, &k.ks)
		}
	}
}

// arg2 .. arg6 are component c of lane l of the arguments of k2 .. k6.
func arg2(c int, l int32, hs float64, y *hhLanes, ks *[6]hhLanes) float64 {
	return math.FMA(rkfA0*hs, ks[0][c][l], y[c][l])
}

func arg3(c int, l int32, hs float64, y *hhLanes, ks *[6]hhLanes) float64 {
	return math.FMA(hs, math.FMA(rkfB31, ks[1][c][l], rkfB30*ks[0][c][l]), y[c][l])
}

func arg4(c int, l int32, hs float64, y *hhLanes, ks *[6]hhLanes) float64 {
	d := math.FMA(rkfB41, ks[1][c][l], rkfB40*ks[0][c][l])
	d = math.FMA(rkfB42, ks[2][c][l], d)
	return math.FMA(hs, d, y[c][l])
}

func arg5(c int, l int32, hs float64, y *hhLanes, ks *[6]hhLanes) float64 {
	d := math.FMA(rkfB51, ks[1][c][l], rkfB50*ks[0][c][l])
	d = math.FMA(rkfB52, ks[2][c][l], d)
	d = math.FMA(rkfB53, ks[3][c][l], d)
	return math.FMA(hs, d, y[c][l])
}

func arg6(c int, l int32, hs float64, y *hhLanes, ks *[6]hhLanes) float64 {
	d := math.FMA(rkfB61, ks[1][c][l], rkfB60*ks[0][c][l])
	d = math.FMA(rkfB62, ks[2][c][l], d)
	d = math.FMA(rkfB63, ks[3][c][l], d)
	d = math.FMA(rkfB64, ks[4][c][l], d)
	return math.FMA(hs, d, y[c][l])
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
			var hi float64
			var retry bool
			if hhSIMD {
				hi, retry = rkfControlRoots(k.rmax[l], k.inv5[l], k.inv6[l], hs, tnew)
			} else {
				hi, retry = rkfControl(k.emax[l], hs, tnew)
			}
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
	for s := 1; s < 6; s++ {
		k.stage(s, act)
	}
	if hhSIMD {
		k.sumsVec(hhGroups(act), dim)
		return
	}
	hs, emax := &k.hs, &k.emax
	for _, l := range act {
		emax[l&(odeBlock-1)] = 0
	}
	// Per component, pointers to its rows: the compiler does not hoist
	// the row addresses out of the lane loops itself.
	for c := range dim {
		yn, y := &k.ynew[c], &k.y[c]
		k1, k3, k4, k5, k6 := &k.ks[0][c], &k.ks[2][c], &k.ks[3][c], &k.ks[4][c], &k.ks[5][c]
		for _, l := range act {
			l &= odeBlock - 1
			h := hs[l]
			a1, a3, a4, a5, a6 := k1[l], k3[l], k4[l], k5[l], k6[l]
			d := math.FMA(rkfC6, a6, math.FMA(rkfC5, a5, math.FMA(rkfC4, a4, math.FMA(rkfC3, a3, rkfC1*a1))))
			yn[l] = math.FMA(h, d, y[l])
			e := h * math.FMA(rkfE6, a6, math.FMA(rkfE5, a5, math.FMA(rkfE4, a4, math.FMA(rkfE3, a3, rkfE1*a1))))
			if a := math.Abs(e); a > emax[l] {
				emax[l] = a
			}
		}
	}
}

// hhGroups has bit g set if one of lanes is in 4g..4g+3: the groups of
// four lanes the vector kernel (hh_simd.go) computes. It computes all
// four lanes of a group: the others' results are not used, except that
// a lane retrying an attempt gets its k1 again, from the same y.
func hhGroups(lanes []int32) uint {
	var g uint
	for _, l := range lanes {
		g |= 1 << (uint(l) >> 2 & (odeBlock/4 - 1))
	}
	return g
}
