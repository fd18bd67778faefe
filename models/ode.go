package models

import (
	"fmt"
	"math"
)

// Method is an ODE solver method (docs/models/solvers.md).
type Method int

const (
	Euler    Method = iota // one forward-Euler step of length h
	ExpEuler               // exact propagators (linear models) or phi(J h) form (nonlinear)
	RK4                    // classical 4-stage Runge-Kutta, one step of length h
	RKF45                  // GSL rkf45 with NEST's step control, step size carried over
)

// methodNames are the network-file spellings, indexed by Method. Every
// model on docs/models/solvers.md accepts all four, so this is also the Choices
// list of every `method` parameter.
var methodNames = []string{"EULER", "EXP_EULER", "RK4", "RKF45"}

func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// methodParam is the schema row of `method` with the model's default.
func methodParam(def Method) Param {
	return Param{Name: "method", Kind: Enum, Default: def.String(), Choices: methodNames,
		Doc: "ODE solver (docs/models/solvers.md); NEST parity holds for the default"}
}

// parseMethod reads `method`. The decoder has already checked it against
// Choices, so an unknown name here is a schema mistake, still reported
// as a parameter error.
func parseMethod(b *Build) (Method, error) {
	s := b.Str("method")
	for i, n := range methodNames {
		if s == n {
			return Method(i), nil
		}
	}
	return 0, paramErr("method", "must be one of EULER, EXP_EULER, RK4, RKF45, got %q", s)
}

// odeRHS is the right-hand side of the ODE of neuron i of a population,
// dy/dt = f(y), with the inputs of the step held constant. The model
// makes neuron i's inputs (and whether its clamped components are frozen)
// available before calling odeSolver.advance; deriv must not allocate.
type odeRHS interface {
	deriv(i int32, y, dy []float64)
}

// diagJacobian is implemented by nonlinear models for EXP_EULER: it writes
// J_i = df_i/dy_i at y (docs/models/solvers.md). Linear models use their exact
// propagators for EXP_EULER and never reach the generic solver with it.
type diagJacobian interface {
	diagJac(i int32, y, j []float64)
}

// Standard control of NEST's hh_psc_alpha: gsl_odeiv_control_y_new(1e-3, 0).
const (
	rkfEpsAbs = 1e-3
	dblMin    = 2.2250738585072014e-308 // DBL_MIN, GSL's floor for rmax
	// rkfMaxAttempts bounds the attempts within one simulation step. GSL
	// has no bound; a state that diverges can otherwise shrink the step to
	// one ulp of t and take ~1e15 attempts. No well-posed neuron comes
	// near it (HH at 1000 pA takes a few per step).
	rkfMaxAttempts = 1 << 20
)

// odeBlock is how many neurons the solver advances together, stage by
// stage, so that consecutive evaluations are independent work rather than
// one neuron's chain of dependent ones. Each neuron's arithmetic is
// exactly the one-neuron algorithm (TestBlocksMatchSingleNeurons). On
// the 2-core x86 development box an HH step took ~320 ns one neuron at a
// time and ~210 ns in blocks (4 to 32 lanes all alike).
const odeBlock = 16

// odeSolver advances the state vectors of a block of neurons by one
// simulation step with a generic method. One solver serves a whole
// population: the scratch is allocated once, and RKF45's carried step
// size is kept per neuron.
type odeSolver struct {
	method Method
	h      float64
	dim    int
	sys    odeRHS
	jac    diagJacobian // EXP_EULER only
	hi     []float64    // RKF45: per-neuron integration step, starts at h

	// Per-lane vectors, lane after lane (odeBlock*dim each), and each
	// lane's views of them, made once rather than sliced in every stage.
	tmp, ynew, yerr        []float64
	k1, k2, k3, k4, k5, k6 []float64
	lv                     [odeBlock]laneVecs

	// RKF45 per-lane bookkeeping.
	t, t0, hs [odeBlock]float64
	final     [odeBlock]bool
	fresh     [odeBlock]bool // a new sub-step starts: k1 must be evaluated
	tries     [odeBlock]int
	act       [odeBlock]int32 // lanes still integrating
}

// newODESolver makes a solver for a population of size neurons whose state
// vector has dim components. For EXP_EULER sys must also implement
// diagJacobian.
func newODESolver(m Method, h float64, dim, size int, sys odeRHS) *odeSolver {
	s := &odeSolver{method: m, h: h, dim: dim, sys: sys}
	if m == ExpEuler {
		j, ok := sys.(diagJacobian)
		if !ok {
			panic(fmt.Sprintf("models: %T has no diagonal Jacobian for EXP_EULER", sys))
		}
		s.jac = j
	}
	if m == RKF45 {
		s.hi = make([]float64, size)
		for i := range s.hi {
			s.hi[i] = h
		}
	}
	n := odeBlock * dim
	buf := make([]float64, 9*n)
	next := func() []float64 { v := buf[:n:n]; buf = buf[n:]; return v }
	s.tmp, s.ynew, s.yerr = next(), next(), next()
	s.k1, s.k2, s.k3, s.k4, s.k5, s.k6 = next(), next(), next(), next(), next(), next()
	for l := range s.lv {
		s.lv[l] = laneVecs{tmp: s.lane(s.tmp, l), ynew: s.lane(s.ynew, l), yerr: s.lane(s.yerr, l),
			k1: s.lane(s.k1, l), k2: s.lane(s.k2, l), k3: s.lane(s.k3, l), k4: s.lane(s.k4, l), k5: s.lane(s.k5, l), k6: s.lane(s.k6, l)}
	}
	return s
}

// laneVecs are one lane's state (y, set by advance) and scratch vectors.
type laneVecs struct {
	y, tmp, ynew, yerr     []float64
	k1, k2, k3, k4, k5, k6 []float64
}

// lane returns lane l's part of a per-lane vector.
func (s *odeSolver) lane(v []float64, l int) []float64 {
	return v[l*s.dim : (l+1)*s.dim : (l+1)*s.dim]
}

// advance moves the states of neurons idx (at most odeBlock, stored lane
// after lane in y, dim values each) from t_k to t_{k+1}. It fails only
// when RKF45 cannot finish a neuron's step (rkfMaxAttempts).
func (s *odeSolver) advance(idx []int32, y []float64) error {
	for l := range idx {
		s.lv[l].y = s.lane(y, l)
	}
	switch s.method {
	case Euler:
		s.euler(idx)
	case ExpEuler:
		s.expEuler(idx)
	case RK4:
		s.rk4(idx)
	case RKF45:
		return s.rkf45(idx)
	}
	return nil
}

func (s *odeSolver) euler(idx []int32) {
	h := s.h
	for l, i := range idx {
		v := &s.lv[l]
		s.sys.deriv(i, v.y, v.k1)
		f := v.k1[:len(v.y)]
		for j := range v.y {
			v.y[j] += h * f[j]
		}
	}
}

// expEuler is y_i += h*phi(J_i h)*f_i(y), J and f both at the start of the step.
func (s *odeSolver) expEuler(idx []int32) {
	h := s.h
	for l, i := range idx {
		v := &s.lv[l]
		s.sys.deriv(i, v.y, v.k1)
		s.jac.diagJac(i, v.y, v.k2)
		f, jd := v.k1[:len(v.y)], v.k2[:len(v.y)]
		for j := range v.y {
			v.y[j] += h * phi(jd[j]*h) * f[j]
		}
	}
}

// phi is expm1(z)/z with its limit 1 at 0 (docs/models/solvers.md).
func phi(z float64) float64 {
	if math.Abs(z) < 1e-10 {
		return 1
	}
	return math.Expm1(z) / z
}

func (s *odeSolver) rk4(idx []int32) {
	h := s.h
	for l, i := range idx {
		s.sys.deriv(i, s.lv[l].y, s.lv[l].k1)
	}
	for l, i := range idx {
		v := &s.lv[l]
		tmp := v.tmp
		y, k1 := v.y[:len(tmp)], v.k1[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + (h/2)*k1[j]
		}
		s.sys.deriv(i, tmp, v.k2)
	}
	for l, i := range idx {
		v := &s.lv[l]
		tmp := v.tmp
		y, k2 := v.y[:len(tmp)], v.k2[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + (h/2)*k2[j]
		}
		s.sys.deriv(i, tmp, v.k3)
	}
	for l, i := range idx {
		v := &s.lv[l]
		tmp := v.tmp
		y, k3 := v.y[:len(tmp)], v.k3[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + h*k3[j]
		}
		s.sys.deriv(i, tmp, v.k4)
	}
	for l := range idx {
		v := &s.lv[l]
		y := v.y
		k1, k2, k3, k4 := v.k1[:len(y)], v.k2[:len(y)], v.k3[:len(y)], v.k4[:len(y)]
		for j := range y {
			y[j] = y[j] + (h/6)*(k1[j]+2*k2[j]+2*k3[j]+k4[j])
		}
	}
}

// rkf45 is docs/models/solvers.md, gsl_odeiv_evolve_apply called repeatedly until
// the simulation step is covered, with GSL's rkf45 stepper and the
// standard control (eps_abs 1e-3, eps_rel 0), as NEST's hh_psc_alpha does.
// The carried step hi may exceed h; it is only truncated for the attempt.
//
// The lanes make their attempts in lockstep, each with its own t, step
// and outcome; a lane that has covered the step drops out. Per lane the
// operations are exactly those of the one-neuron loop: y holds the start
// of the current sub-step (GSL's y0), k1 = f(y) is shared by all attempts
// from it, and an accepted attempt's ynew becomes the next y.
func (s *odeSolver) rkf45(idx []int32) error {
	h := s.h
	act := s.act[:0]
	for l := range idx {
		act = append(act, int32(l))
		s.t[l], s.fresh[l], s.tries[l] = 0, true, 0
	}
	for len(act) > 0 {
		for _, l := range act {
			if s.fresh[l] {
				// One gsl_odeiv_evolve_apply call starts from t0.
				s.sys.deriv(idx[l], s.lv[l].y, s.lv[l].k1)
				s.fresh[l], s.t0[l] = false, s.t[l]
			}
			hs, final := s.hi[idx[l]], false
			if hs > h-s.t0[l] {
				hs, final = h-s.t0[l], true
			}
			s.hs[l], s.final[l] = hs, final
		}
		s.fehlberg(idx, act)
		keep := act[:0]
		for _, l := range act {
			i := idx[l]
			s.tries[l]++
			if s.tries[l] > rkfMaxAttempts {
				return fmt.Errorf("neuron %d: RKF45 needed more than %d attempts in one step (last step size %g ms)", i, rkfMaxAttempts, s.hi[i])
			}
			hs, tnew := s.hs[l], h
			if !s.final[l] {
				tnew = s.t0[l] + hs
			}
			// std_control_hadjust with a_y = 1, a_dydt = 0, eps_rel = 0:
			// rmax = max(DBL_MIN, max_i |err_i|/eps_abs). A NaN error
			// compares false and is skipped, as with GSL_MAX_DBL. Dividing
			// the largest |err_i| once gives the same number as dividing
			// each: correctly rounded division by a positive constant is
			// monotonic.
			emax := 0.0
			for _, e := range s.lv[l].yerr {
				if a := math.Abs(e); a > emax {
					emax = a
				}
			}
			hi, retry := rkfControl(emax, hs, tnew)
			s.hi[i] = hi
			if retry {
				keep = append(keep, l) // attempt again from t0
				continue
			}
			copy(s.lv[l].y, s.lv[l].ynew)
			s.t[l], s.fresh[l] = tnew, true
			if tnew < h {
				keep = append(keep, l)
			}
		}
		act = keep
	}
	return nil
}

// rkfControl is GSL's std_control_hadjust (eps_abs 1e-3, eps_rel 0,
// ord 5) followed by evolve.c's decision, for an attempt of length hs
// ending at tnew whose largest |error| is emax. It returns the step size
// to carry and whether to retry the attempt from its start with it.
func rkfControl(emax, hs, tnew float64) (hi float64, retry bool) {
	rmax := max(emax/rkfEpsAbs, dblMin)
	if rmax > 1.1 {
		q := 0.2 // 0.9/rmax^(1/5) (ord = 5) is below 0.2 from rmax = 4.5^5 on
		if rmax < rkfShrinkCap {
			q = max(0.9*rkfInvRoot5(rmax), 0.2)
		}
		hnew := q * hs
		// evolve.c: retry only if h really shrank and still moves t.
		if hnew < hs && tnew+hnew != tnew {
			return hnew, true
		}
		return hs, false
	}
	if rmax < 0.5 {
		q := 5.0 // 0.9/rmax^(1/6) is above 5 up to rmax = 0.18^6
		if rmax > rkfGrowCap {
			q = max(min(0.9*rkfInvRoot6(rmax), 5), 1)
		}
		return q * hs, false
	}
	return hs, false
}

// Where GSL's step factors reach their clamps, 0.2 and 5.
const (
	rkfShrinkCap = 4.5 * 4.5 * 4.5 * 4.5 * 4.5             // (0.9/0.2)^5
	rkfGrowCap   = 0.18 * 0.18 * 0.18 * 0.18 * 0.18 * 0.18 // (0.9/5)^6
)

// rkfInvRoot5 and rkfInvRoot6 are r^(-1/5) and r^(-1/6) for the step
// factors, r a positive normal number (rkfControl passes r in (1.1,
// 4.5^5) and (0.18^6, 0.5)), to within ~4 ulps (TestRKFInvRoot). GSL
// divides by pow(r, 1/ord); pow's last bit differs between libms anyway,
// and a few ulps move the next step size by ~1e-15 relative. math.Pow,
// or exp(log(r)/6), cost as much as the rest of the control did.
//
// With r = m 2^e, m in [1, 2) and e = n q + f, 0 <= f < n:
// r^(-1/n) = m^(-1/n) 2^(-f/n) 2^(-q). m^(-1/n) starts from a quartic
// fit (Chebyshev, mpmath; relative error below 2.3e-5) refined by two
// Newton steps for z^-n = m, z <- z + z (1 - m z^n)/n, each of which
// squares the error (times (n+1)/2): 2.3e-5, 2e-9, 1e-17, then rounding.
// Every product rounds (float64()), also where the compiler would fuse
// it with the addition that follows (arm64, GOAMD64=v3): the vector
// kernel (hh_amd64.s) computes the same numbers.
func rkfInvRoot5(r float64) float64 {
	m, q, f := rkfSplit(r, 5)
	z := float64(rkfQ50*m) - rkfQ51
	z = float64(z*m) + rkfQ52
	z = float64(z*m) - rkfQ53
	z = float64(z*m) + rkfQ54
	for range 2 {
		z2 := z * z
		d := 1 - float64(m*(z2*z2*z))
		z += float64(z * d * (1.0 / 5))
	}
	return z * rkfRoot5[f] * pow2(-q)
}

func rkfInvRoot6(r float64) float64 {
	m, q, f := rkfSplit(r, 6)
	z := float64(rkfQ60*m) - rkfQ61
	z = float64(z*m) + rkfQ62
	z = float64(z*m) - rkfQ63
	z = float64(z*m) + rkfQ64
	for range 2 {
		z3 := z * z * z
		d := 1 - float64(m*(z3*z3))
		z += float64(z * d * (1.0 / 6))
	}
	return z * rkfRoot6[f] * pow2(-q)
}

// rkfSplit writes the positive normal r as m 2^(n q + f), m in [1, 2),
// 0 <= f < n.
func rkfSplit(r float64, n int) (m float64, q, f int) {
	b := math.Float64bits(r)
	e := int(b>>52&0x7ff) - 1023
	m = math.Float64frombits(b&(1<<52-1) | 1023<<52)
	q, f = e/n, e%n
	if f < 0 {
		q, f = q-1, f+n
	}
	return m, q, f & 7
}

// pow2 is 2^k for -1022 <= k <= 1023 (rkfSplit's q is within +-205).
func pow2(k int) float64 { return math.Float64frombits(uint64(k+1023) << 52) }

// The quartic fits of m^(-1/5) and m^(-1/6) on [1, 2), highest
// coefficient first, the signs of their terms alternating from +
// (rkfInvRoot5, rkfInvRoot6 and the vector kernel's hhVK).
const (
	rkfQ50, rkfQ51, rkfQ52, rkfQ53, rkfQ54 = 0.014245373683843082, 0.11196867763723466, 0.3606346690427562, 0.6412189998315366, 1.3782854886340428
	rkfQ60, rkfQ61, rkfQ62, rkfQ63, rkfQ64 = 0.01138383974054361, 0.089694145680407, 0.2902565113218118, 0.5227422186560641, 1.3107784956789583
)

// rkfRoot5[f] = 2^(-f/5), rkfRoot6[f] = 2^(-f/6) (math.Exp2 is within
// one ulp). Variables initialized by a function rather than in init(),
// so that other package variables built from them (hhVK) see them
// filled.
var rkfRoot5, rkfRoot6 = rkfRoots(5), rkfRoots(6)

func rkfRoots(n int) [8]float64 {
	var r [8]float64
	for f := range n {
		r[f] = math.Exp2(-float64(f) / float64(n))
	}
	return r
}

// Fehlberg coefficients exactly as GSL's rkf45.c writes them. Untyped
// constant quotients round once to float64, like C's double division.
const (
	rkfA0 = 1.0 / 4.0

	rkfB30, rkfB31 = 3.0 / 32.0, 9.0 / 32.0

	rkfB40, rkfB41, rkfB42 = 1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0

	rkfB50, rkfB51, rkfB52, rkfB53 = 8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0

	rkfB60, rkfB61, rkfB62, rkfB63, rkfB64 = -6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0

	rkfC1, rkfC3, rkfC4, rkfC5, rkfC6 = 902880.0 / 7618050.0, 3953664.0 / 7618050.0, 3855735.0 / 7618050.0, -1371249.0 / 7618050.0, 277020.0 / 7618050.0

	rkfE1, rkfE3, rkfE4, rkfE5, rkfE6 = 1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0
)

// fehlberg is one rkf45_apply for each lane l in act, from y with step
// s.hs[l] and k1 = f(y) already in s.k1; it writes the result GSL keeps
// (the 5th-order weights) to s.ynew and the error estimate to s.yerr.
// Sums run left to right as in rkf45.c, so that the rounding, and with it
// every step-size decision, matches.
func (s *odeSolver) fehlberg(idx, act []int32) {
	// The re-slicing to len(tmp) lets the compiler drop the per-element
	// bounds checks.
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		tmp := v.tmp
		y, k1 := v.y[:len(tmp)], v.k1[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + rkfA0*hs*k1[j]
		}
		s.sys.deriv(idx[l], tmp, v.k2)
	}
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		tmp := v.tmp
		y, k1, k2 := v.y[:len(tmp)], v.k1[:len(tmp)], v.k2[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + hs*(rkfB30*k1[j]+rkfB31*k2[j])
		}
		s.sys.deriv(idx[l], tmp, v.k3)
	}
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		tmp := v.tmp
		y, k1, k2, k3 := v.y[:len(tmp)], v.k1[:len(tmp)], v.k2[:len(tmp)], v.k3[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + hs*(rkfB40*k1[j]+rkfB41*k2[j]+rkfB42*k3[j])
		}
		s.sys.deriv(idx[l], tmp, v.k4)
	}
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		tmp := v.tmp
		y, k1, k2, k3, k4 := v.y[:len(tmp)], v.k1[:len(tmp)], v.k2[:len(tmp)], v.k3[:len(tmp)], v.k4[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + hs*(rkfB50*k1[j]+rkfB51*k2[j]+rkfB52*k3[j]+rkfB53*k4[j])
		}
		s.sys.deriv(idx[l], tmp, v.k5)
	}
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		tmp := v.tmp
		y, k1, k2, k3, k4, k5 := v.y[:len(tmp)], v.k1[:len(tmp)], v.k2[:len(tmp)], v.k3[:len(tmp)], v.k4[:len(tmp)], v.k5[:len(tmp)]
		for j := range tmp {
			tmp[j] = y[j] + hs*(rkfB60*k1[j]+rkfB61*k2[j]+rkfB62*k3[j]+rkfB63*k4[j]+rkfB64*k5[j])
		}
		s.sys.deriv(idx[l], tmp, v.k6)
	}
	for _, l := range act {
		v, hs := &s.lv[l], s.hs[l]
		ynew := v.ynew
		y, yerr, k1 := v.y[:len(ynew)], v.yerr[:len(ynew)], v.k1[:len(ynew)]
		k3, k4, k5, k6 := v.k3[:len(ynew)], v.k4[:len(ynew)], v.k5[:len(ynew)], v.k6[:len(ynew)]
		for j := range ynew {
			d := rkfC1*k1[j] + rkfC3*k3[j] + rkfC4*k4[j] + rkfC5*k5[j] + rkfC6*k6[j]
			ynew[j] = y[j] + hs*d
			yerr[j] = hs * (rkfE1*k1[j] + rkfE3*k3[j] + rkfE4*k4[j] + rkfE5*k5[j] + rkfE6*k6[j])
		}
	}
}

// checkFinite returns a *StateError for the first component of y (named
// by names) that is NaN or infinite.
func checkFinite(i int, y []float64, names []string) error {
	for j, x := range y {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &StateError{Neuron: i, State: names[j], Value: x}
		}
	}
	return nil
}

// --- LIF, ExpLIF and Izhikevich with a non-default method -----------------
//
// Their Step keeps the default method's hand-written loop and branches
// here for the others (docs/models/solvers.md). The neurons to integrate are
// gathered in blocks of odeBlock into the solver's layout, advanced, and
// scattered back in ascending order, so spikes stay sorted.

// odeBatch is the gathered block of a population: neuron indices and
// their state vectors, lane after lane.
type odeBatch struct {
	idx [odeBlock]int32
	y   []float64 // odeBlock*dim
	dim int
}

func newODEBatch(dim int) odeBatch { return odeBatch{y: make([]float64, odeBlock*dim), dim: dim} }

// lane returns lane l's state vector.
func (b *odeBatch) lane(l int) []float64 { return b.y[l*b.dim : (l+1)*b.dim : (l+1)*b.dim] }

// lifRHS is the right-hand side of LIF (no ports) and ExpLIF:
// y = (V, I_syn_0, ..., I_syn_{K-1}).
type lifRHS struct {
	vRest, r, tau float64
	tauSyn        []float64
	ie            []float64 // I_e per neuron
	iext          []float64 // I_ext of the step (nil: none)
	ref           []int32   // refractory counters: V is clamped while > 0
}

func (s *lifRHS) deriv(i int32, y, dy []float64) {
	isyn := 0.0
	for r, ts := range s.tauSyn {
		isyn += y[1+r]
		dy[1+r] = -y[1+r] / ts
	}
	if s.ref[i] != 0 {
		dy[0] = 0
		return
	}
	dy[0] = (-(y[0] - s.vRest) + s.r*(isyn+(s.ie[i]+at(s.iext, int(i))))) / s.tau
}

// lifODE is the generic-method state of a LIF or ExpLIF population.
type lifODE struct {
	rhs   lifRHS
	sol   *odeSolver
	b     odeBatch
	names []string // state names by vector component, for errors
}

func newLIFODE(m Method, h float64, c *lifCommon, tauSyn []float64) *lifODE {
	o := &lifODE{rhs: lifRHS{vRest: c.vRest, r: c.r, tau: c.tau, tauSyn: tauSyn, ie: c.ie, ref: c.ref}}
	dim := 1 + len(tauSyn)
	o.sol = newODESolver(m, h, dim, len(c.v), &o.rhs)
	o.b = newODEBatch(dim)
	o.names = []string{"V"}
	for r := range tauSyn {
		o.names = append(o.names, fmt.Sprintf("I_syn_%d", r))
	}
	return o
}

// stepODE is LIF's step with a generic method (docs/models/lif.md): V is
// advanced unless refractory, then W_0 is added unless refractory.
func (n *LIF) stepODE(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	w0 := port(w, 0)
	o := n.ode
	o.rhs.iext = iext
	for next := 0; next < len(n.v); {
		lanes := 0
		for ; next < len(n.v) && lanes < odeBlock; next++ {
			if n.ref[next] != 0 {
				n.ref[next]-- // V stays at V_reset; the input is discarded
				continue
			}
			o.b.idx[lanes] = int32(next)
			o.b.lane(lanes)[0] = n.v[next]
			lanes++
		}
		if err := o.sol.advance(o.b.idx[:lanes], o.b.y); err != nil {
			return spiked, err
		}
		for l, i := range o.b.idx[:lanes] {
			y := o.b.lane(l)
			if err := checkFinite(int(i), y, o.names); err != nil {
				return spiked, err
			}
			v := y[0] + at(w0, int(i))
			if v >= n.vTh {
				v = n.afterSpike(v)
				n.ref[i] = n.refSteps
				spiked = append(spiked, i)
			}
			n.v[i] = v
		}
	}
	return spiked, nil
}

// stepODE is ExpLIF's step with a generic method (docs/models/lif.md): the PSCs
// are advanced together with V and also while V is clamped; the spikes
// arriving on each port are added after the solver.
func (n *ExpLIF) stepODE(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	o := n.ode
	o.rhs.iext = iext
	for next := 0; next < len(n.v); {
		lanes := 0
		for ; next < len(n.v) && lanes < odeBlock; next++ {
			y := o.b.lane(lanes)
			y[0] = n.v[next]
			for r, is := range n.isyn {
				y[1+r] = is[next]
			}
			o.b.idx[lanes] = int32(next)
			lanes++
		}
		if err := o.sol.advance(o.b.idx[:lanes], o.b.y); err != nil {
			return spiked, err
		}
		for l, i := range o.b.idx[:lanes] {
			y := o.b.lane(l)
			if err := checkFinite(int(i), y, o.names); err != nil {
				return spiked, err
			}
			if n.ref[i] == 0 {
				n.v[i] = y[0]
			} else {
				n.ref[i]--
			}
			for r, is := range n.isyn {
				is[i] = y[1+r] + at(port(w, r), int(i))
			}
			if n.v[i] >= n.vTh {
				n.v[i] = n.afterSpike(n.v[i])
				n.ref[i] = n.refSteps
				spiked = append(spiked, i)
			}
		}
	}
	return spiked, nil
}

// izhRHS is Izhikevich's right-hand side, y = (V, u) (docs/models/izhikevich.md).
type izhRHS struct {
	a, b float64
	ie   []float64
	iext []float64
}

func (s *izhRHS) deriv(i int32, y, dy []float64) {
	v, u := y[0], y[1]
	dy[0] = 0.04*v*v + 5*v + 140 - u + (s.ie[i] + at(s.iext, int(i)))
	dy[1] = s.a * (s.b*v - u)
}

func (s *izhRHS) diagJac(i int32, y, j []float64) {
	j[0] = 0.08*y[0] + 5
	j[1] = -s.a
}

type izhODE struct {
	rhs izhRHS
	sol *odeSolver
	b   odeBatch
}

func newIzhODE(m Method, h float64, n *Izhikevich) *izhODE {
	o := &izhODE{rhs: izhRHS{a: n.a, b: n.b, ie: n.ie}}
	o.sol = newODESolver(m, h, 2, len(n.v), &o.rhs)
	o.b = newODEBatch(2)
	return o
}

var izhNames = []string{"V", "u"}

// stepODE is Izhikevich's step with a method other than EULER: advance
// (V, u), then V += W_0, then the test (docs/models/izhikevich.md).
func (n *Izhikevich) stepODE(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	w0 := port(w, 0)
	o := n.ode
	o.rhs.iext = iext
	for next := 0; next < len(n.v); {
		lanes := 0
		for ; next < len(n.v) && lanes < odeBlock; next++ {
			y := o.b.lane(lanes)
			y[0], y[1] = n.v[next], n.u[next]
			o.b.idx[lanes] = int32(next)
			lanes++
		}
		if err := o.sol.advance(o.b.idx[:lanes], o.b.y); err != nil {
			return spiked, err
		}
		for l, i := range o.b.idx[:lanes] {
			y := o.b.lane(l)
			if err := checkFinite(int(i), y, izhNames); err != nil {
				return spiked, err
			}
			v, u := y[0]+at(w0, int(i)), y[1]
			if v >= n.vTh {
				v = n.c
				u += n.d
				spiked = append(spiked, i)
			}
			n.v[i], n.u[i] = v, u
		}
	}
	return spiked, nil
}

// port returns w[r], or nil when nothing can arrive on port r.
func port(w [][]float64, r int) []float64 {
	if r < len(w) {
		return w[r]
	}
	return nil
}

// at reads x[i], with a nil slice standing for zeros.
func at(x []float64, i int) float64 {
	if x == nil {
		return 0
	}
	return x[i]
}
