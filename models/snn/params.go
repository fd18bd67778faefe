package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/spikeloop/spikeloop/models/surrogate"
)

// ParamKind says what values a parameter takes.
type ParamKind int

// Parameter kinds. Numbers may be given as any Go number type; nil is
// Python's None.
const (
	Number       ParamKind = iota // a finite number
	NumberOrNull                  // a finite number or nil
	Bool                          // true or false
	BoolOrNull                    // true, false or nil (= false)
	Enum                          // one of Choices
	EnumOrNull                    // one of Choices, or nil
	Integer                       // a whole number
	Shape                         // a 1-D shape: n or [n]
	NumberList                    // a number, a list of numbers, or nil (= draw from the initialiser)
	Surrogate                     // a surrogate function: a name, {"name": ..., params...}, or a surrogate.Func
	Initializer                   // a distribution: nil (the default) or {"name": "Normal", "mean": m, "std": s}
	Text                          // a string
	Ignored                       // accepted for compatibility with the seed, no effect
)

func (k ParamKind) String() string {
	switch k {
	case Number:
		return "number"
	case NumberOrNull:
		return "number or null"
	case Bool:
		return "bool"
	case BoolOrNull:
		return "bool or null"
	case Enum:
		return "one of"
	case EnumOrNull:
		return "one of, or null"
	case Integer:
		return "integer"
	case Shape:
		return "shape (n,)"
	case NumberList:
		return "number, list of numbers, or null"
	case Surrogate:
		return "surrogate function"
	case Initializer:
		return "initialiser"
	case Text:
		return "string"
	case Ignored:
		return "any (ignored)"
	}
	return "?"
}

// ParamInfo is the schema of one parameter of a class: what `spikeloop
// models` lists and what New checks.
type ParamInfo struct {
	Name       string
	Kind       ParamKind
	Default    any // neurai's default: float64, bool, string, nil, []int, surrogate.Func, Normal
	Constraint string
	Choices    []string // for Enum
	Learnable  bool     // trained by the backward pass; a given value replaces the initialisation
	Doc        string
	// NoEffect, when not empty, says why the parameter is accepted (neurai
	// has it) but changes nothing in a forward run driven by a network
	// file. `spikeloop models` prints it, and a test proves that every
	// other parameter changes the output.
	NoEffect string
}

// ClassInfo describes one stepwise class.
type ClassInfo struct {
	Name   string
	Doc    string
	Params []ParamInfo
	// States are the names State, SetState and SetInitialState accept
	// (docs/models/stepwise.md).
	States []string
	// Learnable lists the parameters Backward returns gradients for.
	Learnable []string
	// StepModes is false for SNNSRM, which is not a StepwiseNeuron and
	// takes no step_mode; Step and Multi still both work on it.
	StepModes bool
}

// Param returns the schema entry of a parameter.
func (c ClassInfo) Param(name string) (ParamInfo, bool) {
	for _, p := range c.Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamInfo{}, false
}

// Normal is the initialiser the seed writes as NormalIniter(mean, std).
type Normal struct {
	Mean, Std float64
}

func (n Normal) String() string { return fmt.Sprintf("Normal(mean=%g, std=%g)", n.Mean, n.Std) }

// ParamError names the parameter New rejected. Class is the class name
// and Param neurai's parameter name.
type ParamError struct {
	Class string
	Param string
	Msg   string
	Err   error // the underlying error, if any (a surrogate's)
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Class, e.Param, e.Msg)
}

func (e *ParamError) Unwrap() error { return e.Err }

// ParamErrors are every parameter New rejected while reading the values
// (unknown names, wrong types, bad values), in sorted order of name; a
// single problem is a *ParamError instead.
type ParamErrors []*ParamError

func (l ParamErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap gives errors.As each *ParamError.
func (l ParamErrors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Classes lists every stepwise class, sorted by name.
func Classes() []ClassInfo {
	out := make([]ClassInfo, 0, len(classes))
	for _, c := range classes {
		out = append(out, c.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Class returns the schema of one class. Library API: programs look up
// one class's parameters with it; the CLI's listing uses Classes.
func Class(name string) (ClassInfo, bool) {
	c, ok := classes[name]
	if !ok {
		return ClassInfo{}, false
	}
	return c.info, true
}

func classNames() string {
	var names []string
	for name := range classes {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// --- schema rows ---------------------------------------------------------

// ignoredParams are inherited by every class but carry no stepwise
// dynamics (docs/models/stepwise.md).
func ignoredParams() []ParamInfo {
	var out []ParamInfo
	for _, n := range []string{"pid", "id", "neuron_start_id", "area_name"} {
		out = append(out, ParamInfo{Name: n, Kind: Ignored, Doc: "inherited from neurai's Neuron",
			NoEffect: "bookkeeping of neurai's process and APU layout"})
	}
	for _, n := range []string{"stdp_tau", "tau_triplet", "dendritic_delay"} {
		out = append(out, ParamInfo{Name: n, Kind: Ignored, Doc: "inherited from neurai's Neuron",
			NoEffect: "plastic synapses cannot target stepwise neurons"})
	}
	out = append(out, ParamInfo{Name: "size", Kind: Ignored, Constraint: "= the layer size", Doc: "inherited from neurai's Neuron",
		NoEffect: "the population's size sets the layer size; a given size must equal it"})
	// Library users may pass a Python constructor's keyword arguments as
	// they are; a network file refuses these (models.PythonOnly).
	for _, n := range []string{"name", "parent", "frozen_params"} {
		out = append(out, ParamInfo{Name: n, Kind: Ignored, Doc: "Python-only constructor argument of neurai",
			NoEffect: "Python object plumbing (refused in a network file)"})
	}
	return out
}

// stepwiseBase are the StepwiseNeuron parameters of docs/models/stepwise.md with the
// defaults a class gives them.
func stepwiseBase(vReset any, resetType any, stepMode string, sur surrogate.Func) []ParamInfo {
	return []ParamInfo{
		{Name: "V_th", Kind: Number, Default: 1.0, Doc: "threshold; fires when the charged value is >= V_th"},
		{Name: "V_reset", Kind: NumberOrNull, Default: vReset, Doc: "hard-reset value; null means soft reset unless reset_type says HARD"},
		{Name: "reset_type", Kind: EnumOrNull, Default: resetType, Choices: []string{"HARD", "SOFT"}, Doc: "null derives it from V_reset"},
		{Name: "record_v", Kind: Bool, Default: false, Doc: "Multi also returns the membrane series",
			NoEffect: "a network file records with monitors (record: [v])"},
		{Name: "step_mode", Kind: Enum, Default: stepMode, Choices: []string{"SINGLE", "MULTI"}, Doc: "how neurai calls the layer; Step and Multi are both available",
			NoEffect: "the engine advances every population one step at a time, and MULTI equals repeated SINGLE steps"},
		{Name: "time_recurrent", Kind: Bool, Default: false, Doc: "driven one step at a time by a recurrent layer",
			NoEffect: "it changes no arithmetic"},
		{Name: "before_reset_mem", Kind: BoolOrNull, Default: nil, Doc: "the recorded v is the charged value before the reset (also recordable as v_before_reset)"},
		{Name: "param_dtype", Kind: Text, Default: "float32", Constraint: "float32", Doc: "dtype of parameters and state",
			NoEffect: "float32 is the only dtype"},
		{Name: "surrogate_grad_fn", Kind: Surrogate, Default: sur, Doc: "surrogate derivative used by Backward",
			NoEffect: "it shapes the gradient only; the forward spike is the step function"},
	}
}

var sigmoid4 = surrogate.Default(surrogate.Sigmoid)

// Reasons SparseLIF's inherited and layer-level parameters change nothing.
const (
	sparseUpdate   = "inherited from SNNLIF; SparseLIF's update uses time_step and tau_m"
	sparseReadout  = "used only by neurai's readout layer, which readout: true asks for (refused)"
	sparseTraining = "a training regulariser; no forward effect"
)

// edit applies f to every row, for a class that changes the meaning of
// inherited parameters.
func edit(rows []ParamInfo, f func(*ParamInfo)) []ParamInfo {
	for i := range rows {
		f(&rows[i])
	}
	return rows
}

// classes is the registry: built once at init from literals, read-only.
var classes = map[string]*classDef{}

type classDef struct {
	info  ClassInfo
	model model
	build func(l *Layer, p *params) error
}

func init() {
	add := func(m model, doc string, rows []ParamInfo, states, learnable []string, stepModes bool, build func(*Layer, *params) error) {
		rows = append(rows, ignoredParams()...)
		classes[m.String()] = &classDef{
			info:  ClassInfo{Name: m.String(), Doc: doc, Params: rows, States: states, Learnable: learnable, StepModes: stepModes},
			model: m,
			build: build,
		}
	}
	vs := []string{"v", "spike"}

	add(modelIF, "integrate-and-fire: H = V + X",
		stepwiseBase(0.0, nil, "MULTI", sigmoid4), vs, nil, true, buildIF)

	add(modelLIF, "leaky integrate-and-fire: H = V + (R·X - (V - V_rest))/tau",
		append(stepwiseBase(0.0, "HARD", "MULTI", sigmoid4),
			ParamInfo{Name: "V_rest", Kind: Number, Default: 0.0, Doc: "leak target"},
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "input resistance"},
			ParamInfo{Name: "tau", Kind: Number, Default: 10.0, Constraint: "> 1", Doc: "membrane time constant, steps"},
		), vs, nil, true, buildLIF)

	add(modelPLIF, "parametric LIF with learnable 1/tau = sigmoid(w)",
		append(stepwiseBase(0.0, nil, "MULTI", sigmoid4),
			ParamInfo{Name: "init_tau", Kind: Number, Default: 10.0, Constraint: "> 1", Doc: "initial tau: w = -ln(init_tau - 1)"},
			ParamInfo{Name: "w", Kind: NumberOrNull, Default: nil, Learnable: true, Doc: "trained w; null initialises it from init_tau"},
		), vs, []string{"w"}, true, buildPLIF)

	add(modelEIF, "exponential integrate-and-fire",
		append(stepwiseBase(-0.1, "HARD", "MULTI", sigmoid4),
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "input resistance"},
			ParamInfo{Name: "tau", Kind: Number, Default: 2.0, Constraint: "> 1", Doc: "membrane time constant, steps"},
			ParamInfo{Name: "delta_T", Kind: Number, Default: 1.0, Constraint: "> 0", Doc: "sharpness of the exponential"},
			ParamInfo{Name: "v_T", Kind: Number, Default: 0.8, Doc: "rheobase threshold"},
			ParamInfo{Name: "V_rest", Kind: Number, Default: 0.0, Constraint: ">= V_reset", Doc: "leak target"},
		), vs, nil, true, buildEIF)

	add(modelQIF, "quadratic integrate-and-fire",
		append(stepwiseBase(0.0, "HARD", "MULTI", sigmoid4),
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "input resistance"},
			ParamInfo{Name: "tau", Kind: Number, Default: 2.0, Constraint: "> 1", Doc: "membrane time constant, steps"},
			ParamInfo{Name: "a0", Kind: Number, Default: 1.0, Constraint: "> 0", Doc: "sharpness of the quadratic"},
			ParamInfo{Name: "v_c", Kind: Number, Default: 0.8, Doc: "critical voltage"},
			ParamInfo{Name: "V_rest", Kind: Number, Default: 0.0, Constraint: ">= V_reset", Doc: "leak target"},
		), vs, nil, true, buildQIF)

	add(modelKLIF, "LIF with learnable scale k and ReLU: H = max(0, k·U)",
		append(stepwiseBase(0.0, "HARD", "SINGLE", sigmoid4),
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "input resistance"},
			ParamInfo{Name: "tau", Kind: Number, Default: 2.0, Constraint: "> 1", Doc: "membrane time constant, steps"},
			ParamInfo{Name: "scale_reset", Kind: Bool, Default: false, Doc: "divide the kept potential by k at the reset"},
			ParamInfo{Name: "decay_input", Kind: Bool, Default: true, Doc: "divide the input by tau"},
			ParamInfo{Name: "k", Kind: Number, Default: 1.0, Learnable: true, Constraint: "!= 0 with scale_reset", Doc: "scale of the potential"},
		), vs, []string{"k"}, true, buildKLIF)

	add(modelALIF, "adaptive LIF of Yin, Corradi & Bohté 2021",
		append(edit(stepwiseBase(0.0, nil, "MULTI", surrogate.Default(surrogate.MultiGaussian)),
			func(r *ParamInfo) {
				switch r.Name {
				case "V_th":
					r.Constraint, r.Doc = "= 1.0", "not used: the threshold is theta = v_th0 + beta·b (set v_th0, beta); another value is an error"
				case "V_reset":
					r.Constraint, r.Doc = "= 0.0", "not used: the reset subtracts theta at the step after a spike; another value is an error"
				case "reset_type":
					r.Constraint, r.Doc = "null or SOFT", "both mean the reset of Yin et al.; HARD is an error"
					r.NoEffect = "null and SOFT both select the reset of Yin et al. (HARD is refused)"
				case "before_reset_mem":
					r.NoEffect = "the reset is deferred to the next step, so the values before and after it are the same"
				}
			}),
			ParamInfo{Name: "tau_shape", Kind: Shape, Default: []int{1}, Constraint: "(1,) or (features,)", Doc: "shape of tau_m and tau_adp, broadcast over the feature axis"},
			ParamInfo{Name: "v_th0", Kind: Number, Default: 0.01, Doc: "baseline threshold"},
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "input resistance"},
			ParamInfo{Name: "Eta", Kind: Number, Default: 1.0, Doc: "initial adaptation variable b"},
			ParamInfo{Name: "beta", Kind: Number, Default: 1.8, Doc: "weight of b in the threshold"},
			ParamInfo{Name: "time_step", Kind: Number, Default: 1.0, Constraint: "> 0", Doc: "dt in the decay factors and the reset"},
			ParamInfo{Name: "tau_m", Kind: NumberList, Default: nil, Learnable: true, Constraint: "> 0, length tau_shape", Doc: "membrane time constants; null draws from tau_m_initializer"},
			ParamInfo{Name: "tau_adp", Kind: NumberList, Default: nil, Learnable: true, Constraint: "> 0, length tau_shape", Doc: "adaptation time constants; null draws from tau_adp_initializer"},
			ParamInfo{Name: "tau_m_initializer", Kind: Initializer, Default: Normal{20, 5}, Doc: "draws <= 0 are redrawn"},
			ParamInfo{Name: "tau_adp_initializer", Kind: Initializer, Default: Normal{150, 10}, Doc: "draws <= 0 are redrawn"},
		), []string{"v", "spike", "b", "theta"}, []string{"tau_m", "tau_adp"}, true, buildALIF)

	add(modelSparseLIF, "LIF of Perez-Nieves & Goodman 2021 with a deferred reset and a masked gradient",
		append(edit(stepwiseBase(0.0, "HARD", "MULTI", sigmoid4),
			func(r *ParamInfo) {
				switch r.Name {
				case "V_reset":
					r.Constraint, r.Doc = "= 0.0", "inherited from SNNLIF; another value is an error (SparseLIF subtracts V_th at the step after a spike)"
				case "reset_type":
					r.Doc = "inherited from SNNLIF"
					r.NoEffect = "the reset is always V_th subtracted at the step after a spike (Perez-Nieves & Goodman)"
				case "before_reset_mem":
					r.NoEffect = "the reset is deferred to the next step, so the values before and after it are the same"
				}
			}),
			ParamInfo{Name: "BV_th", Kind: Number, Default: 0.8, Constraint: "< V_th", Doc: "backward threshold: gradient only for BV_th < V < 2·V_th - BV_th",
				NoEffect: "it shapes the gradient only (Backward)"},
			ParamInfo{Name: "time_step", Kind: Number, Default: 0.001, Constraint: "> 0", Doc: "time step, s"},
			ParamInfo{Name: "tau_m", Kind: Number, Default: 0.01, Constraint: "> 0", Doc: "membrane time constant, s"},
			ParamInfo{Name: "V_rest", Kind: Number, Default: 0.0, Doc: "inherited from SNNLIF", NoEffect: sparseUpdate},
			ParamInfo{Name: "R", Kind: Number, Default: 1.0, Doc: "inherited from SNNLIF", NoEffect: sparseUpdate},
			ParamInfo{Name: "tau", Kind: Number, Default: 10.0, Doc: "inherited from SNNLIF", NoEffect: sparseUpdate},
			ParamInfo{Name: "features", Kind: NumberOrNull, Default: nil, Doc: "width of neurai's layer weight matrix",
				NoEffect: "weights are synapse entries of the network file"},
			ParamInfo{Name: "readout", Kind: Bool, Default: false, Constraint: "false", Doc: "neurai's leaky readout layer; true is an error that says how to build it as a population"},
			ParamInfo{Name: "target_neuronNum", Kind: NumberOrNull, Default: nil, Doc: "readout width", NoEffect: sparseReadout},
			ParamInfo{Name: "weight_multiplier", Kind: Number, Default: 20.0, Doc: "weight initialisation scale",
				NoEffect: "weights are synapse entries of the network file"},
			ParamInfo{Name: "tau_readout", Kind: Number, Default: 0.01, Doc: "readout time constant", NoEffect: sparseReadout},
			ParamInfo{Name: "lambda_upper", Kind: Number, Default: 0.06, Doc: "training regulariser", NoEffect: sparseTraining},
			ParamInfo{Name: "lambda_lower", Kind: Number, Default: 100.0, Doc: "training regulariser", NoEffect: sparseTraining},
			ParamInfo{Name: "f_upper", Kind: Number, Default: 1.0, Doc: "training regulariser", NoEffect: sparseTraining},
			ParamInfo{Name: "f_lower", Kind: Number, Default: 0.001, Doc: "training regulariser", NoEffect: sparseTraining},
			ParamInfo{Name: "p_up", Kind: Number, Default: 1.0, Doc: "training regulariser", NoEffect: sparseTraining},
		), vs, nil, true, buildSparseLIF)

	add(modelSRM, "spike response model of SLAYER",
		[]ParamInfo{
			{Name: "V_th", Kind: Number, Default: 10.0, Doc: "threshold theta"},
			{Name: "V_reset", Kind: NumberOrNull, Default: 0.0, Doc: "inherited from neurai's Neuron",
				NoEffect: "SNNSRM's reset is its refractory kernel (tau_ref)"},
			{Name: "V_rest", Kind: Number, Default: 0.0, Doc: "offset of the membrane"},
			{Name: "tau_res", Kind: Number, Default: 5.0, Constraint: "> 0", Doc: "response kernel time constant, steps·time_step"},
			{Name: "tau_ref", Kind: Number, Default: 5.0, Constraint: "> 0", Doc: "refractory kernel time constant"},
			{Name: "time_step", Kind: Number, Default: 1.0, Constraint: "> 0", Doc: "Ts: kernel sampling, psp scale, spike amplitude 1/Ts"},
			{Name: "time_window", Kind: Number, Default: 100.0, Constraint: ">= time_step", Doc: "kernels stop before this time"},
			{Name: "kernel_window", Kind: Integer, Default: 38.0, Constraint: ">= 1", Doc: "maximum number of response kernel taps"},
			{Name: "record_v", Kind: Bool, Default: false, Doc: "Multi also returns the membrane series",
				NoEffect: "a network file records with monitors (record: [v])"},
			{Name: "computation_type", Kind: Enum, Default: "FORLOOP", Choices: []string{"FORLOOP"}, Doc: "only FORLOOP",
				NoEffect: "FORLOOP is the only choice"},
			{Name: "param_dtype", Kind: Text, Default: "float32", Constraint: "float32", Doc: "dtype of parameters and state",
				NoEffect: "float32 is the only dtype"},
			{Name: "surrogate_grad_fn", Kind: Surrogate, Default: surrogate.Default(surrogate.Rectangular), Doc: "surrogate derivative used by Backward",
				NoEffect: "it shapes the gradient only; the forward spike is the step function"},
		}, vs, nil, false, buildSRM)
}

// --- parsing ---------------------------------------------------------------

// params holds one class's parameters after defaults are filled in and
// every value is normalised: numbers are float64, lists []float64, shapes
// []int, surrogates surrogate.Func, initialisers Normal.
type params struct {
	class string
	vals  map[string]any
	given map[string]bool
	rng   *rand.Rand // for initialisers (SNNALIF's tau_m, tau_adp)
}

func (p *params) errorf(name, format string, args ...any) error {
	return &ParamError{Class: p.class, Param: name, Msg: fmt.Sprintf(format, args...)}
}

func (p *params) num(name string) float64 { v, _ := p.vals[name].(float64); return v }
func (p *params) isNull(name string) bool { return p.vals[name] == nil }
func (p *params) flag(name string) bool   { v, _ := p.vals[name].(bool); return v }
func (p *params) text(name string) string { v, _ := p.vals[name].(string); return v }

// parseParams checks given values against the class schema and fills in
// defaults. Keys are visited in sorted order so that the first error is
// the same on every run.
func parseParams(c *classDef, given map[string]any) (*params, error) {
	p := &params{class: c.info.Name, vals: map[string]any{}, given: map[string]bool{}}
	for _, row := range c.info.Params {
		p.vals[row.Name] = row.Default
	}
	keys := make([]string, 0, len(given))
	for k := range given {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs ParamErrors
	for _, name := range keys {
		row, ok := c.info.Param(name)
		if !ok {
			errs = append(errs, p.errorf(name, "unknown parameter of %s (known: %s)", c.info.Name, knownParams(c.info)).(*ParamError))
			continue
		}
		v, err := normalise(row, given[name])
		if err != nil {
			errs = append(errs, &ParamError{Class: c.info.Name, Param: name, Msg: err.Error(), Err: err})
			continue
		}
		p.vals[name] = v
		p.given[name] = true
	}
	switch len(errs) {
	case 0:
	case 1:
		return nil, errs[0]
	default:
		return nil, errs
	}
	// The seed writes the dtype as jnp.float32 or "float32".
	dt := p.text("param_dtype")
	if i := strings.LastIndexByte(dt, '.'); i >= 0 {
		dt = dt[i+1:]
	}
	if dt != "float32" {
		return nil, p.errorf("param_dtype", "must be float32, the only dtype supported, got %q", p.text("param_dtype"))
	}
	return p, nil
}

func knownParams(c ClassInfo) string {
	var names []string
	for _, r := range c.Params {
		if r.Kind != Ignored {
			names = append(names, r.Name)
		}
	}
	return strings.Join(names, ", ")
}

// normalise converts one given value to the form params stores.
func normalise(row ParamInfo, v any) (any, error) {
	switch row.Kind {
	case Ignored:
		return v, nil
	case Number, NumberOrNull:
		if v == nil {
			if row.Kind == NumberOrNull {
				return nil, nil
			}
			return nil, fmt.Errorf("must be a number, got null")
		}
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("must be a number, got %T %v", v, v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be finite, got %g", f)
		}
		return f, nil
	case Integer:
		f, ok := toFloat(v)
		if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return nil, fmt.Errorf("must be an integer, got %T %v", v, v)
		}
		return f, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false, got %T %v", v, v)
		}
		return b, nil
	case BoolOrNull:
		if v == nil {
			return false, nil
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true, false or null, got %T %v", v, v)
		}
		return b, nil
	case Enum, EnumOrNull:
		if v == nil {
			if row.Kind == EnumOrNull {
				return nil, nil
			}
			return nil, fmt.Errorf("must be one of %s, got null", strings.Join(row.Choices, ", "))
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be one of %s, got %T %v", strings.Join(row.Choices, ", "), v, v)
		}
		// The seed's enums print as ResetType.HARD; accept that spelling.
		if i := strings.LastIndexByte(s, '.'); i >= 0 {
			s = s[i+1:]
		}
		for _, c := range row.Choices {
			if strings.EqualFold(s, c) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("must be one of %s, got %q", strings.Join(row.Choices, ", "), s)
	case Text:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, got %T %v", v, v)
		}
		return s, nil
	case Shape:
		list, ok := toFloats(v)
		if !ok || len(list) != 1 || list[0] < 1 || list[0] != math.Trunc(list[0]) {
			return nil, fmt.Errorf("must be a 1-D shape (n,) with n >= 1, got %v", v)
		}
		return []int{int(list[0])}, nil
	case NumberList:
		if v == nil {
			return nil, nil
		}
		list, ok := toFloats(v)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("must be a number or a non-empty list of numbers, got %T %v", v, v)
		}
		for i, f := range list {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("entry %d must be finite, got %g", i, f)
			}
		}
		return list, nil
	case Surrogate:
		return parseSurrogate(v)
	case Initializer:
		return parseInitializer(v)
	}
	return nil, fmt.Errorf("internal: no parser for %v", row.Kind)
}

// parseSurrogate accepts a surrogate.Func, a name ("ATan", "ATan()"), or
// a map {"name": "ATan", "alpha": 2}. A surrogate error keeps the
// surrogate's own parameter name in its message.
func parseSurrogate(v any) (any, error) {
	switch s := v.(type) {
	case nil:
		return nil, fmt.Errorf("must name a surrogate function (%s), got null", strings.Join(surrogate.Names(), ", "))
	case surrogate.Func:
		if err := s.Validate(); err != nil {
			return nil, err
		}
		return s, nil
	case string:
		return surrogate.Parse(s)
	case map[string]any:
		name, ok := s["name"].(string)
		if i := strings.LastIndexByte(name, '.'); ok && i >= 0 {
			name = name[i+1:] // qualified: surrogate.ATan
		}
		if !ok {
			return nil, fmt.Errorf("name: must be one of %s (a surrogate given as a map needs it), got nothing", strings.Join(surrogate.Names(), ", "))
		}
		return surrogate.New(name, s)
	}
	return nil, fmt.Errorf("must be a surrogate function name or {name: ..., alpha: ...}, got %T", v)
}

func parseInitializer(v any) (any, error) {
	switch s := v.(type) {
	case Normal:
		if !(s.Std >= 0) || math.IsInf(s.Mean, 0) || math.IsNaN(s.Mean) {
			return nil, fmt.Errorf("must be a finite mean and std >= 0, got %v", s)
		}
		return s, nil
	case map[string]any:
		name, _ := s["name"].(string)
		if !strings.EqualFold(strings.TrimSuffix(name, "Initer"), "Normal") {
			return nil, fmt.Errorf("must be the Normal initialiser (the only one supported), got %q", name)
		}
		var n Normal
		var ok1, ok2 bool
		n.Mean, ok1 = toFloat(s["mean"])
		n.Std, ok2 = toFloat(s["std"])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("must be Normal with numbers mean and std, got %v", s)
		}
		for k := range s {
			if k != "name" && k != "mean" && k != "std" {
				return nil, fmt.Errorf("Normal has no parameter %q (mean, std)", k)
			}
		}
		return parseInitializer(n)
	}
	return nil, fmt.Errorf("must be {name: Normal, mean: m, std: s}, got %T %v", v, v)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// toFloats accepts a number (a list of one) or a list of numbers.
func toFloats(v any) ([]float64, bool) {
	if f, ok := toFloat(v); ok {
		return []float64{f}, true
	}
	switch l := v.(type) {
	case []float64:
		return append([]float64(nil), l...), true
	case []float32:
		out := make([]float64, len(l))
		for i, f := range l {
			out[i] = float64(f)
		}
		return out, true
	case []int:
		out := make([]float64, len(l))
		for i, f := range l {
			out[i] = float64(f)
		}
		return out, true
	case []any:
		out := make([]float64, len(l))
		for i, e := range l {
			f, ok := toFloat(e)
			if !ok {
				return nil, false
			}
			out[i] = f
		}
		return out, true
	}
	return nil, false
}
