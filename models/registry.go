package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Kind says how a parameter is written in a network file.
type Kind int

const (
	Number       Kind = iota // one finite float
	PerNeuron                // a number or a list with one number per unit
	NumberList               // a number or a list of numbers (vector such as tau_syn)
	Integer                  // a whole number
	Bool                     // true or false
	Enum                     // one of Choices
	Text                     // a string, possibly null
	NumberArray              // 1-D or 2-D array (CustomGenerator data)
	TimeList                 // a list of times, or a list of `size` lists (SpikeGenerator)
	Path                     // a file path relative to the network file
	NumberOrNull             // a number or null (tau_ref)
	NumberOrInf              // a number or inf (stop)
	Any                      // any YAML value, checked by the class itself (stepwise classes)
)

func (k Kind) String() string {
	switch k {
	case Number:
		return "number"
	case PerNeuron:
		return "number or list of size"
	case NumberList:
		return "number or list of numbers"
	case Integer:
		return "integer"
	case Bool:
		return "bool"
	case Enum:
		return "one of"
	case Text:
		return "string"
	case NumberArray:
		return "list or list of lists"
	case TimeList:
		return "list of times or list of lists"
	case Path:
		return "path"
	case NumberOrNull:
		return "number or null"
	case NumberOrInf:
		return "number or inf"
	case Any:
		return "value"
	}
	return "?"
}

// Param is the schema of one class parameter, as the seed spells it.
type Param struct {
	Name       string
	Kind       Kind
	Unit       string
	Default    any      // neurai's default, shown by `spikeloop models`; nil = null
	Constraint string   // human text, e.g. "> 0"; checked by the constructor
	Choices    []string // for Enum
	Doc        string
	// NoEffect, when not empty, says why the parameter is accepted (neurai
	// has it) but changes nothing in a run; `spikeloop models` prints it.
	// Every parameter without it changes the output (TestParamEffect).
	NoEffect string
}

// ClassKind separates neurons (receive input) from generators (only emit).
type ClassKind int

const (
	NeuronClass ClassKind = iota
	SpikeSourceClass
	CurrentSourceClass
)

// Class is one registered model class.
type Class struct {
	Name string
	Kind ClassKind
	// Stepwise marks the SNN* classes: dimensionless, float32, and the
	// only targets of zero-delay synapses.
	Stepwise bool
	Doc      string
	Params   []Param
	// States lists the names valid in `init` and in a monitor's `record`
	// (besides spikes). Models with per-port states add them at build time.
	States []string
	// Build makes the population object. It must validate every
	// constraint and return a *ParamError naming the parameter.
	Build func(b *Build) (Population, error)
}

// Param returns the schema entry of a parameter.
func (c *Class) Param(name string) (Param, bool) {
	for _, p := range c.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Population is what a class builds: the state of `size` units. The
// engine type-switches on the concrete types (NeuronModel, SpikeSource,
// CurrentSource) once at load time, never per step.
type Population interface {
	// Size is the number of units.
	Size() int
	// StateNames lists the recordable states besides spikes.
	StateNames() []string
	// State returns the live slice of one state variable (len Size), or nil.
	// Callers must not keep it across a step if they write to it.
	State(name string) []float64
}

// Build is what a class constructor gets: the population's size, the
// resolution, its given parameters and, for random generators, its own
// random stream.
type Build struct {
	Pop    string  // population name, for messages
	Size   int     // number of units
	Dt     float64 // resolution h, ms
	Dir    string  // folder of the network file, for relative paths
	Rand   *rand.Rand
	Values map[string]Value // given parameters (already type-checked against the schema)
	Class  *Class

	// files are the .dat files read so far by path (nil: none kept), so
	// that PopulationSpec.NewModel builds again without reading them.
	files map[string][][]float64
}

// readDat reads a .dat file once per network load (ReadDat).
func (b *Build) readDat(path string) ([][]float64, error) {
	if rows, ok := b.files[path]; ok {
		return rows, nil
	}
	rows, err := ReadDat(path)
	if err == nil && b.files != nil {
		b.files[path] = rows
	}
	return rows, err
}

// ParamError names the parameter a constructor rejected.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return fmt.Sprintf("%s: %s", e.Param, e.Msg) }

// ParamErrors are several parameters a constructor rejected at once.
type ParamErrors []*ParamError

func (l ParamErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func paramErr(name, format string, args ...any) error {
	return &ParamError{Param: name, Msg: fmt.Sprintf(format, args...)}
}

// Has tells whether the file gave the parameter.
func (b *Build) Has(name string) bool { _, ok := b.Values[name]; return ok }

func (b *Build) value(name string) (Value, bool) {
	v, ok := b.Values[name]
	if ok {
		return v, true
	}
	p, ok := b.Class.Param(name)
	if !ok {
		panic("models: class " + b.Class.Name + " reads unknown parameter " + name)
	}
	return defaultValue(p), false
}

// Float returns a Number parameter (or its default).
func (b *Build) Float(name string) float64 {
	v, _ := b.value(name)
	return v.Num
}

// IsNull tells whether a NumberOrNull parameter is null.
func (b *Build) IsNull(name string) bool {
	v, _ := b.value(name)
	return v.Null
}

// PerUnit returns a PerNeuron parameter expanded to Size values.
func (b *Build) PerUnit(name string) ([]float64, error) {
	v, _ := b.value(name)
	out := make([]float64, b.Size)
	if v.IsList {
		if len(v.Nums) != b.Size {
			return nil, paramErr(name, "must be a number or a list of one per unit (size %d), got a list of %d", b.Size, len(v.Nums))
		}
		copy(out, v.Nums)
		return out, nil
	}
	for i := range out {
		out[i] = v.Num
	}
	return out, nil
}

// Floats returns a NumberList parameter as a slice (a number is length 1).
func (b *Build) Floats(name string) []float64 {
	v, _ := b.value(name)
	if v.IsList {
		return append([]float64(nil), v.Nums...)
	}
	return []float64{v.Num}
}

// Bool returns a Bool parameter.
func (b *Build) Bool(name string) bool {
	v, _ := b.value(name)
	return v.Bool
}

// Str returns an Enum, Text or Path parameter ("" for null).
func (b *Build) Str(name string) string {
	v, _ := b.value(name)
	return v.Str
}

// Int returns an Integer parameter.
func (b *Build) Int(name string) int64 {
	v, _ := b.value(name)
	return int64(v.Num)
}

// Value is one parameter value as decoded from the file. Line is the
// file line it came from (0 for defaults).
type Value struct {
	Null   bool
	Num    float64
	IsList bool
	Nums   []float64   // flat list
	Rows   [][]float64 // list of lists (NumberArray 2-D, TimeList per unit)
	Is2D   bool
	Bool   bool
	Str    string
	Raw    any // the decoded YAML value, for Any parameters
	Line   int
}

func defaultValue(p Param) Value {
	switch d := p.Default.(type) {
	case nil:
		return Value{Null: true}
	case float64:
		return Value{Num: d}
	case int:
		return Value{Num: float64(d)}
	case bool:
		return Value{Bool: d}
	case string:
		return Value{Str: d}
	case []float64:
		return Value{IsList: true, Nums: d}
	}
	panic(fmt.Sprintf("models: parameter %s has default of type %T", p.Name, p.Default))
}

// Registry maps class names to classes. It is built once by NewRegistry
// and read-only afterwards.
type Registry struct {
	classes map[string]*Class
}

// Register adds a class; a duplicate name is a programming error.
func (r *Registry) Register(c *Class) {
	if _, dup := r.classes[c.Name]; dup {
		panic("models: class registered twice: " + c.Name)
	}
	// The base parameters every class accepts (docs/models/README.md).
	r.classes[c.Name] = c
}

// Lookup finds a class by its seed name.
func (r *Registry) Lookup(name string) (*Class, bool) {
	c, ok := r.classes[name]
	return c, ok
}

// Classes lists the registered classes sorted by name.
func (r *Registry) Classes() []*Class {
	out := make([]*Class, 0, len(r.classes))
	for _, c := range r.classes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ClassNames lists the class names, sorted.
func (r *Registry) ClassNames() []string {
	var n []string
	for _, c := range r.Classes() {
		n = append(n, c.Name)
	}
	return n
}

// Names lists the class names, for "expected one of" messages.
func (r *Registry) Names() string {
	var n []string
	for _, c := range r.Classes() {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// NewRegistry returns the registry of every class this package implements.
// Other packages (the stepwise SNN neurons) add theirs with Register.
func NewRegistry() *Registry {
	r := &Registry{classes: map[string]*Class{}}
	r.Register(lifClass())
	r.Register(expLIFClass())
	r.Register(izhikevichClass())
	r.Register(glif3Class())
	r.Register(glif3PSCClass())
	r.Register(hhClass())
	r.Register(hhPSCClass())
	r.Register(dcClass())
	r.Register(poissonClass())
	r.Register(bernoulliClass())
	r.Register(spikeGenClass())
	r.Register(customClass())
	r.Register(inputTransmitterClass())
	for _, c := range stepwiseClasses() {
		r.Register(c)
	}
	return r
}

// --- shared parameter rows --------------------------------------------

// neuronBase are the parameters of docs/models/README.md that carry no dynamics
// (accepted for compatibility) plus STDP bookkeeping used by later issues.
func neuronBase() []Param {
	return []Param{
		{Name: "stdp_tau", Kind: Number, Unit: "ms", Default: 20.0, Constraint: "> 0", Doc: "time constant of the post trace K- (STDP)"},
		{Name: "tau_triplet", Kind: Number, Unit: "ms", Default: 110.0, Constraint: "> 0", Doc: "time constant of the long post trace (triplet STDP)"},
		{Name: "dendritic_delay", Kind: PerNeuron, Unit: "steps", Default: 1.0, Constraint: "integer >= 1", Doc: "delay of own spikes seen by STDP"},
		{Name: "is_spike_binary", Kind: Bool, Default: true, Doc: "spike values are 0 or 1", NoEffect: "a neuron emits at most one spike per step"},
		{Name: "n_receptor", Kind: Integer, Default: 1.0, Constraint: "= the number of ports", Doc: "number of spike receptor ports",
			NoEffect: "derived from the model (tau_syn's length); a given value must equal it"},
		{Name: "pid", Kind: Integer, Default: 0.0, Constraint: ">= 0", Doc: "neurai's process id", NoEffect: noEffectIDs},
		{Name: "id", Kind: Integer, Default: 0.0, Constraint: ">= 0", Doc: "neurai's population id", NoEffect: noEffectIDs},
		{Name: "neuron_start_id", Kind: Integer, Default: 1.0, Constraint: ">= 0", Doc: "neurai's global start id", NoEffect: noEffectIDs},
		{Name: "area_name", Kind: Text, Default: nil, Doc: "neurai's brain-area label", NoEffect: noEffectIDs},
	}
}

func generatorBase() []Param {
	return []Param{
		{Name: "pid", Kind: Integer, Default: 0.0, Constraint: ">= 0", Doc: "neurai's process id", NoEffect: noEffectIDs},
		{Name: "id", Kind: Integer, Default: 0.0, Constraint: ">= 0", Doc: "neurai's population id", NoEffect: noEffectIDs},
		{Name: "neuron_start_id", Kind: Integer, Default: 1.0, Constraint: ">= 0", Doc: "neurai's global start id", NoEffect: noEffectIDs},
	}
}

// noEffectIDs is why neurai's bookkeeping parameters change nothing.
const noEffectIDs = "bookkeeping of neurai's process and APU layout; spikeloop names populations in the file"

// checkNeuronBase validates the common rows; ports is the model's n_receptor.
func checkNeuronBase(b *Build, ports int) error {
	for _, name := range []string{"stdp_tau", "tau_triplet"} {
		if v := b.Float(name); !(v > 0) {
			return paramErr(name, "must be > 0, got %g", v)
		}
	}
	dd, err := b.PerUnit("dendritic_delay")
	if err != nil {
		return err
	}
	for i, d := range dd {
		if d < 1 || d != math.Trunc(d) {
			return paramErr("dendritic_delay", "entry %d: must be an integer >= 1, got %g", i, d)
		}
	}
	if b.Has("n_receptor") && int(b.Int("n_receptor")) != ports {
		return paramErr("n_receptor", "must be %d for %s (it is derived from the model; leave it out), got %d", ports, b.Class.Name, b.Int("n_receptor"))
	}
	return checkIDs(b)
}

func checkIDs(b *Build) error {
	for _, name := range []string{"pid", "id", "neuron_start_id"} {
		if v := b.Int(name); v < 0 {
			return paramErr(name, "must be an integer >= 0, got %d", v)
		}
	}
	return nil
}

// maxRefractorySteps bounds ceil(tau_ref/h): the refractory counters are
// int32, and a longer period than that (about 2.1e9 steps, 2.5 days of
// model time at dt 0.1 ms) is a typo, not a model.
const maxRefractorySteps = math.MaxInt32

// refractorySteps is docs/models/README.md: NEST rounds t_ref up to whole steps.
// The quotient is computed in float64 and checked before the conversion,
// so that an extreme tau_ref/dt is an error naming tau_ref, not a counter
// that wrapped to a negative number.
func refractorySteps(tauRef, h float64, null bool) (int32, error) {
	if null {
		return 0, nil
	}
	steps := math.Ceil(tauRef/h - 1e-9)
	if !(steps <= maxRefractorySteps) {
		return 0, paramErr("tau_ref", "must be at most %d steps of dt (%g ms), got %g ms (%g steps)", int64(maxRefractorySteps), h, tauRef, steps)
	}
	return int32(max(steps, 0)), nil
}

// givenNumber is a parameter's value as a message quotes it: the number,
// or null.
func givenNumber(b *Build, name string) string {
	if b.IsNull(name) {
		return "null"
	}
	return strconv.FormatFloat(b.Float(name), 'g', -1, 64)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
