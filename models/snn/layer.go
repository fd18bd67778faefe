package snn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/spikeloop/spikeloop/models/surrogate"
)

// model identifies a class inside the package; the hot loops switch on it
// once per step, never per element.
type model int

const (
	modelIF model = iota
	modelLIF
	modelPLIF
	modelEIF
	modelQIF
	modelKLIF
	modelALIF
	modelSparseLIF
	modelSRM
)

func (m model) String() string {
	return [...]string{"SNNIF", "SNNLIF", "SNNParamtricLIF", "SNNEIF", "SNNQIF",
		"SNNKLIF", "SNNALIF", "SparseLIF", "SNNSRM"}[m]
}

// Layer is one population of a stepwise class: its parameters and its
// state, one float32 slice per state variable with one entry per element.
// Elements never interact, so a batch is just more elements: a layer of
// size batch·features holds a batch of feature vectors side by side
// (SNNALIF's per-feature tau_m and tau_adp then repeat every `features`
// elements).
//
// A Layer is not safe for concurrent use.
type Layer struct {
	model model
	size  int

	stepMode      string // "SINGLE", "MULTI"; "" for SNNSRM
	soft          bool   // effective reset is SOFT (docs/models/stepwise.md)
	recordV       bool
	beforeReset   bool
	timeRecurrent bool
	sur           surrogate.Func

	vth    float32
	vreset float32 // hard-reset value (HARD only)
	leakTo float32 // L of docs/models/stepwise.md: V_reset when HARD, 0 when SOFT
	vrest  float32
	r      float32
	tau    float32

	// SNNParamtricLIF: 1/tau = sigmoid(w).
	w, sigW float32
	// SNNEIF and SNNQIF.
	deltaT, vT, a0, vc float32
	// SNNKLIF.
	k                      float32
	scaleReset, decayInput bool
	// SNNALIF: per-tau-entry constants, repeated every len(tauM) elements.
	vth0, beta, eta, dt float32
	tauM, tauAdp        []float32
	alpha, rho          []float32 // exp(-dt/tau_m), exp(-dt/tau_adp)
	inGain              []float32 // (1 - alpha)·R
	// SparseLIF.
	bvth, decay float32
	// SNNSRM.
	srm *srmState

	// State (docs/models/stepwise.md).
	v, spike, b, theta []float32
	// initial holds explicit initial states by name (SetInitialState).
	initial map[string][]float32

	// smooth replaces the step by the surrogate's smooth primitive in the
	// forward. Only the backward test sets it: the surrogate gradient is
	// then the exact gradient, which finite differences can check.
	smooth bool
}

// New builds a layer of `size` elements of a stepwise class from the
// seed's parameter names (a missing key takes the class default, a nil
// value is Python's None). An unknown class or parameter, a value of the
// wrong type or out of range, is an error naming it, e.g.
// "SNNLIF: tau: must be > 1, got 0.5" (as a *ParamError).
//
// SNNALIF draws tau_m and tau_adp it is not given from a generator seeded
// with 0; NewRand takes the population's own generator.
//
// Library API for Go programs using snn directly (as the package example
// does); network files reach the classes through models, which calls
// NewRand.
func New(class string, size int, params map[string]any) (*Layer, error) {
	return NewRand(class, size, params, rand.New(rand.NewPCG(0, 0)))
}

// NewRand is New with the random generator used for initialisers (the
// engine passes the population's stream, docs/models/README.md Randomness).
func NewRand(class string, size int, params map[string]any, rng *rand.Rand) (*Layer, error) {
	c, ok := classes[class]
	if !ok {
		return nil, fmt.Errorf("snn: unknown class %q (known: %s)", class, classNames())
	}
	if size < 1 {
		return nil, fmt.Errorf("%s: size must be >= 1, got %d", class, size)
	}
	p, err := parseParams(c, params)
	if err != nil {
		return nil, err
	}
	if s, ok := toFloat(p.vals["size"]); ok && p.given["size"] && int(s) != size {
		return nil, p.errorf("size", "must be the population's size %d (or left out), got %g", size, s)
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	l := &Layer{
		model:   c.model,
		size:    size,
		v:       make([]float32, size),
		spike:   make([]float32, size),
		initial: map[string][]float32{},
	}
	l.vth = float32(p.num("V_th"))
	l.recordV = p.flag("record_v")
	l.beforeReset = p.flag("before_reset_mem")
	l.timeRecurrent = p.flag("time_recurrent")
	l.stepMode = p.text("step_mode")
	l.sur = p.vals["surrogate_grad_fn"].(surrogate.Func)
	p.rng = rng
	if err := c.build(l, p); err != nil {
		return nil, err
	}
	l.Reset()
	return l, nil
}

// deriveReset applies docs/models/stepwise.md: the effective reset, the hard-reset
// value and the leak target L.
func deriveReset(l *Layer, p *params) error {
	vresetNull := p.isNull("V_reset")
	switch p.vals["reset_type"] {
	case "SOFT":
		l.soft = true
	case "HARD":
		if vresetNull {
			return p.errorf("V_reset", "must be a number when reset_type is HARD (null V_reset means a soft reset: set reset_type SOFT or null), got null")
		}
	case nil:
		l.soft = vresetNull
	}
	if !l.soft {
		l.vreset = float32(p.num("V_reset"))
		l.leakTo = l.vreset
	}
	return nil
}

func checkTau(p *params, name string) (float32, error) {
	tau := p.num(name)
	if !(tau > 1) {
		return 0, p.errorf(name, "must be > 1, got %g", tau)
	}
	return float32(tau), nil
}

func buildIF(l *Layer, p *params) error { return deriveReset(l, p) }

func buildLIF(l *Layer, p *params) error {
	if err := deriveReset(l, p); err != nil {
		return err
	}
	var err error
	l.tau, err = checkTau(p, "tau")
	l.vrest, l.r = float32(p.num("V_rest")), float32(p.num("R"))
	return err
}

func buildPLIF(l *Layer, p *params) error {
	if err := deriveReset(l, p); err != nil {
		return err
	}
	initTau := p.num("init_tau")
	if !(initTau > 1) {
		return p.errorf("init_tau", "must be > 1, got %g", initTau)
	}
	w := -math.Log(initTau - 1)
	if !p.isNull("w") {
		w = p.num("w")
	}
	l.setW(float32(w))
	return nil
}

func (l *Layer) setW(w float32) {
	l.w = w
	l.sigW = float32(1 / (1 + math.Exp(-float64(w))))
}

// checkResetOrder is the EIF and QIF rule: with a numeric V_reset, the
// threshold lies above it and the resting potential not below it.
func checkResetOrder(p *params) error {
	if p.isNull("V_reset") {
		return nil
	}
	vr := p.num("V_reset")
	if vth := p.num("V_th"); !(vth > vr) {
		return p.errorf("V_th", "must be > V_reset (%g), got %g", vr, vth)
	}
	if vrest := p.num("V_rest"); vrest < vr {
		return p.errorf("V_rest", "must be >= V_reset (%g), got %g", vr, vrest)
	}
	return nil
}

func buildEIF(l *Layer, p *params) error {
	if err := deriveReset(l, p); err != nil {
		return err
	}
	var err error
	if l.tau, err = checkTau(p, "tau"); err != nil {
		return err
	}
	if d := p.num("delta_T"); !(d > 0) {
		return p.errorf("delta_T", "must be > 0, got %g", d)
	}
	if err := checkResetOrder(p); err != nil {
		return err
	}
	l.r, l.deltaT, l.vT, l.vrest = float32(p.num("R")), float32(p.num("delta_T")), float32(p.num("v_T")), float32(p.num("V_rest"))
	return nil
}

func buildQIF(l *Layer, p *params) error {
	if err := deriveReset(l, p); err != nil {
		return err
	}
	var err error
	if l.tau, err = checkTau(p, "tau"); err != nil {
		return err
	}
	if a := p.num("a0"); !(a > 0) {
		return p.errorf("a0", "must be > 0, got %g", a)
	}
	if err := checkResetOrder(p); err != nil {
		return err
	}
	l.r, l.a0, l.vc, l.vrest = float32(p.num("R")), float32(p.num("a0")), float32(p.num("v_c")), float32(p.num("V_rest"))
	return nil
}

func buildKLIF(l *Layer, p *params) error {
	if err := deriveReset(l, p); err != nil {
		return err
	}
	var err error
	if l.tau, err = checkTau(p, "tau"); err != nil {
		return err
	}
	l.r = float32(p.num("R"))
	l.scaleReset, l.decayInput = p.flag("scale_reset"), p.flag("decay_input")
	l.k = float32(p.num("k"))
	if l.scaleReset && l.k == 0 {
		return p.errorf("k", "must not be 0 with scale_reset (the reset divides by k), got 0")
	}
	return nil
}

func buildALIF(l *Layer, p *params) error {
	if v := p.num("V_th"); v != 1 {
		return p.errorf("V_th", "must be left out: SNNALIF does not use V_th, its threshold is theta = v_th0 + beta·b, adapting with each spike (Yin et al. 2021; neurai's class has V_th from its base class; set v_th0, baseline, default 0.01, and beta instead), got %g", v)
	}
	// Yin et al.'s reset subtracts the adaptive threshold at the step
	// after a spike. neurai's docs list HARD among the reset types of the
	// base class, but the ALIF update has no hard-reset form; the
	// reference vectors (invalid_params) pin HARD as an error.
	if p.vals["reset_type"] == "HARD" {
		return p.errorf("reset_type", "must be null or SOFT for SNNALIF (or left out): its reset subtracts the adaptive threshold theta at the step after a spike (Yin et al. 2021), which has no hard-reset form, although neurai's base class lists HARD, got HARD")
	}
	l.soft = true
	if !p.isNull("V_reset") && p.num("V_reset") != 0 {
		return p.errorf("V_reset", "must be 0 or left out: SNNALIF does not reset to V_reset, its reset subtracts the adaptive threshold at the step after a spike (Yin et al. 2021), got %g", p.num("V_reset"))
	}
	n := p.vals["tau_shape"].([]int)[0]
	if n != 1 && l.size%n != 0 {
		return p.errorf("tau_shape", "must be (1,) or (n,) with n dividing the layer's %d elements (the feature count), got (%d,): it does not broadcast", l.size, n)
	}
	if ts := p.num("time_step"); !(ts > 0) {
		return p.errorf("time_step", "must be > 0, got %g", ts)
	}
	l.vth0, l.r, l.eta, l.beta, l.dt = float32(p.num("v_th0")), float32(p.num("R")), float32(p.num("Eta")), float32(p.num("beta")), float32(p.num("time_step"))
	rng := p.rng
	tau := func(name, initName string) ([]float32, error) {
		out := make([]float32, n)
		if p.isNull(name) {
			dist := p.vals[initName].(Normal)
			for i := range out {
				out[i] = drawPositive(rng, dist)
			}
			return out, nil
		}
		given := p.vals[name].([]float64)
		if len(given) != n {
			return nil, p.errorf(name, "must have the %d entries of tau_shape, got %d", n, len(given))
		}
		for i, t := range given {
			if !(t > 0) {
				return nil, p.errorf(name, "entry %d: must be > 0, got %g", i, t)
			}
			out[i] = float32(t)
		}
		return out, nil
	}
	var err error
	if l.tauM, err = tau("tau_m", "tau_m_initializer"); err != nil {
		return err
	}
	if l.tauAdp, err = tau("tau_adp", "tau_adp_initializer"); err != nil {
		return err
	}
	l.alpha, l.rho, l.inGain = make([]float32, n), make([]float32, n), make([]float32, n)
	l.alifConstants()
	l.b = make([]float32, l.size)
	l.theta = make([]float32, l.size)
	return nil
}

// alifConstants derives the decay factors from tau_m and tau_adp, in
// float64 rounded once (docs/models/stepwise.md).
func (l *Layer) alifConstants() {
	for j := range l.tauM {
		a := math.Exp(-float64(l.dt) / float64(l.tauM[j]))
		l.alpha[j] = float32(a)
		l.rho[j] = float32(math.Exp(-float64(l.dt) / float64(l.tauAdp[j])))
		l.inGain[j] = float32((1 - a) * float64(l.r))
	}
}

// drawPositive draws from a normal, redrawing non-positive values (a
// project choice, docs/models/stepwise.md: a non-positive time constant has no meaning).
func drawPositive(rng *rand.Rand, d Normal) float32 {
	for range 1000 {
		if v := float32(d.Mean + d.Std*rng.NormFloat64()); v > 0 {
			return v
		}
	}
	// Only a distribution with almost no positive mass gets here.
	return float32(math.Max(d.Mean, 1))
}

func buildSparseLIF(l *Layer, p *params) error {
	// reset_type and V_reset are inherited from SNNLIF and unused: the
	// reset is the deferred subtraction of V_th (Perez-Nieves & Goodman).
	// A V_reset other than the default asks for a reset that does not
	// happen, so it is refused rather than ignored.
	l.soft = true
	if !p.isNull("V_reset") && p.num("V_reset") != 0 {
		return p.errorf("V_reset", "must be 0 or left out: SparseLIF does not reset to V_reset, it subtracts V_th at the step after a spike (Perez-Nieves & Goodman 2021; neurai's SparseLIF inherits V_reset from SNNLIF), got %g", p.num("V_reset"))
	}
	if p.flag("readout") {
		return p.errorf("readout", "must be false: neurai's readout layer is not built inside a population (add it as its own population, a SparseLIF of size target_neuronNum with tau_m: tau_readout and V_th: 1e9, it never fires, fed by a delay: 0 synapse whose weights are the readout weights times (1 - exp(-time_step/tau_readout)), and record its v), got true")
	}
	if bv := p.num("BV_th"); !(bv < p.num("V_th")) {
		return p.errorf("BV_th", "must be < V_th (%g), got %g: the gradient window (BV_th, 2·V_th - BV_th) would be empty", p.num("V_th"), bv)
	}
	ts, tm := p.num("time_step"), p.num("tau_m")
	if !(ts > 0) {
		return p.errorf("time_step", "must be > 0, got %g", ts)
	}
	if !(tm > 0) {
		return p.errorf("tau_m", "must be > 0, got %g", tm)
	}
	l.bvth = float32(p.num("BV_th"))
	l.decay = float32(math.Exp(-ts / tm))
	return nil
}

// Size is the number of elements.
func (l *Layer) Size() int { return l.size }

// Class is neurai's class name.
func (l *Layer) Class() string { return l.model.String() }

// StepMode is the step_mode parameter ("SINGLE" or "MULTI"; "" for
// SNNSRM). It tells how the seed would call the layer; Step and Multi are
// both always available.
func (l *Layer) StepMode() string { return l.stepMode }

// RecordV tells whether the layer was built with record_v.
func (l *Layer) RecordV() bool { return l.recordV }

// BeforeResetMem tells whether the recorded membrane is the charged value
// before the reset (docs/models/stepwise.md).
func (l *Layer) BeforeResetMem() bool { return l.beforeReset }

// TimeRecurrent reports the time_recurrent flag. It changes no arithmetic
// (docs/models/stepwise.md); such a layer is driven with Step, which keeps the state
// between calls.
func (l *Layer) TimeRecurrent() bool { return l.timeRecurrent }

// Surrogate is the layer's surrogate_grad_fn.
func (l *Layer) Surrogate() surrogate.Func { return l.sur }

// StateNames lists the names State accepts.
func (l *Layer) StateNames() []string {
	return append([]string(nil), classes[l.model.String()].info.States...)
}

// State returns the live slice of a state variable (len Size), or nil for
// an unknown name. It changes with every step; copy it to keep it.
func (l *Layer) State(name string) []float32 {
	switch name {
	case "v":
		return l.v
	case "spike":
		return l.spike
	case "b":
		return l.b
	case "theta":
		return l.theta
	}
	return nil
}

// SetState overwrites the current value of a state variable with one
// value per element, or one value for all. SNNSRM's membrane follows from
// its input history and cannot be set.
func (l *Layer) SetState(name string, values []float32) error {
	dst, err := l.stateFor(name, values)
	if err != nil {
		return err
	}
	fill(dst, values)
	if name == "b" {
		l.updateTheta()
	}
	return nil
}

// SetInitialState fixes the value a state variable takes at Reset and at
// the start of every Multi call (docs/models/stepwise.md), one value per element or one
// for all, and resets the layer.
func (l *Layer) SetInitialState(name string, values []float32) error {
	if _, err := l.stateFor(name, values); err != nil {
		return err
	}
	l.initial[name] = append([]float32(nil), values...)
	l.Reset()
	return nil
}

func (l *Layer) stateFor(name string, values []float32) ([]float32, error) {
	if name == "theta" {
		return nil, fmt.Errorf("%s: state theta follows from b (theta = v_th0 + beta·b); set b", l.Class())
	}
	if l.model == modelSRM {
		return nil, fmt.Errorf("%s: state %q follows from the input history and cannot be set", l.Class(), name)
	}
	dst := l.State(name)
	if dst == nil {
		return nil, fmt.Errorf("%s: state: must be one of %s, got %q", l.Class(), strings.Join(l.StateNames(), ", "), name)
	}
	if len(values) != 1 && len(values) != l.size {
		return nil, fmt.Errorf("%s: state %q: must be 1 value or %d (one per unit), got %d", l.Class(), name, l.size, len(values))
	}
	return dst, nil
}

// fill copies src into dst, broadcasting a single value.
func fill(dst, src []float32) {
	if len(src) == 1 {
		for i := range dst {
			dst[i] = src[0]
		}
		return
	}
	copy(dst, src)
}

// Reset restores the initial state: the explicit one when
// SetInitialState gave it, else docs/models/stepwise.md (V_reset for a hard reset, 0
// otherwise; SNNALIF's b starts at Eta).
func (l *Layer) Reset() {
	v0 := float32(0)
	if !l.soft && l.model != modelSRM {
		v0 = l.vreset
	}
	fill(l.v, []float32{v0})
	fill(l.spike, []float32{0})
	if l.b != nil {
		fill(l.b, []float32{l.eta})
	}
	for name, vals := range l.initial {
		fill(l.State(name), vals)
	}
	if l.b != nil {
		l.updateTheta()
	}
	if l.srm != nil {
		l.srm.reset()
	}
}

func (l *Layer) updateTheta() {
	for i, b := range l.b {
		l.theta[i] = l.vth0 + l.beta*b
	}
}

// Learnable returns a copy of a learnable parameter's value: "w"
// (SNNParamtricLIF), "k" (SNNKLIF), "tau_m" and "tau_adp" (SNNALIF).
func (l *Layer) Learnable(name string) ([]float32, error) {
	switch {
	case l.model == modelPLIF && name == "w":
		return []float32{l.w}, nil
	case l.model == modelKLIF && name == "k":
		return []float32{l.k}, nil
	case l.model == modelALIF && name == "tau_m":
		return append([]float32(nil), l.tauM...), nil
	case l.model == modelALIF && name == "tau_adp":
		return append([]float32(nil), l.tauAdp...), nil
	}
	return nil, l.noLearnable(name)
}

// SetLearnable replaces a learnable parameter, e.g. after a training step,
// with the same checks New applies. The state is kept.
func (l *Layer) SetLearnable(name string, values []float32) error {
	want := 1
	if l.model == modelALIF {
		want = len(l.tauM)
	}
	if len(values) != want {
		if _, err := l.Learnable(name); err != nil {
			return err
		}
		return &ParamError{Class: l.Class(), Param: name, Msg: fmt.Sprintf("must be %d values, got %d", want, len(values))}
	}
	for i, v := range values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return &ParamError{Class: l.Class(), Param: name, Msg: fmt.Sprintf("entry %d must be finite, got %g", i, v)}
		}
	}
	switch {
	case l.model == modelPLIF && name == "w":
		l.setW(values[0])
	case l.model == modelKLIF && name == "k":
		if l.scaleReset && values[0] == 0 {
			return &ParamError{Class: l.Class(), Param: "k", Msg: "must not be 0 with scale_reset"}
		}
		l.k = values[0]
	case l.model == modelALIF && (name == "tau_m" || name == "tau_adp"):
		for i, v := range values {
			if !(v > 0) {
				return &ParamError{Class: l.Class(), Param: name, Msg: fmt.Sprintf("entry %d must be > 0, got %g", i, v)}
			}
		}
		if name == "tau_m" {
			copy(l.tauM, values)
		} else {
			copy(l.tauAdp, values)
		}
		l.alifConstants()
	default:
		return l.noLearnable(name)
	}
	return nil
}

func (l *Layer) noLearnable(name string) error {
	known := classes[l.model.String()].info.Learnable
	if len(known) == 0 {
		return &ParamError{Class: l.Class(), Param: name, Msg: "the class has no learnable parameters"}
	}
	return &ParamError{Class: l.Class(), Param: name, Msg: "not a learnable parameter (learnable: " + strings.Join(known, ", ") + ")"}
}

// ErrShape is wrapped by the errors Step, Multi and Backward return for
// slices of the wrong length.
var ErrShape = errors.New("snn: wrong input shape")

// Step advances the layer by one step (SINGLE mode) with input x, writing
// the spikes (0 or 1; 1/time_step for SNNSRM) to spikes and, when v is not
// nil, the recorded membrane (after the reset, or before it with
// before_reset_mem). All three have Size elements; v may be nil whatever
// record_v says. Step does not allocate.
func (l *Layer) Step(x, spikes, v []float32) error {
	if len(x) != l.size || len(spikes) != l.size || (v != nil && len(v) != l.size) {
		return fmt.Errorf("%w: %s of size %d: step got %d inputs, %d spike outputs, %d membrane outputs",
			ErrShape, l.Class(), l.size, len(x), len(spikes), len(v))
	}
	l.step(x, spikes, v, l.beforeReset)
	return nil
}

// StepCharged is Step that writes to h the charged value each element
// compared with its threshold, before the reset (docs/models/stepwise.md's H[t]; for the
// deferred resets of SNNALIF and SparseLIF and for SNNSRM, the one
// membrane value of the step), whatever before_reset_mem says. h has
// Size elements. The engine records it as the state v_before_reset.
func (l *Layer) StepCharged(x, spikes, h []float32) error {
	if len(x) != l.size || len(spikes) != l.size || len(h) != l.size {
		return fmt.Errorf("%w: %s of size %d: step got %d inputs, %d spike outputs, %d charged values",
			ErrShape, l.Class(), l.size, len(x), len(spikes), len(h))
	}
	l.step(x, spikes, h, true)
	return nil
}

// Multi runs T steps from the initial state (MULTI mode: the state is
// reset first; docs/models/stepwise.md) on x[t] (T rows of Size elements) and returns
// the spikes and, with record_v, the membrane series ([T][Size]; nil
// without record_v). The final state stays readable with State. Multi is
// exactly Reset followed by T calls of Step.
func (l *Layer) Multi(x [][]float32) (spikes, v [][]float32, err error) {
	for t, row := range x {
		if len(row) != l.size {
			return nil, nil, fmt.Errorf("%w: %s of size %d: row %d has %d elements", ErrShape, l.Class(), l.size, t, len(row))
		}
	}
	spikes = matrix(len(x), l.size)
	if l.recordV {
		v = matrix(len(x), l.size)
	}
	l.Reset()
	for t := range x {
		var vt []float32
		if v != nil {
			vt = v[t]
		}
		l.step(x[t], spikes[t], vt, l.beforeReset)
	}
	return spikes, v, nil
}

// matrix allocates rows x cols in one block.
func matrix(rows, cols int) [][]float32 {
	block := make([]float32, rows*cols)
	out := make([][]float32, rows)
	for i := range out {
		out[i] = block[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return out
}
