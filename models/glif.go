package models

import (
	"fmt"
	"math"
	"strconv"
)

// glifParams are the rows of docs/models/glif.md (GLIF3); GLIF3PSC adds tau_syn.
func glifParams() []Param {
	return []Param{
		{Name: "V_th", Kind: Number, Unit: "mV", Default: 0.0, Constraint: "must be 0.0 (unused)", Doc: "not used by GLIF; the threshold is th_inf + spike_th"},
		{Name: "th_inf", Kind: Number, Unit: "mV", Default: -51.68, Constraint: "> V_reset - spike_th", Doc: "threshold (NEST V_th)"},
		{Name: "spike_th", Kind: Number, Unit: "mV", Default: 0.0, Doc: "constant offset of the threshold (NEST threshold_spike)"},
		{Name: "V_reset", Kind: NumberOrNull, Unit: "mV", Default: -78.85, Constraint: "< th_inf + spike_th", Doc: "reset potential; null: soft reset, V <- V - (th_inf + spike_th - V_rest)"},
		{Name: "V_rest", Kind: Number, Unit: "mV", Default: -78.85, Doc: "resting potential (NEST E_L)"},
		{Name: "G", Kind: Number, Unit: "nS", Default: 9.43, Constraint: "> 0", Doc: "membrane conductance (NEST g)"},
		{Name: "C_m", Kind: Number, Unit: "pF", Default: 58.72, Constraint: "> 0", Doc: "membrane capacitance"},
		{Name: "asc_amps_init", Kind: NumberList, Unit: "pA", Default: []float64{-9.18, -198.94}, Constraint: "length N >= 1", Doc: "jump of each after-spike current at a spike (NEST asc_amps)"},
		{Name: "asc_decay_init", Kind: NumberList, Unit: "1/ms", Default: []float64{0.003, 0.1}, Constraint: "length N, each > 0", Doc: "decay rate of each after-spike current (NEST asc_decay)"},
		{Name: "asc_r_init", Kind: NumberList, Unit: "1", Default: []float64{1.0, 1.0}, Constraint: "length N, each in [0, 1]", Doc: "fraction of each after-spike current kept at a spike (NEST asc_r)"},
		{Name: "tau_ref", Kind: NumberOrNull, Unit: "ms", Default: 3.75, Constraint: "> 0", Doc: "refractory period, rounded up to whole steps"},
		{Name: "I_e", Kind: PerNeuron, Unit: "pA", Default: 0.0, Doc: "constant input current"},
		{Name: "v_init", Kind: PerNeuron, Unit: "mV", Default: -78.85, Doc: "initial V"},
		methodParam(ExpEuler),
	}
}

func glif3Class() *Class {
	return &Class{
		Name:   "GLIF3",
		Kind:   NeuronClass,
		Doc:    "GLIF with after-spike currents, delta synapses (Teeter et al. 2018 model 3; NEST glif_psc mechanism 3)",
		Params: append(glifParams(), neuronBase()...),
		States: []string{"V", "asc_<j>", "I_asc"},
		Build:  func(b *Build) (Population, error) { return newGLIF(b, false) },
	}
}

func glif3PSCClass() *Class {
	ps := append(glifParams(), Param{Name: "tau_syn", Kind: NumberList, Unit: "ms", Default: 2.0, Constraint: "every entry > 0", Doc: "alpha-PSC time constant per receptor port"})
	return &Class{
		Name:   "GLIF3PSC",
		Kind:   NeuronClass,
		Doc:    "GLIF3 with alpha-shaped PSCs, one port per tau_syn entry (NEST glif_psc mechanism 3)",
		Params: append(ps, neuronBase()...),
		States: []string{"V", "asc_<j>", "I_asc", "I_syn", "I_syn_<port>"},
		Build:  func(b *Build) (Population, error) { return newGLIF(b, true) },
	}
}

// GLIF is GLIF3 (psc false, docs/models/glif.md) or GLIF3PSC (psc true, docs/models/glif.md).
type GLIF struct {
	psc      bool
	method   Method
	vRest    float64
	vReset   float64
	soft     float64 // 1 for V_reset: null (afterSpike), else 0
	theta    float64 // th_inf + spike_th; the test is V > theta
	refSteps int32

	p33, p30 float64
	amp      []float64 // per after-spike current j: asc_amps_init
	decay    []float64 // a_j = exp(-k_j h)
	mean     []float64 // m_j: mean of exp(-k_j s) over a step
	refDecay []float64 // q_j = r_j exp(-k_j tau_ref)

	// Alpha PSCs per port r (GLIF3PSC).
	p11, p21, p31, p32, pscInit []float64

	ie   []float64   // I_e per neuron
	v    []float64   // membrane potential, mV
	asc  [][]float64 // [j][neuron] after-spike currents at t_{k+1}, pA
	iAsc []float64   // I_asc: the ASC sum used in the last non-refractory step
	y1   [][]float64 // [r][neuron] driving term of the alpha PSC
	y2   [][]float64 // [r][neuron] PSC, pA
	ref  []int32     // refractory steps left

	isynSum []float64 // scratch for the I_syn state
	ode     *glifODE  // non-default method only
}

var _ NeuronModel = (*GLIF)(nil)

func newGLIF(b *Build, psc bool) (*GLIF, error) {
	var tauSyn []float64
	ports := 1
	if psc {
		tauSyn = b.Floats("tau_syn")
		if len(tauSyn) == 0 {
			return nil, paramErr("tau_syn", "must be a non-empty list of time constants, got []")
		}
		for i, t := range tauSyn {
			if !(t > 0) {
				return nil, paramErr("tau_syn", "entry %d: must be > 0, got %g", i, t)
			}
		}
		ports = len(tauSyn)
	}
	if err := checkNeuronBase(b, ports); err != nil {
		return nil, err
	}
	if v := b.Float("V_th"); v != 0 {
		return nil, paramErr("V_th", "must be left out: %s does not use V_th, its threshold is th_inf + spike_th (neurai's class has V_th from its base and ignores it; set th_inf, default -51.68 mV, instead), got %g", b.Class.Name, v)
	}
	n := &GLIF{psc: psc, vRest: b.Float("V_rest"), vReset: b.Float("V_reset")}
	if b.IsNull("V_reset") {
		// neurai's V_reset=None: a soft reset, relative to rest.
		n.vReset, n.soft = n.vRest, 1
	}
	thInf, spikeTh := b.Float("th_inf"), b.Float("spike_th")
	n.theta = thInf + spikeTh
	if !(thInf > n.vReset-spikeTh) {
		return nil, paramErr("th_inf", "must be > V_reset - spike_th (%g), got %g", n.vReset-spikeTh, thInf)
	}
	g, cm := b.Float("G"), b.Float("C_m")
	if !(g > 0) {
		return nil, paramErr("G", "must be > 0, got %g", g)
	}
	if !(cm > 0) {
		return nil, paramErr("C_m", "must be > 0, got %g", cm)
	}
	if b.IsNull("tau_ref") {
		return nil, paramErr("tau_ref", "must be a number > 0 for %s, got null", b.Class.Name)
	}
	tauRef := b.Float("tau_ref")
	if !(tauRef > 0) {
		return nil, paramErr("tau_ref", "must be > 0, got %g", tauRef)
	}
	amps, ks, rs := b.Floats("asc_amps_init"), b.Floats("asc_decay_init"), b.Floats("asc_r_init")
	if len(amps) == 0 {
		return nil, paramErr("asc_amps_init", "must be a non-empty list, got []")
	}
	if len(ks) != len(amps) {
		return nil, paramErr("asc_decay_init", "must have as many entries as asc_amps_init (%d; the three asc lists go together), got %d", len(amps), len(ks))
	}
	if len(rs) != len(amps) {
		return nil, paramErr("asc_r_init", "must have as many entries as asc_amps_init (%d; the three asc lists go together), got %d", len(amps), len(rs))
	}
	for j, k := range ks {
		if !(k > 0) {
			return nil, paramErr("asc_decay_init", "entry %d: must be > 0, got %g", j, k)
		}
	}
	for j, r := range rs {
		if !(r >= 0 && r <= 1) {
			return nil, paramErr("asc_r_init", "entry %d: must be in [0, 1], got %g", j, r)
		}
	}
	var err error
	if n.method, err = parseMethod(b); err != nil {
		return nil, err
	}
	if n.ie, err = b.PerUnit("I_e"); err != nil {
		return nil, err
	}

	// Propagators as NEST's glif_psc::pre_run_hook (docs/models/glif.md).
	h := b.Dt
	tauM := cm / g
	if n.refSteps, err = refractorySteps(tauRef, h, false); err != nil {
		return nil, err
	}
	n.p33 = math.Exp(-h / tauM)
	n.p30 = (1 - n.p33) / g
	n.amp = amps
	for j, k := range ks {
		a := math.Exp(-k * h)
		n.decay = append(n.decay, a)
		n.mean = append(n.mean, (1/k)/h*(1-a))
		n.refDecay = append(n.refDecay, rs[j]*math.Exp(-k*tauRef))
	}
	for _, ts := range tauSyn {
		p11 := math.Exp(-h / ts)
		n.p11 = append(n.p11, p11)
		n.p21 = append(n.p21, h*p11)
		p31, p32 := alphaPSCPropagators(h, tauM, ts, cm)
		n.p31 = append(n.p31, p31)
		n.p32 = append(n.p32, p32)
		n.pscInit = append(n.pscInit, math.E/ts)
	}

	size := b.Size
	n.v = make([]float64, size)
	n.iAsc = make([]float64, size)
	n.ref = make([]int32, size)
	for range amps {
		n.asc = append(n.asc, make([]float64, size))
	}
	for range tauSyn {
		n.y1 = append(n.y1, make([]float64, size))
		n.y2 = append(n.y2, make([]float64, size))
	}
	n.isynSum = make([]float64, size)
	if err := initV(b, n.v); err != nil {
		return nil, err
	}
	if n.method != ExpEuler {
		n.ode = newGLIFODE(n, g, cm, ks, tauSyn, h)
	}
	return n, nil
}

// alphaPSCPropagators are P31 and P32 of docs/models/glif.md (NEST's
// IAFPropagatorAlpha), with the tau_m == tau_syn limits where the closed
// forms stop being usable numbers.
func alphaPSCPropagators(h, tauM, tau, cm float64) (p31, p32 float64) {
	beta := tau * tauM / (tauM - tau)
	gamma := beta / cm
	// h*(1/beta) grouped as NEST's IAFPropagatorAlpha groups it: P31
	// cancels (beta*E ~ h), so the rounding of E shows in its 14th digit,
	// and this grouping reproduces the spec's anchors exactly.
	e := math.Expm1(h * ((tauM - tau) / (tau * tauM)))
	x := gamma * math.Exp(-h/tau) * e
	if !math.IsInf(x, 0) && !math.IsNaN(x) && x >= 2.2250738585072014e-308 {
		p32 = x
	} else {
		p32 = h / cm * math.Exp(-h/tauM)
	}
	// The closed form of P31 cancels badly when tau_m and tau are close.
	if h > 1e-7*tauM*tauM/math.Abs(tauM-tau) {
		p31 = gamma * math.Exp(-h/tau) * (float64(beta*e) - h)
	} else {
		p31 = 0.5 * h * h / cm * math.Exp(-h/tauM)
	}
	return p31, p32
}

func (n *GLIF) Size() int { return len(n.v) }

func (n *GLIF) Ports() int {
	if n.psc {
		return len(n.y1)
	}
	return 1
}

func (n *GLIF) StateNames() []string {
	s := []string{"V"}
	for j := range n.asc {
		s = append(s, "asc_"+strconv.Itoa(j))
	}
	s = append(s, "I_asc")
	if n.psc {
		s = append(s, "I_syn")
		for r := range n.y2 {
			s = append(s, "I_syn_"+strconv.Itoa(r))
		}
	}
	return s
}

// InitNames excludes the derived I_asc and I_syn from `init`.
func (n *GLIF) InitNames() []string {
	var out []string
	for _, s := range n.StateNames() {
		if s != "I_asc" && s != "I_syn" {
			out = append(out, s)
		}
	}
	return out
}

func (n *GLIF) State(name string) []float64 {
	switch name {
	case "V":
		return n.v
	case "I_asc":
		return n.iAsc
	case "I_syn":
		if !n.psc {
			return nil
		}
		clear(n.isynSum)
		for _, y := range n.y2 {
			for i, x := range y {
				n.isynSum[i] += x
			}
		}
		return n.isynSum
	}
	if j, ok := indexedState(name, "asc_", len(n.asc)); ok {
		return n.asc[j]
	}
	if n.psc {
		if r, ok := indexedState(name, "I_syn_", len(n.y2)); ok {
			return n.y2[r]
		}
	}
	return nil
}

// indexedState parses prefix<i> with 0 <= i < count.
func indexedState(name, prefix string, count int) (int, bool) {
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return 0, false
	}
	i, err := strconv.Atoi(name[len(prefix):])
	if err != nil || i < 0 || i >= count || strconv.Itoa(i) != name[len(prefix):] {
		return 0, false
	}
	return i, true
}

// Step is docs/models/glif.md (GLIF3) and 6 (GLIF3PSC) with EXP_EULER, NEST's
// glif_psc update: the after-spike currents enter V as their exact mean
// over the step, are frozen while refractory, and the test is strict.
func (n *GLIF) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.ode != nil {
		return n.stepODE(iext, w, spiked)
	}
	var w0 []float64
	if !n.psc {
		w0 = port(w, 0)
	}
	for i := range n.v {
		if n.ref[i] != 0 {
			n.ref[i]-- // V and the ASCs are held; delta input is discarded
			continue
		}
		iAsc := 0.0
		for j, a := range n.asc {
			iAsc += n.mean[j] * a[i]
			a[i] *= n.decay[j]
		}
		n.iAsc[i] = iAsc
		v := n.vRest + (n.v[i]-n.vRest)*n.p33 + n.p30*(n.ie[i]+at(iext, i)+iAsc)
		for r, y1 := range n.y1 {
			v += n.p31[r]*y1[i] + n.p32[r]*n.y2[r][i]
		}
		v += at(w0, i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return spiked, &StateError{Neuron: i, State: "V", Value: v}
		}
		if v > n.theta {
			n.spike(i)
			v = n.afterSpike(v)
			spiked = append(spiked, int32(i))
		}
		n.v[i] = v
	}
	n.stepPSC(w)
	return spiked, nil
}

// spike applies the after-spike current jumps, which already hold their
// decay over the whole refractory period (q_j), and starts the clamp.
func (n *GLIF) spike(i int) {
	for j, a := range n.asc {
		a[i] = n.amp[j] + a[i]*n.refDecay[j]
	}
	n.ref[i] = n.refSteps
}

// stepPSC advances the alpha PSCs exactly (also while refractory) and
// adds the spikes arriving at t_{k+1}.
func (n *GLIF) stepPSC(w [][]float64) {
	for r, y1 := range n.y1 {
		y2 := n.y2[r]
		p11, p21, p22, init := n.p11[r], n.p21[r], n.p11[r], n.pscInit[r]
		wr := port(w, r)
		for i := range y1 {
			y2[i] = p21*y1[i] + p22*y2[i]
			y1[i] = p11*y1[i] + init*at(wr, i)
		}
	}
}

// glifRHS is GLIF's right-hand side for the generic methods:
// y = (V, asc_0..asc_{N-1}, y1_0, y2_0, ..., y1_{K-1}, y2_{K-1}).
type glifRHS struct {
	g, cm, vRest float64
	k            []float64 // ASC decay rates
	tauSyn       []float64
	ie           []float64 // I_e per neuron
	iext         []float64 // I_ext of the step (nil: none)
	ref          []int32   // refractory: V and the ASCs are clamped
}

func (s *glifRHS) deriv(i int32, y, dy []float64) {
	nAsc := len(s.k)
	sum := -s.g * (y[0] - s.vRest)
	for j, k := range s.k {
		sum += y[1+j]
		dy[1+j] = -k * y[1+j]
	}
	for r, ts := range s.tauSyn {
		y1, y2 := y[1+nAsc+2*r], y[2+nAsc+2*r]
		sum += y2
		dy[1+nAsc+2*r] = -y1 / ts
		dy[2+nAsc+2*r] = y1 - y2/ts
	}
	dy[0] = (sum + (s.ie[i] + at(s.iext, int(i)))) / s.cm
	if s.ref[i] != 0 {
		for j := 0; j <= nAsc; j++ {
			dy[j] = 0
		}
	}
}

type glifODE struct {
	rhs   glifRHS
	sol   *odeSolver
	b     odeBatch
	names []string
}

func newGLIFODE(n *GLIF, g, cm float64, ks, tauSyn []float64, h float64) *glifODE {
	o := &glifODE{rhs: glifRHS{g: g, cm: cm, vRest: n.vRest, k: ks, tauSyn: tauSyn, ie: n.ie, ref: n.ref}}
	dim := 1 + len(ks) + 2*len(tauSyn)
	o.sol = newODESolver(n.method, h, dim, len(n.v), &o.rhs)
	o.b = newODEBatch(dim)
	o.names = []string{"V"}
	for j := range ks {
		o.names = append(o.names, fmt.Sprintf("asc_%d", j))
	}
	for r := range tauSyn {
		o.names = append(o.names, fmt.Sprintf("y1_%d", r), fmt.Sprintf("I_syn_%d", r))
	}
	return o
}

// stepODE is GLIF's step with EULER, RK4 or RKF45: the whole state is
// advanced by the method (only the PSCs while refractory), then spike
// input is applied and the strict test made. I_asc records the ASC sum at
// the start of the step.
func (n *GLIF) stepODE(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	o := n.ode
	o.rhs.iext = iext
	nAsc := len(n.asc)
	var w0 []float64
	if !n.psc {
		w0 = port(w, 0)
	}
	for next := 0; next < len(n.v); {
		lanes := 0
		for ; next < len(n.v) && lanes < odeBlock; next++ {
			if n.ref[next] != 0 && !n.psc {
				n.ref[next]-- // nothing evolves; delta input is discarded
				continue
			}
			y := o.b.lane(lanes)
			y[0] = n.v[next]
			for j, a := range n.asc {
				y[1+j] = a[next]
			}
			for r := range n.y1 {
				y[1+nAsc+2*r], y[2+nAsc+2*r] = n.y1[r][next], n.y2[r][next]
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
			for r := range n.y1 {
				n.y1[r][i] = y[1+nAsc+2*r] + n.pscInit[r]*at(port(w, r), int(i))
				n.y2[r][i] = y[2+nAsc+2*r]
			}
			if n.ref[i] != 0 {
				n.ref[i]-- // V and the ASCs were frozen
				continue
			}
			iAsc := 0.0
			for j, a := range n.asc {
				iAsc += a[i] // the sum at the start of the step
				a[i] = y[1+j]
			}
			n.iAsc[i] = iAsc
			v := y[0] + at(w0, int(i))
			if v > n.theta {
				n.spike(int(i))
				v = n.afterSpike(v)
				spiked = append(spiked, i)
			}
			n.v[i] = v
		}
	}
	return spiked, nil
}

// afterSpike is V after a spike at v: V_reset, or with V_reset: null
// v - (Θ - V_rest) (vReset holds V_rest then); the hard reset is V_reset
// bit for bit.
func (n *GLIF) afterSpike(v float64) float64 { return n.vReset + n.soft*(v-n.theta) }
