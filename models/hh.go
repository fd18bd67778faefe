package models

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// hhParams are the rows of docs/models/hh.md (HH); HHPSC adds tau_syn_e/i.
func hhParams() []Param {
	return []Param{
		{Name: "V_th", Kind: Number, Unit: "mV", Default: 0.0, Doc: "a spike is the first step at or above V_th on the falling flank (NEST: fixed 0)"},
		{Name: "V_reset", Kind: NumberOrNull, Unit: "mV", Default: 0.0, Constraint: "must be 0.0 (unused)", Doc: "not used: HH is never reset"},
		{Name: "c_m", Kind: Number, Unit: "pF", Default: 100.0, Constraint: "> 0", Doc: "membrane capacitance (NEST C_m)"},
		{Name: "g_L", Kind: Number, Unit: "nS", Default: 30.0, Constraint: ">= 0", Doc: "leak conductance"},
		{Name: "E_L", Kind: Number, Unit: "mV", Default: -54.402, Doc: "leak reversal potential"},
		{Name: "g_Na", Kind: Number, Unit: "nS", Default: 12000.0, Constraint: ">= 0", Doc: "sodium peak conductance"},
		{Name: "E_Na", Kind: Number, Unit: "mV", Default: 50.0, Doc: "sodium reversal potential"},
		{Name: "g_K", Kind: Number, Unit: "nS", Default: 3600.0, Constraint: ">= 0", Doc: "potassium peak conductance"},
		{Name: "E_K", Kind: Number, Unit: "mV", Default: -77.0, Doc: "potassium reversal potential"},
		{Name: "I_e", Kind: PerNeuron, Unit: "pA", Default: 0.0, Doc: "constant input current"},
		{Name: "tau_ref", Kind: NumberOrNull, Unit: "ms", Default: nil, Constraint: ">= 0 or null", Doc: "spike-detection dead time; null: one spike per excursion above V_th (NEST uses 2.0)"},
		{Name: "v_init", Kind: PerNeuron, Unit: "mV", Default: -65.0, Doc: "initial V; m, h, n start at their steady state there"},
		methodParam(RKF45),
	}
}

func hhClass() *Class {
	return &Class{
		Name:   "HH",
		Kind:   NeuronClass,
		Doc:    "Hodgkin-Huxley, delta synapses (channel model of NEST hh_psc_alpha)",
		Params: append(hhParams(), neuronBase()...),
		States: []string{"V", "m", "h", "n"},
		Build:  func(b *Build) (Population, error) { return newHH(b, false) },
	}
}

func hhPSCClass() *Class {
	ps := append(hhParams(),
		Param{Name: "tau_syn_e", Kind: Number, Unit: "ms", Default: 0.2, Constraint: "> 0", Doc: "excitatory alpha-PSC time constant (weights > 0)"},
		Param{Name: "tau_syn_i", Kind: Number, Unit: "ms", Default: 2.0, Constraint: "> 0", Doc: "inhibitory alpha-PSC time constant (weights <= 0)"},
	)
	return &Class{
		Name:   "HHPSC",
		Kind:   NeuronClass,
		Doc:    "Hodgkin-Huxley with alpha-shaped PSCs chosen by weight sign (NEST hh_psc_alpha)",
		Params: append(ps, neuronBase()...),
		States: []string{"V", "m", "h", "n", "I_syn_e", "I_syn_i", "dI_syn_e", "dI_syn_i", "I_syn"},
		Build:  func(b *Build) (Population, error) { return newHH(b, true) },
	}
}

// SignSplitter is implemented by neuron models whose spike input goes to
// a port chosen by the sign of each connection's weight, not by its
// receptor (HHPSC, docs/models/hh.md). If SplitsBySign is true the engine calls
// Step with two rows: w[0] sums the connections with w > 0 and w[1] those
// with w <= 0. Ports still returns 1, the only receptor a file may name.
type SignSplitter interface {
	SplitsBySign() bool
}

// Components of the HH state vector, in NEST's order.
const (
	hhV = iota
	hhM
	hhH
	hhN
	hhDIe // derivative state of the excitatory alpha PSC
	hhIe  // excitatory PSC, pA
	hhDIi
	hhIi
)

var hhNames = []string{"V", "m", "h", "n", "dI_syn_e", "I_syn_e", "dI_syn_i", "I_syn_i"}

// HH is docs/models/hh.md (psc false) or HHPSC, docs/models/hh.md (psc true).
type HH struct {
	psc      bool
	vTh      float64
	refSteps int32
	latch    bool // tau_ref is null: one spike per excursion above V_th

	ie   []float64
	y    [][]float64 // [component][neuron], components hhV.. (4 or 8)
	ref  []int32     // detection dead time left
	arm  []bool      // V has been below V_th since the last spike
	sum  []float64   // scratch for I_syn
	pscE float64     // e/tau_syn_e
	pscI float64     // e/tau_syn_i

	rhs hhRHS
	sol *odeSolver
	b   odeBatch

	// HHPSC neurons whose four PSC components are exactly zero (no input
	// yet, as in BenchmarkHH1000) are advanced as plain HH: the zeros stay
	// exact zeros under every method and add nothing to V's derivative or
	// to RKF45's error norm, so the result is bit for bit the same
	// (TestHHPSCZeroShortcut) for half of the solver's vector work.
	core       hhRHS
	coreSol    *odeSolver // shares sol's per-neuron RKF45 step sizes
	coreB      odeBatch
	noShortcut bool // tests: always integrate all eight components

	// RKF45, the default, runs in its own kernels (hh_rkf.go), for all
	// components and (HHPSC) for V, m, h, n alone; nil with other methods
	// or when a test sets them to nil to compare with the generic solver.
	rkf, rkfCore *hhRKF

	// StepRange's RKF45 kernels, one pair per caller stepping at the
	// same time (the engine's threads): a caller takes a pair, or makes
	// one the first time none is free, and gives it back. A kernel's
	// scratch carries nothing from one block to the next, so which pair
	// a range gets changes no result.
	mu    sync.Mutex
	spare []*hhKernels
}

// hhKernels are the RKF45 kernels of one caller of StepRange: all
// components and (HHPSC) V, m, h, n alone.
type hhKernels struct{ full, core *hhRKF }

var (
	_ NeuronModel  = (*HH)(nil)
	_ SignSplitter = (*HH)(nil)
	_ RangeStepper = (*HH)(nil)
)

func newHH(b *Build, psc bool) (*HH, error) {
	if err := checkNeuronBase(b, 1); err != nil {
		return nil, err
	}
	if b.IsNull("V_reset") || b.Float("V_reset") != 0 {
		return nil, paramErr("V_reset", "must be left out: %s is never reset, V follows the channel dynamics (neurai's class has V_reset from its base and ignores it), got %s", b.Class.Name, givenNumber(b, "V_reset"))
	}
	n := &HH{psc: psc, vTh: b.Float("V_th")}
	r := &n.rhs
	r.cm, r.gL, r.eL = b.Float("c_m"), b.Float("g_L"), b.Float("E_L")
	r.gNa, r.eNa, r.gK, r.eK = b.Float("g_Na"), b.Float("E_Na"), b.Float("g_K"), b.Float("E_K")
	if !(r.cm > 0) {
		return nil, paramErr("c_m", "must be > 0, got %g", r.cm)
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"g_L", r.gL}, {"g_Na", r.gNa}, {"g_K", r.gK}} {
		if !(c.v >= 0) {
			return nil, paramErr(c.name, "must be >= 0, got %g", c.v)
		}
	}
	tr := b.Float("tau_ref")
	n.latch = b.IsNull("tau_ref")
	if !n.latch && !(tr >= 0) {
		return nil, paramErr("tau_ref", "must be >= 0 or null, got %g", tr)
	}
	var err error
	if n.refSteps, err = refractorySteps(tr, b.Dt, n.latch); err != nil {
		return nil, err
	}
	dim := 4
	if psc {
		dim = 8
		r.tauE, r.tauI = b.Float("tau_syn_e"), b.Float("tau_syn_i")
		if !(r.tauE > 0) {
			return nil, paramErr("tau_syn_e", "must be > 0, got %g", r.tauE)
		}
		if !(r.tauI > 0) {
			return nil, paramErr("tau_syn_i", "must be > 0, got %g", r.tauI)
		}
		n.pscE, n.pscI = math.E/r.tauE, math.E/r.tauI
	}
	r.psc = psc
	r.invCm = 1 / r.cm
	if psc {
		r.invTauE, r.invTauI = 1/r.tauE, 1/r.tauI
	}
	for j, x := range []float64{r.gNa, r.eNa, r.gK, r.eK, r.gL, r.eL, r.invCm, r.invTauE, r.invTauI} {
		r.vec[j] = [4]float64{x, x, x, x}
	}
	m, err := parseMethod(b)
	if err != nil {
		return nil, err
	}
	if n.ie, err = b.PerUnit("I_e"); err != nil {
		return nil, err
	}
	r.ie = n.ie
	size := b.Size
	n.y = make([][]float64, dim)
	for c := range n.y {
		n.y[c] = make([]float64, size)
	}
	n.ref = make([]int32, size)
	n.arm = make([]bool, size)
	for i := range n.arm {
		n.arm[i] = true
	}
	n.sum = make([]float64, size)
	n.b = newODEBatch(dim)
	n.sol = newODESolver(m, b.Dt, dim, size, &n.rhs)
	if psc {
		n.core = n.rhs
		n.core.psc = false
		n.coreSol = newODESolver(m, b.Dt, 4, size, &n.core)
		n.coreSol.hi = n.sol.hi
		n.coreB = newODEBatch(4)
	}
	if m == RKF45 {
		n.rkf = newHHRKF(&n.rhs, psc, b.Dt, n.sol.hi)
		if psc {
			n.rkfCore = newHHRKF(&n.core, false, b.Dt, n.sol.hi)
		}
	}
	if err := initV(b, n.y[hhV]); err != nil {
		return nil, err
	}
	n.steadyGates(map[string]bool{})
	return n, nil
}

// steadyGates sets every gate not given in `init` to its steady state
// alpha/(alpha+beta) at the neuron's initial V (docs/models/hh.md).
func (n *HH) steadyGates(given map[string]bool) {
	for i, v := range n.y[hhV] {
		r := hhRates(v)
		if !given["m"] {
			n.y[hhM][i] = r.am / (r.am + r.bm)
		}
		if !given["h"] {
			n.y[hhH][i] = r.ah / (r.ah + r.bh)
		}
		if !given["n"] {
			n.y[hhN][i] = r.an / (r.an + r.bn)
		}
	}
}

// afterInit recomputes the gates from an `init` V unless they were given.
func (n *HH) afterInit(given map[string]bool) { n.steadyGates(given) }

// SetInitState sets a state from `init` (xs: one value or one per
// neuron), rejecting gates outside [0, 1] (docs/models/hh.md).
func (n *HH) SetInitState(name string, xs []float64) error {
	dst := n.State(name)
	if dst == nil {
		return fmt.Errorf("state: must be one of %s, got %q", strings.Join(n.StateNames(), ", "), name)
	}
	for i := range dst {
		x := xs[min(i, len(xs)-1)]
		if (name == "m" || name == "h" || name == "n") && !(x >= 0 && x <= 1) {
			return fmt.Errorf("neuron %d: a gating variable must be in [0, 1], got %g", i, x)
		}
		dst[i] = x
	}
	return nil
}

func (n *HH) Size() int            { return len(n.ie) }
func (n *HH) Ports() int           { return 1 }
func (n *HH) SplitsBySign() bool   { return n.psc }
func (n *HH) InitNames() []string  { return n.names(false) }
func (n *HH) StateNames() []string { return n.names(true) }
func (n *HH) names(sum bool) []string {
	s := []string{"V", "m", "h", "n"}
	if n.psc {
		s = append(s, "I_syn_e", "I_syn_i", "dI_syn_e", "dI_syn_i")
		if sum {
			s = append(s, "I_syn")
		}
	}
	return s
}

func (n *HH) State(name string) []float64 {
	switch name {
	case "V":
		return n.y[hhV]
	case "m":
		return n.y[hhM]
	case "h":
		return n.y[hhH]
	case "n":
		return n.y[hhN]
	}
	if !n.psc {
		return nil
	}
	switch name {
	case "I_syn_e":
		return n.y[hhIe]
	case "I_syn_i":
		return n.y[hhIi]
	case "dI_syn_e":
		return n.y[hhDIe]
	case "dI_syn_i":
		return n.y[hhDIi]
	case "I_syn":
		for i := range n.sum {
			n.sum[i] = n.y[hhIe][i] + n.y[hhIi][i]
		}
		return n.sum
	}
	return nil
}

// Step is docs/models/hh.md/8: advance the state with the method (no clamp,
// ever), apply the spike input, then NEST's spike rule (at or above V_th
// and falling), with the latch when tau_ref is null.
func (n *HH) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.rkf != nil {
		return n.stepRKF(n.rkf, n.rkfCore, 0, len(n.ie), iext, w, spiked)
	}
	y, full, core := n.y, &n.b, &n.coreB
	n.rhs.iext, n.core.iext = iext, iext
	for next := 0; next < len(n.ie); {
		// A block of up to odeBlock consecutive neurons, split into those
		// that need all components and those without synaptic current.
		first, nf, nc := next, 0, 0
		var vOld [odeBlock]float64 // V at t_k, for the spike rule
		for ; next < len(n.ie) && next-first < odeBlock; next++ {
			vOld[next-first] = y[hhV][next]
			var buf []float64
			if n.zeroPSC(next) {
				core.idx[nc], buf = int32(next), core.lane(nc)
				nc++
			} else {
				full.idx[nf], buf = int32(next), full.lane(nf)
				nf++
			}
			for c := range buf {
				buf[c] = y[c][next]
			}
		}
		if err := n.sol.advance(full.idx[:nf], full.y); err != nil {
			return spiked, err
		}
		if nc > 0 {
			if err := n.coreSol.advance(core.idx[:nc], core.y); err != nil {
				return spiked, err
			}
		}
		// Back in ascending neuron order, so that spikes stay sorted.
		lf, lc := 0, 0
		for i := int32(first); i < int32(next); i++ {
			var buf []float64
			if lc < nc && core.idx[lc] == i {
				buf = core.lane(lc) // its PSC components are still exactly 0
				lc++
			} else {
				buf = full.lane(lf)
				lf++
			}
			if err := checkFinite(int(i), buf, hhNames); err != nil {
				return spiked, err
			}
			for c := range buf {
				y[c][i] = buf[c]
			}
			spiked = n.afterSolver(i, vOld[int(i)-first], w, spiked)
		}
	}
	return spiked, nil
}

// zeroPSC tells whether neuron i is an HHPSC neuron whose four PSC
// components are exactly zero, to be advanced as plain HH.
func (n *HH) zeroPSC(i int) bool {
	y := n.y
	return n.psc && !n.noShortcut && y[hhDIe][i] == 0 && y[hhIe][i] == 0 && y[hhDIi][i] == 0 && y[hhIi][i] == 0
}

// Splittable implements RangeStepper: with RKF45 every neuron's step is
// its own (each lane of the kernels has its own step size and error
// norm; nothing is reduced across lanes), so blocks that start at other
// neurons change no result. The generic solver keeps its scratch in the
// population: it is not split.
func (n *HH) Splittable() bool { return n.rkf != nil }

// StepRange implements RangeStepper: Step for neurons lo..hi-1, in
// blocks of odeBlock neurons from lo, on kernels of the caller's own.
func (n *HH) StepRange(lo, hi int, iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.rkf == nil {
		return spiked, fmt.Errorf("HH StepRange: only RKF45 steps neurons in ranges")
	}
	k := n.takeKernels()
	spiked, err := n.stepRKF(k.full, k.core, lo, hi, iext, w, spiked)
	n.mu.Lock()
	n.spare = append(n.spare, k)
	n.mu.Unlock()
	return spiked, err
}

// takeKernels returns a free pair of StepRange's kernels, made the first
// time there is none (later steps allocate nothing).
func (n *HH) takeKernels() *hhKernels {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := len(n.spare); l > 0 {
		k := n.spare[l-1]
		n.spare = n.spare[:l-1]
		return k
	}
	k := &hhKernels{full: newHHRKF(&n.rhs, n.psc, n.rkf.h, n.rkf.hi)}
	if n.psc {
		k.core = newHHRKF(&n.core, false, n.rkf.h, n.rkf.hi)
	}
	return k
}

// stepRKF is Step for neurons lo..hi-1 with the RKF45 kernels full and
// core: as the generic path, with the block's state gathered component
// by component.
func (n *HH) stepRKF(full, core *hhRKF, lo, hi int, iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	for first := lo; first < hi; first += odeBlock {
		end := min(first+odeBlock, hi)
		var vOld [odeBlock]float64 // V at t_k, for the spike rule
		copy(vOld[:], n.y[hhV][first:end])
		nf, nc := 0, 0
		for i := first; i < end; i++ {
			k, l := full, nf
			if n.zeroPSC(i) {
				k, l = core, nc
				nc++
			} else {
				nf++
			}
			k.idx[l] = int32(i)
			k.in[l] = n.ie[i] + at(iext, i) // I(k), as hhRHS.deriv forms it
		}
		for _, b := range []struct {
			k     *hhRKF
			lanes int
		}{{full, nf}, {core, nc}} {
			if b.lanes == 0 {
				continue
			}
			b.k.gather(n.y, b.lanes)
			if err := b.k.advance(b.lanes); err != nil {
				return spiked, err
			}
		}
		if err := checkRKF(full, core, nf, nc); err != nil {
			return spiked, err
		}
		full.scatter(n.y, nf)
		if nc > 0 {
			core.scatter(n.y, nc) // its PSC components are still exactly 0
		}
		for i := first; i < end; i++ {
			spiked = n.afterSolver(int32(i), vOld[i-first], w, spiked)
		}
	}
	return spiked, nil
}

// checkRKF returns a *StateError for the lowest neuron of the block with
// a component that is NaN or infinite (the first such component).
func checkRKF(full, core *hhRKF, nf, nc int) error {
	if full.finite(nf) && (nc == 0 || core.finite(nc)) {
		return nil
	}
	var bad *StateError
	for _, b := range []struct {
		k     *hhRKF
		lanes int
	}{{full, nf}, {core, nc}} {
		for l := range b.lanes {
			i := int(b.k.idx[l])
			if bad != nil && bad.Neuron < i {
				break
			}
			for c := range b.k.dim() {
				if x := b.k.y[c][l]; math.IsNaN(x) || math.IsInf(x, 0) {
					bad = &StateError{Neuron: i, State: hhNames[c], Value: x}
					break
				}
			}
		}
	}
	return bad
}

// afterSolver is the rest of neuron i's step once its state at t_{k+1}
// is in n.y: the spike input, then the spike rule with V(t_k) = vOld.
func (n *HH) afterSolver(i int32, vOld float64, w [][]float64, spiked []int32) []int32 {
	y := n.y
	if n.psc {
		// Sign-split input (SignSplitter): w0 > 0 excitatory, w1 <= 0 inhibitory.
		y[hhDIe][i] += n.pscE * at(port(w, 0), int(i))
		y[hhDIi][i] += n.pscI * at(port(w, 1), int(i))
	} else {
		y[hhV][i] += at(port(w, 0), int(i)) // delta input, also during the dead time
	}
	v := y[hhV][i]
	if v < n.vTh {
		n.arm[i] = true
	}
	if n.ref[i] > 0 {
		n.ref[i]--
	} else if v >= n.vTh && vOld > v && (n.arm[i] || !n.latch) {
		n.ref[i] = n.refSteps
		n.arm[i] = false
		spiked = append(spiked, i)
	}
	return spiked
}

// hhRHS is the right-hand side of NEST's hh_psc_alpha_dynamics, with the
// removable singularities of alpha_m and alpha_n filled in.
type hhRHS struct {
	cm, gL, eL, gNa, eNa, gK, eK float64
	tauE, tauI                   float64
	invCm, invTauE, invTauI      float64       // multiplying is cheaper than dividing, per evaluation
	vec                          [9][4]float64 // gNa, eNa, gK, eK, gL, eL, invCm, invTauE, invTauI x4 for the vector kernel (hh_amd64.s)
	psc                          bool
	ie                           []float64 // I_e per neuron
	iext                         []float64 // I_ext of the step (nil: none)
}

type rates struct{ am, bm, ah, bh, an, bn float64 }

// hhRates are the channel rate functions of docs/models/hh.md at V.
func hhRates(v float64) rates {
	var r rates
	x := v + 40
	if x == 0 {
		r.am = 1
	} else {
		r.am = 0.1 * x / -math.Expm1(-x/10)
	}
	r.bm = 4 * math.Exp(-(v+65)/18)
	r.ah = 0.07 * math.Exp(-(v+65)/20)
	r.bh = 1 / (1 + math.Exp(-(v+35)/10))
	x = v + 55
	if x == 0 {
		r.an = 0.1
	} else {
		r.an = 0.01 * x / -math.Expm1(-x/10)
	}
	r.bn = 0.125 * math.Exp(-(v+65)/80)
	return r
}

// The range of hhExpPoly, which covers V from -93.8 to 64.6 mV (core
// takes math.Exp elsewhere); its centre is -0.07.
const hhExpLo, hhExpHi = -0.18, 0.04

// hhExpPoly is exp(a) on [hhExpLo, hhExpHi]
// by a polynomial of degree 8 in t = a + 0.07, |t| <= 0.11: the
// Chebyshev fit of exp(-0.07 + t) (mpmath chebyfit, relative error
// 2.8e-17, 8.4e-17 with the coefficients rounded to float64; Taylor's
// polynomial needs degree 9 here, and degree 12 on the symmetric range
// |a| <= 0.35), its coefficients hhP8 (t^0) .. hhP6 (t^8) below. It is
// evaluated as c0 + t q(t), q in Estrin's scheme: the last addition
// rounds once (the powers of exp(a) the rates take multiply its error by
// up to 72), and the dependency chain stays short. Its fused form is
// small enough to be inlined: math.Exp was a quarter of an HH evaluation.
const (
	hhP0 = 0.4661969099529739 // t^2 (q's t^1)
	hhP1 = 0.9323938199059463 // t^1
	hhP2 = 0.03884974249629459
	hhP3 = 0.1553989699864589
	hhP4 = 0.0012949913530425213
	hhP5 = 0.0077699478642580975
	hhP6 = 2.313184295192173e-05
	hhP7 = 0.00018506873799552313
	hhP8 = 0.9323938199059483 // t^0
)

// hhExpPoly fuses its multiply-adds where hhFMA does (hhFused).
func hhExpPoly(a float64) float64 {
	if hhFused {
		return hhExpPolyFMA(a)
	}
	return hhExpPolyMulAdd(a)
}

// hhExpPolyFMA and hhExpPolyMulAdd are hhExpPoly with hhFMA's operations
// written out, fused or not, which costs the inliner less than hhFMA
// calls: the first stays inlined in core.
func hhExpPolyFMA(a float64) float64 {
	t := a + 0.07
	t2 := t * t
	t4 := t2 * t2
	q01 := math.FMA(hhP0, t, hhP1)
	q23 := math.FMA(hhP2, t, hhP3)
	q45 := math.FMA(hhP4, t, hhP5)
	q67 := math.FMA(hhP6, t, hhP7)
	return math.FMA(t, math.FMA(t4, math.FMA(t2, q67, q45), math.FMA(t2, q23, q01)), hhP8)
}

func hhExpPolyMulAdd(a float64) float64 {
	t := a + 0.07
	t2 := t * t
	t4 := t2 * t2
	q01 := float64(hhP0*t) + hhP1
	q23 := float64(hhP2*t) + hhP3
	q45 := float64(hhP4*t) + hhP5
	q67 := float64(hhP6*t) + hhP7
	return float64(t*(float64(t4*(float64(t2*q67)+q45))+(float64(t2*q23)+q01))) + hhP8
}

const (
	hhE25 = 12.182493960703473 // exp(2.5): exp(-(V+40)/10) = exp(-(V+65)/10) exp(2.5)
	hhE3  = 20.085536923187668 // exp(3):   exp(-(V+35)/10) = exp(-(V+65)/10) exp(3)
)

// hhAlpha is s/(1 - exp(-s)) given ex = exp(-s), with its series where the
// quotient cancels (the series' first omitted term, s^6/30240, is below
// 4e-17 there; outside, the cancellation costs at most ~1e-12 relative).
// s*s rather than math.Abs(s), which goes through an integer register:
// this test runs twice per evaluation.
func hhAlpha(s, ex float64) float64 {
	if s2 := s * s; s2 < 1e-4 {
		return 1 + float64(s/2) + s2/12 - s2*s2/720
	}
	return s / (1 - float64(ex))
}

func (s *hhRHS) deriv(i int32, y, dy []float64) {
	in := s.ie[i] + at(s.iext, int(i)) // I(k)
	num, dm, dh, dn := s.core(in, y[hhV], y[hhM], y[hhH], y[hhN])
	if s.psc {
		dIe, iE, dIi, iI := y[hhDIe], y[hhIe], y[hhDIi], y[hhIi]
		dy[hhV] = (num + iE + iI) * s.invCm
		dy[hhDIe] = -dIe * s.invTauE
		dy[hhIe] = dIe - float64(iE*s.invTauE)
		dy[hhDIi] = -dIi * s.invTauI
		dy[hhIi] = dIi - float64(iI*s.invTauI)
	} else {
		dy[hhV] = num * s.invCm
	}
	dy[hhM], dy[hhH], dy[hhN] = dm, dh, dn
}

// core is the part of the right-hand side shared by HH and HHPSC: the
// membrane current -(I_Na + I_K + I_L) + I, to which HHPSC adds its PSCs
// (in NEST's order) before dividing by c_m, and the gate derivatives.
//
// Its rates equal hhRates to about 1e-12 relative (TestHHRates) at a
// fraction of the cost: the solver evaluates them 6 to 8 times per neuron
// and step, and six exponentials each time dominated the HH1000
// benchmark. Every rate is an exponential of -(V+65)/d with d in {10, 18,
// 20, 80}, so all of them are integer powers of the one exponential
// b = exp(-(V+65)/720) (720 = lcm of the d). Near the removable
// singularities of alpha_m and alpha_n, where 1 - exp(-x/10) cancels,
// their Taylor series is used instead. The RKF45 kernel does the same
// for many neurons at once (hhRKF.evalLanes) through the same functions.
func (s *hhRHS) core(in, v, m, h, n float64) (num, dm, dh, dn float64) {
	// a rounds before hhExpPoly adds 0.07 to it, also where the compiler
	// would fuse the two (arm64, GOAMD64=v3), as in hh_amd64.s.
	a := float64((v + 65) * (-1.0 / 720))
	var b float64
	if hhFused { // hhExpPoly, with the fused polynomial inlined
		b = hhExpPolyFMA(a)
	} else {
		b = hhExpPolyMulAdd(a)
	}
	if !(a >= hhExpLo && a <= hhExpHi) {
		b = math.Exp(a)
	}
	b72, nbm, ah, nbn := hhPowers(b)
	nbh := -1 / (1 + float64(b72*hhE3)) // -1/(1 + exp(-(V+35)/10))
	am := hhAlpha((v+40)*0.1, b72*hhE25)
	an := 0.1 * hhAlpha((v+55)*0.1, b72*math.E)
	return s.current(in, v, m, h, n), hhGate(am, nbm, m), hhGate(ah, nbh, h), hhGate(an, nbn, n)
}

// hhPowers are the powers of b = exp(-(V+65)/720) the rates take, the
// betas negated (hhGate).
func hhPowers(b float64) (b72, nbm, ah, nbn float64) {
	b2 := b * b
	b4 := b2 * b2
	b8 := b4 * b4
	b16 := b8 * b8
	b32 := b16 * b16
	b36 := b32 * b4
	b72 = b36 * b36         // exp(-(V+65)/10)
	nbm = -4 * (b32 * b8)   // -4 exp(-(V+65)/18)
	ah = 0.07 * b36         // 0.07 exp(-(V+65)/20)
	nbn = -0.125 * (b8 * b) // -0.125 exp(-(V+65)/80)
	return
}

// current is -(I_Na + I_K + I_L) + I.
func (s *hhRHS) current(in, v, m, h, n float64) float64 {
	iNa := s.gNa * m * m * m * h * (v - s.eNa)
	n2 := n * n
	iK := s.gK * (n2 * n2) * (v - s.eK)
	return in - hhFMA(s.gL, v-s.eL, float64(iNa)+float64(iK))
}

// hhGate is a gate's derivative alpha (1 - x) - beta x given nbeta =
// -beta: the negative constants in hhPowers and core make it exactly,
// where negating beta here took an instruction.
func hhGate(alpha, nbeta, x float64) float64 { return hhFMA(alpha, 1-x, nbeta*x) }

func (s *hhRHS) diagJac(i int32, y, j []float64) {
	v, m, h, n := y[hhV], y[hhM], y[hhH], y[hhN]
	r := hhRates(v)
	j[hhV] = -(s.gNa*m*m*m*h + s.gK*n*n*n*n + s.gL) / s.cm
	j[hhM] = -(r.am + r.bm)
	j[hhH] = -(r.ah + r.bh)
	j[hhN] = -(r.an + r.bn)
	if s.psc {
		j[hhDIe], j[hhIe] = -1/s.tauE, -1/s.tauE
		j[hhDIi], j[hhIi] = -1/s.tauI, -1/s.tauI
	}
}
