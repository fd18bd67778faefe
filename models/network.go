package models

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spikeloop/spikeloop/models/npy"
	"go.yaml.in/yaml/v3"
)

// Network is a loaded and validated network file (the README's network
// file section): its populations are built, its connections created. It
// is a description: a backend reads it at Load and keeps its own run-time
// state (PopulationSpec.NewModel, its own copies of the weights), so a
// run changes nothing in it and one Network can be loaded into several
// backends, or again.
type Network struct {
	File        string
	Dt          float64 // ms
	Duration    float64 // ms (spikeloop sim)
	Seed        uint64
	Populations []*PopulationSpec
	Synapses    []*SynapseSpec
	Monitors    []*MonitorSpec

	// failed names the populations ("population:NAME") and synapse
	// entries ("synapse:NAME") whose errors were reported, so that the
	// entries that refer to them are skipped rather than reported again.
	failed map[string]bool
}

// PopulationSpec is one population of the file, built.
type PopulationSpec struct {
	Name  string
	Class *Class
	Size  int
	// Model is the population as loaded, at its initial state: part of
	// the description, for reading (its type, StateNames, Ports, the
	// initial states). Nothing steps or sets it; a backend runs an object
	// of its own from NewModel, so that the Network stays as loaded and
	// two backends loaded from one Network share no state.
	Model Population // *LIF, *ExpLIF, *DCGenerator, ...
	Line  int
	// Trace is the STDP post-trace setup of biophysical neurons (nil for
	// generators and stepwise neurons, which plastic synapses cannot target).
	Trace *PostTrace

	// build, seed, index and inits are how Load made Model, for NewModel.
	build  *Build
	seed   uint64
	index  int // position in the file's populations: its random stream
	inits  []initValue
	inited bool // the file has an init: section (afterInit runs)
}

// NewModel builds a new run-time object of the population at its initial
// state, as Load built Model: the same parameters and init values, and
// its random stream (a generator's draws) at its start. Backends step the
// object NewModel gives them, never Model. Nothing is read from disk
// again: a CustomGenerator's datapath rows are the ones Load read, shared
// read-only.
func (p *PopulationSpec) NewModel() (Population, error) {
	if p.build == nil {
		return nil, fmt.Errorf("population %q was not built by models.Load; there is no description to build it from", p.Name)
	}
	b := *p.build
	b.Rand = stream(p.seed, streamPopulation, p.index)
	m, err := p.Class.Build(&b)
	if err != nil {
		return nil, fmt.Errorf("population %q: %w", p.Name, err)
	}
	if p.inited {
		if err := setInits(m, p.inits); err != nil {
			return nil, fmt.Errorf("population %q: init: %w", p.Name, err)
		}
	}
	return m, nil
}

// IsNeuron tells whether the population receives input.
func (p *PopulationSpec) IsNeuron() bool { _, ok := p.Model.(NeuronModel); return ok }

// IsCurrentSource tells whether the population emits currents (pA).
func (p *PopulationSpec) IsCurrentSource() bool {
	if t, ok := p.Model.(*InputTransmitter); ok {
		return t.Current()
	}
	return p.Class.Kind == CurrentSourceClass
}

// SynapseSpec is one synapse entry with its connections in canonical order.
type SynapseSpec struct {
	Name     string
	Index    int // position in the file's synapses list
	Pre      *PopulationSpec
	Post     *PopulationSpec
	Model    string
	Rule     ConnRule
	Conns    []Conn
	Weights  []float64 // per connection
	Delays   []int32   // per connection, steps (>= 1)
	Receptor int
	Line     int
	STDP     *STDPRule // nil for StaticSynapse
}

// MonitorSpec is one monitor entry.
type MonitorSpec struct {
	Population *PopulationSpec // nil for a synapse monitor
	Synapse    *SynapseSpec
	Record     []string // "spikes" and/or state names
	Neurons    []int    // subset, in the order given; nil = all
	Every      int
	Line       int
}

// maxDelaySteps bounds synaptic and dendritic delays in steps: the engine
// keeps that many steps of input or spike history per neuron.
const maxDelaySteps = 1 << 20

// maxSteps bounds duration/dt: step numbers stay exact float64 integers
// and fit an int64 with room to spare.
const maxSteps = 1 << 53

// Random stream kinds (docs/models/README.md, Randomness): every stream is
// PCG(seed, kind<<32 | index) so that streams never overlap and changing
// one synapse's weight distribution leaves every other draw unchanged.
const (
	streamPopulation   = 1
	streamConnectivity = 2
	streamWeights      = 3
	streamInit         = 4 // index: population<<8 | state
)

func stream(seed uint64, kind, index int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(kind)<<32|uint64(index)))
}

// PythonOnly are constructor arguments of neurai's Python classes that
// have no meaning in a file; a file giving one gets an error saying so.
// (Stepwise classes take surrogate_grad_fn, which their backward uses.)
var PythonOnly = []string{"surrogate_grad_fn", "parent", "name", "frozen_params", "rng_col"}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)

// LoadFile reads and validates a network file.
func LoadFile(path string, reg *Registry, lim Limits) (*Network, error) {
	// The size is checked before reading: a reload of a huge file must not
	// take the memory the check is there to protect.
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && lim.MaxFileBytes > 0 && fi.Size() > lim.MaxFileBytes {
		return nil, fileTooLarge(path, fi.Size(), lim)
	}
	data, err := readAtMost(path, lim.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("network file: %w", err)
	}
	return Load(data, path, reg, lim)
}

// Load validates a network file's contents; path names it in errors and
// anchors relative paths.
func Load(data []byte, path string, reg *Registry, lim Limits) (*Network, error) {
	d := &decoder{file: path, data: data}
	if lim.MaxFileBytes > 0 && int64(len(data)) > lim.MaxFileBytes {
		return nil, fileTooLarge(path, int64(len(data)), lim)
	}
	text, lists := extractBulk(data)
	if lim.MaxNodes > 0 {
		if n := nodesAtLeast(text); n > lim.MaxNodes {
			return nil, &FileError{File: path, Msg: fmt.Sprintf("has at least %d YAML nodes (keys, values, list entries; counted before parsing), more than the limit of %d (Limits.MaxNodes)", n, lim.MaxNodes)}
		}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{File: path, Line: 1, Msg: "must be a mapping with version, populations, ..., got an empty file"}
		}
		return nil, d.yamlErr(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, d.errf(&extra, "", "a network file holds one YAML document, found a second")
	case !errors.Is(err, io.EOF):
		// The second document is not even valid YAML: still an error, not
		// a file that loads because its tail was never looked at.
		return nil, d.yamlErr(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, d.errf(&doc, "", "must be a mapping with version, populations, ..., got an empty file")
	}
	if lim.MaxNodes > 0 {
		if n := countNodes(&doc, lim.MaxNodes); n > lim.MaxNodes {
			return nil, &FileError{File: path, Msg: fmt.Sprintf("has more than %d YAML nodes (keys, values, list entries), the limit (Limits.MaxNodes)", lim.MaxNodes)}
		}
	}
	root := doc.Content[0]
	d.adoptBulk(root, lists)
	keys, vals, err := d.mapping(root, "", []string{"version", "dt", "duration", "seed", "populations", "synapses", "monitors"})
	if err != nil {
		return nil, err
	}
	net := &Network{File: path, Dt: 0.1}
	dir := filepath.Dir(path)
	field := map[string]*yaml.Node{}
	for i, k := range keys {
		field[k.Value] = vals[i]
	}
	v, ok := field["version"]
	if !ok {
		return nil, d.errf(root, "version", "must be 1, got nothing")
	}
	if ver, err := d.integer(v, "version", math.MinInt32, math.MaxInt32); err != nil {
		return nil, err
	} else if ver != 1 {
		return nil, d.errf(v, "version", "got %d, this spikeloop reads version 1", ver)
	}
	if n, ok := field["dt"]; ok {
		if net.Dt, err = d.number(n, "dt", false); err != nil {
			return nil, err
		}
		if !(net.Dt > 0) {
			return nil, d.errf(n, "dt", "must be a resolution > 0 ms, got %s", n.Value)
		}
	}
	if n, ok := field["duration"]; ok {
		if net.Duration, err = d.number(n, "duration", false); err != nil {
			return nil, err
		}
		// The step count is bounded first, in float64: the grid test
		// of a duration this far out says nothing useful.
		if net.Duration > 0 && net.Duration/net.Dt > maxSteps {
			return nil, d.errf(n, "duration", "got %s, that is more than %d steps of dt (%g ms)", n.Value, int64(maxSteps), net.Dt)
		}
		if _, on := onGrid(net.Duration, net.Dt); net.Duration < 0 || !on {
			return nil, d.errf(n, "duration", "must be a multiple of dt (%g ms) >= 0, got %s", net.Dt, n.Value)
		}
	}
	if n, ok := field["seed"]; ok {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return nil, d.errf(n, "seed", "must be an unsigned integer, got %s", describe(n))
		}
		var s uint64
		if _, err := fmt.Sscan(strings.ReplaceAll(n.Value, "_", ""), &s); err != nil {
			return nil, d.errf(n, "seed", "must be an unsigned 64-bit integer, got %s", n.Value)
		}
		net.Seed = s
	}
	pn, ok := field["populations"]
	if !ok {
		return nil, d.errf(root, "populations", "must be a mapping of at least one population, got nothing")
	}
	// Every population, synapse entry and monitor is checked, and every
	// problem reported at once; an entry that refers to one with an error
	// is skipped.
	var errs ErrorList
	net.fail(&errs, net.loadPopulations(d, pn, dir, reg, lim), "", "")
	if sn, ok := field["synapses"]; ok && !isNull(sn) {
		net.fail(&errs, net.loadSynapses(d, sn, dir, lim), "", "")
	}
	if mn, ok := field["monitors"]; ok && !isNull(mn) {
		net.fail(&errs, net.loadMonitors(d, mn), "", "")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return net, nil
}

// ErrorList is every problem found in one network file, in file order.
// A file with one problem gets that error itself, not a list.
type ErrorList []error

// maxListed caps the problems an ErrorList prints; the rest are counted.
const maxListed = 20

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == maxListed {
			fmt.Fprintf(&b, "\n... and %d more problems", len(l)-maxListed)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.As and errors.Is every problem.
func (l ErrorList) Unwrap() []error { return l }

// Err is nil for no problem, the error itself for one, else the list.
func (l ErrorList) Err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	return l
}

// errSkip marks an entry that refers to one whose error was reported.
var errSkip = errors.New("skipped: refers to an entry with an error")

// fail records err of the named entry: the entries that refer to it are
// skipped later (errSkip), so that one mistake is reported once.
func (net *Network) fail(errs *ErrorList, err error, kind, name string) {
	if err == nil {
		return
	}
	if net.failed == nil {
		net.failed = map[string]bool{}
	}
	if name != "" {
		net.failed[kind+":"+name] = true
	}
	if errors.Is(err, errSkip) {
		return
	}
	var list ErrorList
	if errors.As(err, &list) {
		*errs = append(*errs, list...)
		return
	}
	*errs = append(*errs, err)
}

// synapseName is the name: of a synapse entry, or "".
func synapseName(en *yaml.Node) string {
	if en.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(en.Content); i += 2 {
		if en.Content[i].Value == "name" {
			return en.Content[i+1].Value
		}
	}
	return ""
}

// Population finds a population by name.
func (net *Network) Population(name string) *PopulationSpec {
	for _, p := range net.Populations {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (net *Network) populationNames() string {
	var s []string
	for _, p := range net.Populations {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

// Steps is the duration in whole steps.
func (net *Network) Steps() int64 { return int64(math.Round(net.Duration / net.Dt)) }

func (net *Network) loadPopulations(d *decoder, pn *yaml.Node, dir string, reg *Registry, lim Limits) error {
	keys, vals, err := d.mapping(pn, "populations", nil)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return d.errf(pn, "populations", "must be a mapping of at least one population, got an empty one")
	}
	total := 0
	var spikeTimes int64              // stored by SpikeGenerators so far (Limits.MaxSpikeTimes)
	files := map[string][][]float64{} // .dat rows read, for NewModel
	var errs ErrorList
	for i, k := range keys {
		err := func() error {
			name := k.Value
			f := "populations." + name
			if !nameRE.MatchString(name) {
				return d.errf(k, f, "population names must match %s (they name output files)", nameRE)
			}
			pk, pv, err := d.mapping(vals[i], f, []string{"model", "size", "params", "init"})
			if err != nil {
				return err
			}
			pf := map[string]*yaml.Node{}
			for j, kk := range pk {
				pf[kk.Value] = pv[j]
			}
			mn, ok := pf["model"]
			if !ok {
				return d.errf(vals[i], f+".model", "must be one of %s, got nothing", reg.Names())
			}
			model, err := d.str(mn, f+".model")
			if err != nil {
				return err
			}
			class, ok := reg.Lookup(model)
			if !ok {
				return d.errf(mn, f+".model", "must be one of %s, got %q%s", reg.Names(), model, DidYouMean(model, reg.ClassNames()))
			}
			sn, ok := pf["size"]
			if !ok {
				return d.errf(vals[i], f+".size", "must be the number of units (integer >= 1), got nothing")
			}
			size, err := d.integer(sn, f+".size", 1, math.MaxInt32)
			if err != nil {
				return err
			}
			// Compared before adding: int is 32 bits on the arm boards.
			if int64(total)+size > int64(lim.MaxUnits) {
				return d.errf(sn, f+".size", "got %d; the network would have %d units, more than the limit of %d", size, int64(total)+size, lim.MaxUnits)
			}
			total += int(size)
			b := &Build{Pop: name, Size: int(size), Dt: net.Dt, Dir: dir, Class: class, Values: map[string]Value{},
				Rand: stream(net.Seed, streamPopulation, i), files: files}
			paramsNode := vals[i]
			if prn, ok := pf["params"]; ok && !isNull(prn) {
				paramsNode = prn
				ks, vs, err := d.mapping(prn, f+".params", nil)
				if err != nil {
					return err
				}
				// Every parameter is checked; the population's problems
				// are reported together.
				var perrs ErrorList
				for j, kk := range ks {
					pfield := f + ".params." + kk.Value
					if contains(PythonOnly, kk.Value) && !(class.Stepwise && kk.Value == "surrogate_grad_fn") {
						perrs = append(perrs, d.errf(kk, pfield, "is a Python-only constructor argument of neurai and has no meaning in a network file; leave it out"))
						continue
					}
					p, ok := class.Param(kk.Value)
					if !ok {
						perrs = append(perrs, d.errf(kk, pfield, "unknown parameter of %s%s%s; expected one of %s", model, DidYouMean(kk.Value, paramList(class)), unknownHint(model, kk.Value), paramNames(class)))
						continue
					}
					if p.Kind == TimeList && lim.MaxSpikeTimes > 0 {
						// Counted from the list's nodes, before any is converted.
						if n, how := d.nodeTimes(vs[j], int(size)); n > lim.MaxSpikeTimes-spikeTimes {
							return d.errf(vs[j], pfield, "%s would store %d spike times (%s); the network would hold %d, more than the limit of %d (Limits.MaxSpikeTimes)",
								name, n, how, spikeTimes+min(n, math.MaxInt64-spikeTimes), lim.MaxSpikeTimes)
						}
					}
					val, err := d.param(p, vs[j], pfield)
					if err != nil {
						perrs = append(perrs, err)
						continue
					}
					b.Values[kk.Value] = val
				}
				if len(perrs) > 0 {
					return perrs.Err()
				}
			}
			if in, ok := pf["init"]; ok && b.Has("v_init") {
				if ik, _, err := d.mapping(in, f+".init", nil); err == nil {
					for _, kk := range ik {
						if kk.Value == "V" {
							return d.errf(kk, f+".init.V", "v_init is given in params too; give the initial V once")
						}
					}
				}
			}
			// Counted before the constructor copies a single list to every
			// unit (multiplicities go with the times and are not counted twice).
			if p, ok := class.Param("spike_times"); ok && p.Kind == TimeList {
				if v, ok := b.Values["spike_times"]; ok {
					n, how := storedTimes(v, b.Size)
					if lim.MaxSpikeTimes > 0 && n > lim.MaxSpikeTimes-spikeTimes {
						return &FileError{File: d.file, Line: v.Line, Field: f + ".params.spike_times",
							Msg: fmt.Sprintf("%s would store %d spike times (%s); the network would hold %d, more than the limit of %d",
								name, n, how, spikeTimes+min(n, math.MaxInt64-spikeTimes), lim.MaxSpikeTimes)}
					}
					spikeTimes += n
				}
			}
			pop, err := class.Build(b)
			if err != nil {
				at := func(pe *ParamError) error {
					line := paramsNode.Line
					if v, ok := b.Values[pe.Param]; ok {
						line = v.Line
					}
					return &FileError{File: d.file, Line: line, Field: f + ".params." + pe.Param, Msg: pe.Msg}
				}
				var pes ParamErrors
				if errors.As(err, &pes) {
					var list ErrorList
					for _, pe := range pes {
						list = append(list, at(pe))
					}
					return list.Err()
				}
				var pe *ParamError
				if errors.As(err, &pe) {
					return at(pe)
				}
				return d.errf(paramsNode, f+".params", "%v", err)
			}
			spec := &PopulationSpec{Name: name, Class: class, Size: int(size), Model: pop, Line: k.Line,
				build: b, seed: net.Seed, index: i}
			if _, ok := class.Param("stdp_tau"); ok && !class.Stepwise {
				// dendritic_delay sizes the engine's spike history per neuron
				// and is converted to int32: bound it as synaptic delays are.
				if dd, err := b.PerUnit("dendritic_delay"); err == nil {
					for j, x := range dd {
						if x > maxDelaySteps {
							line := b.Values["dendritic_delay"].Line
							return &FileError{File: d.file, Line: line, Field: f + ".params.dendritic_delay",
								Msg: fmt.Sprintf("entry %d: %g steps, more than the supported %d", j, x, maxDelaySteps)}
						}
					}
				}
				if spec.Trace, err = postTrace(b); err != nil {
					return d.errf(paramsNode, f+".params", "%v", err)
				}
			}
			if in, ok := pf["init"]; ok && !isNull(in) {
				if err := applyInit(d, spec, in, f+".init", net.Seed, i); err != nil {
					return err
				}
			}
			net.Populations = append(net.Populations, spec)
			return nil
		}()
		if err != nil {
			net.fail(&errs, err, "population", k.Value)
		}
	}
	return errs.Err()
}

// storedTimes is how many times a TimeList value makes a population of
// size units store: a list of lists as given, a single list (or number)
// once per unit. int64 and saturating, so that it cannot wrap on 32-bit
// boards.
func storedTimes(v Value, size int) (int64, string) {
	switch {
	case v.Null:
		return 0, "none"
	case v.Is2D:
		var n int64
		for _, r := range v.Rows {
			n += int64(len(r))
		}
		return n, fmt.Sprintf("%d lists", len(v.Rows))
	}
	per := int64(1)
	if v.IsList {
		per = int64(len(v.Nums))
	}
	n := mulSat(per, int64(size))
	return n, fmt.Sprintf("one list of %d copied to each of %d units", per, size)
}

// nodeTimes is storedTimes counted from the YAML node of a TimeList
// before it is converted: a list of lists as given, a single list (or
// number) once per unit.
func (d *decoder) nodeTimes(n *yaml.Node, size int) (int64, string) {
	if isNull(n) {
		return 0, "none"
	}
	if n.Kind != yaml.SequenceNode {
		return mulSat(1, int64(size)), fmt.Sprintf("one time copied to each of %d units", size)
	}
	if len(n.Content) > 0 && n.Content[0].Kind == yaml.SequenceNode {
		var t int64
		for _, r := range n.Content {
			t += int64(d.seqLen(r))
		}
		return t, fmt.Sprintf("%d lists", len(n.Content))
	}
	per := int64(d.seqLen(n))
	return mulSat(per, int64(size)), fmt.Sprintf("one list of %d copied to each of %d units", per, size)
}

// mulSat is a*b for a, b >= 0, saturated at math.MaxInt64.
func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// unknownHint explains an unknown parameter that stands for something a
// class derives (docs/models/neurai.md, the decisions).
func unknownHint(class, name string) string {
	n := strings.ToLower(name)
	if class == "SNNSRM" && (strings.Contains(n, "eps") || strings.Contains(n, "kernel") || strings.Contains(n, "nu")) {
		return " (SNNSRM's response and refractory kernels are not set directly: they follow from tau_res, tau_ref, time_step, time_window and kernel_window)"
	}
	return ""
}

func paramNames(c *Class) string { return strings.Join(paramList(c), ", ") }

func paramList(c *Class) []string {
	var s []string
	for _, p := range c.Params {
		s = append(s, p.Name)
	}
	return s
}

// initNames lets a model exclude derived states (a sum) from `init`.
type initNamer interface{ InitNames() []string }

type afterIniter interface{ afterInit(given map[string]bool) }

// initValue is one state of a population's init: section, drawn: one
// value for every unit, or one per unit.
type initValue struct {
	name string
	xs   []float64
}

// setInit sets one initial state of m.
func setInit(m Population, v initValue) error {
	if ss, ok := m.(stateSetter); ok {
		return ss.SetInitState(v.name, v.xs)
	}
	dst := m.State(v.name)
	for j := range dst {
		dst[j] = v.xs[min(j, len(v.xs)-1)]
	}
	return nil
}

// setInits sets every initial state of an init: section, then lets the
// model derive what follows from them (afterIniter).
func setInits(m Population, inits []initValue) error {
	given := map[string]bool{}
	for _, v := range inits {
		if err := setInit(m, v); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		given[v.name] = true
	}
	if a, ok := m.(afterIniter); ok {
		a.afterInit(given)
	}
	return nil
}

// applyInit sets initial states: a number, a list of size, or a
// distribution (Dist) drawn from the population's init stream. The values
// are kept in p for NewModel.
func applyInit(d *decoder, p *PopulationSpec, n *yaml.Node, f string, seed uint64, popIndex int) error {
	if !p.IsNeuron() {
		return d.errf(n, f, "%s is a generator and has no initial state", p.Class.Name)
	}
	names := p.Model.StateNames()
	if in, ok := p.Model.(initNamer); ok {
		names = in.InitNames()
	}
	keys, vals, err := d.mapping(n, f, nil)
	if err != nil {
		return err
	}
	var inits []initValue
	for i, k := range keys {
		ff := f + "." + k.Value
		if !contains(names, k.Value) {
			return d.errf(k, ff, "unknown state of %s%s; expected one of %s", p.Class.Name, DidYouMean(k.Value, names), strings.Join(names, ", "))
		}
		var xs []float64
		if vals[i].Kind == yaml.MappingNode {
			ds, err := d.dist(vals[i], ff, true)
			if err != nil {
				return err
			}
			xs = make([]float64, p.Size)
			ds.fill(xs, stream(seed, streamInit, popIndex<<8|stateIndex(names, k.Value)))
			if err := d.allFinite(xs, vals[i], ff); err != nil {
				return err
			}
		} else if vals[i].Kind == yaml.SequenceNode {
			if xs, err = d.numbers(vals[i], ff); err != nil {
				return err
			}
			if len(xs) != p.Size {
				return d.errf(vals[i], ff, "must be one value per unit (size %d), a number or a distribution, got %d values", p.Size, len(xs))
			}
		} else {
			x, err := d.number(vals[i], ff, false)
			if err != nil {
				return err
			}
			xs = []float64{x}
		}
		v := initValue{name: k.Value, xs: xs}
		if err := setInit(p.Model, v); err != nil {
			return d.errf(vals[i], ff, "%v", err)
		}
		inits = append(inits, v)
	}
	if a, ok := p.Model.(afterIniter); ok {
		given := map[string]bool{}
		for _, v := range inits {
			given[v.name] = true
		}
		a.afterInit(given)
	}
	p.inits, p.inited = inits, true
	return nil
}

func stateIndex(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return 0
}

var ruleFields = map[string][]string{
	"one_to_one":      {"rule"},
	"all_to_all":      {"rule", "allow_autapses"},
	"fixed_prob":      {"rule", "p", "allow_autapses"},
	"fixed_indegree":  {"rule", "n", "allow_autapses"},
	"fixed_total_num": {"rule", "n", "multi_conn", "allow_autapses"},
	"explicit":        {"rule", "pairs"},
}

func (net *Network) loadSynapses(d *decoder, sn *yaml.Node, dir string, lim Limits) error {
	d.expand(sn)
	if sn.Kind != yaml.SequenceNode {
		return d.errf(sn, "synapses", "must be a list of synapse entries, got %s", describe(sn))
	}
	total := 0
	names := map[string]bool{}
	rings := map[*PopulationSpec]*ringUse{}
	var errs ErrorList
	for idx, en := range sn.Content {
		err := func() error {
			f := fmt.Sprintf("synapses[%d]", idx)
			ks, vs, err := d.mapping(en, f, []string{"name", "pre", "post", "model", "params", "conn", "weight", "delay", "receptor"})
			if err != nil {
				return err
			}
			m := map[string]*yaml.Node{}
			for i, k := range ks {
				m[k.Value] = vs[i]
			}
			s := &SynapseSpec{Index: idx, Model: "StaticSynapse", Line: en.Line}
			if n, ok := m["name"]; ok {
				if s.Name, err = d.str(n, f+".name"); err != nil {
					return err
				}
				if !nameRE.MatchString(s.Name) {
					return d.errf(n, f+".name", "synapse names must match %s (they name output files)", nameRE)
				}
				if names[s.Name] {
					return d.errf(n, f+".name", "%q is used by an earlier synapse entry", s.Name)
				}
				names[s.Name] = true
				f = fmt.Sprintf("synapses[%d] (%s)", idx, s.Name)
			}
			for _, end := range []string{"pre", "post"} {
				n, ok := m[end]
				if !ok {
					return d.errf(en, f+"."+end, "must be a population name (one of %s), got nothing", net.populationNames())
				}
				name, err := d.str(n, f+"."+end)
				if err != nil {
					return err
				}
				p := net.Population(name)
				if p == nil && net.failed["population:"+name] {
					return errSkip // its own error is reported
				}
				if p == nil {
					return d.errf(n, f+"."+end, "must be one of %s, got %q", net.populationNames(), name)
				}
				if end == "pre" {
					s.Pre = p
				} else {
					s.Post = p
				}
			}
			if !s.Post.IsNeuron() {
				return d.errf(m["post"], f+".post", "%q is a %s; generators receive no input, post must be a neuron population", s.Post.Name, s.Post.Class.Name)
			}
			if n, ok := m["model"]; ok {
				if s.Model, err = d.str(n, f+".model"); err != nil {
					return err
				}
				switch s.Model {
				case "StaticSynapse":
				case "STDPSynapse", "TripletSTDPSynapse":
					if s.Pre.IsCurrentSource() {
						return d.errf(n, f+".model", "must be StaticSynapse when pre is a current source (%s needs spikes), got %s from %q", s.Model, s.Model, s.Pre.Name)
					}
					if s.Post.Trace == nil {
						return d.errf(n, f+".model", "must be StaticSynapse when post is not a biophysical neuron population (%s keeps the post traces), got %s into %q (class %s)", s.Model, s.Model, s.Post.Name, s.Post.Class.Name)
					}
					if s.STDP, err = d.decodeSTDP(s.Model, m["params"], en, f+".params"); err != nil {
						return err
					}
				default:
					return d.errf(n, f+".model", "must be StaticSynapse, STDPSynapse or TripletSTDPSynapse, got %q%s", s.Model, DidYouMean(s.Model, []string{"StaticSynapse", "STDPSynapse", "TripletSTDPSynapse"}))
				}
			}
			if n, ok := m["params"]; ok && !isNull(n) && s.STDP == nil {
				return d.errf(n, f+".params", "StaticSynapse takes no parameters")
			}
			cn, ok := m["conn"]
			if !ok {
				return d.errf(en, f+".conn", "must be {rule: one_to_one|all_to_all|fixed_prob|fixed_indegree|fixed_total_num|explicit, ...}, got nothing")
			}
			if s.Rule, err = d.connRule(cn, f+".conn"); err != nil {
				return err
			}
			if err := d.checkRule(s, cn, f+".conn"); err != nil {
				return err
			}
			if est := estimateConns(s.Rule, s.Pre.Size, s.Post.Size); int64(total)+est > int64(lim.MaxConnections) {
				return d.errf(cn, f+".conn", "would create about %d connections, the network's limit is %d", int64(total)+est, lim.MaxConnections)
			}
			if pairs := examinedPairs(s.Rule, s.Pre.Size, s.Post.Size, s.Pre == s.Post); lim.MaxPairs > 0 && pairs > lim.MaxPairs {
				if s.Rule.Rule == "fixed_total_num" {
					nn := cn
					for i := 0; i+1 < len(cn.Content); i += 2 {
						if cn.Content[i].Value == "n" {
							nn = cn.Content[i+1]
						}
					}
					return d.errf(nn, f+".conn.n", "got %d; fixed_total_num would draw about %d (pre, post) pairs (%d x %d, redrawing taken pairs), more than the limit of %d", s.Rule.N, pairs, s.Pre.Size, s.Post.Size, lim.MaxPairs)
				}
				return d.errf(cn, f+".conn", "rule %s would look at %d (pre, post) pairs (%d x %d), more than the limit of %d", s.Rule.Rule, pairs, s.Pre.Size, s.Post.Size, lim.MaxPairs)
			}
			s.Conns, err = Connect(s.Rule, s.Pre.Size, s.Post.Size, s.Pre == s.Post, stream(net.Seed, streamConnectivity, idx))
			if err != nil {
				return d.errf(cn, f+".conn", "%v", err)
			}
			total += len(s.Conns)
			if total > lim.MaxConnections {
				return d.errf(cn, f+".conn", "the network now has %d connections, more than the limit of %d", total, lim.MaxConnections)
			}
			if err := net.loadWeights(d, s, m["weight"], f+".weight", dir, en); err != nil {
				return err
			}
			if s.STDP != nil {
				for c, w := range s.Weights {
					if err := s.STDP.CheckWeight(w); err != nil {
						node := m["weight"]
						if node == nil {
							node = en
						}
						return d.errf(node, f+".weight", "connection %d: %v", c, err)
					}
				}
			}
			if err := net.loadDelays(d, s, m["delay"], f+".delay"); err != nil {
				return err
			}
			if err := checkRings(d, rings, s, m["delay"], en, f+".delay", net.Dt, lim); err != nil {
				return err
			}
			if n, ok := m["receptor"]; ok {
				r, err := d.integer(n, f+".receptor", 0, math.MaxInt32)
				if err != nil {
					return err
				}
				s.Receptor = int(r)
				ports := s.Post.Model.(NeuronModel).Ports()
				if s.Pre.IsCurrentSource() && r != 0 {
					return d.errf(n, f+".receptor", "got %d; a current connection has no receptor port (must be 0)", r)
				}
				if s.Receptor >= ports {
					return d.errf(n, f+".receptor", "got %d, but %s %q has %d port(s) (0..%d)", r, s.Post.Class.Name, s.Post.Name, ports, ports-1)
				}
			}
			net.Synapses = append(net.Synapses, s)
			return nil
		}()
		if err != nil {
			net.fail(&errs, err, "synapse", synapseName(en))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return net.checkZeroDelayCycles(d, sn)
}

// ringUse is what the synapse entries loaded so far ask of one post
// population's delay rings.
type ringUse struct {
	maxDelay int32 // steps
	spikes   bool  // a spike synapse: one row per input port
	currents bool  // a current synapse: one more row
}

// bytes is the rings' size: slots() slots of rows x size float64s.
func (u *ringUse) bytes(post *PopulationSpec) int64 {
	return mulSat(mulSat(u.slots(), int64(u.rows(post))), mulSat(int64(post.Size), 8))
}

// slots is the ring length: the longest delay in steps, at least 1 (a
// step's input is read and cleared before that step's spikes are queued,
// so a delay of L steps reuses the slot just freed).
func (u *ringUse) slots() int64 { return max(int64(u.maxDelay), 1) }

// rows is the input rows of the rings: one per spike port, one for currents.
func (u *ringUse) rows(post *PopulationSpec) int {
	rows := 0
	if u.spikes {
		rows += ringPorts(post)
	}
	if u.currents {
		rows++
	}
	return rows
}

// ringPorts is the spike input rows of a neuron population in the engine:
// its ports, or two for a model that splits its input by weight sign.
func ringPorts(p *PopulationSpec) int {
	nm, ok := p.Model.(NeuronModel)
	if !ok {
		return 0
	}
	if sp, ok := nm.(SignSplitter); ok && sp.SplitsBySign() {
		return 2
	}
	return nm.Ports()
}

// RingBytes is the memory of the delay ring buffers net needs: for every
// population that receives input, max(longest delay in steps, 1) slots of
// one float64 per neuron for each spike port and for currents. It is
// what Limits.MaxRingBytes bounds while the file loads, and the rings'
// share of the cpu backend's Probe.Memory (one count: apu/cpu allocates
// no more, as it skips ports nothing targets).
func (net *Network) RingBytes() int64 {
	return sumRings(net.ringUses())
}

// RingSlots is the length of the delay ring of every population that
// receives input: max(longest delay in steps, 1), the slots RingBytes
// counts and apu/cpu allocates.
func (net *Network) RingSlots() map[*PopulationSpec]int {
	slots := map[*PopulationSpec]int{}
	for p, u := range net.ringUses() {
		slots[p] = int(u.slots())
	}
	return slots
}

// SpikeRows is, for every population that receives spikes, the number
// of spike input rows of its delay rings (ring slots x spike ports), each
// one float64 per neuron: the part of RingBytes that spikes are written
// to (apu/cpu keeps a list of the written neurons per row).
func (net *Network) SpikeRows() map[*PopulationSpec]int64 {
	rows := map[*PopulationSpec]int64{}
	for p, u := range net.ringUses() {
		if u.spikes {
			rows[p] = u.slots() * int64(ringPorts(p))
		}
	}
	return rows
}

// ringUses is what the network's synapse entries ask of each post
// population's rings.
func (net *Network) ringUses() map[*PopulationSpec]*ringUse {
	rings := map[*PopulationSpec]*ringUse{}
	for _, s := range net.Synapses {
		useRings(rings, s)
	}
	return rings
}

func useRings(rings map[*PopulationSpec]*ringUse, s *SynapseSpec) int32 {
	u := rings[s.Post]
	if u == nil {
		u = &ringUse{}
		rings[s.Post] = u
	}
	var maxD int32
	for _, dl := range s.Delays {
		maxD = max(maxD, dl)
	}
	u.maxDelay = max(u.maxDelay, maxD)
	if s.Pre.IsCurrentSource() {
		u.currents = true
	} else {
		u.spikes = true
	}
	return maxD
}

func sumRings(rings map[*PopulationSpec]*ringUse) int64 {
	var b int64
	for p, u := range rings {
		b = min(b, math.MaxInt64/2) + min(u.bytes(p), math.MaxInt64/2) // saturating
	}
	return b
}

// checkRings adds synapse entry s to the rings and rejects it when the
// network's rings would exceed Limits.MaxRingBytes, before the engine
// allocates them: the longest delay sets the ring length of its post.
func checkRings(d *decoder, rings map[*PopulationSpec]*ringUse, s *SynapseSpec, dn, en *yaml.Node, f string, dt float64, lim Limits) error {
	maxD := useRings(rings, s)
	if lim.MaxRingBytes <= 0 {
		return nil
	}
	total := sumRings(rings)
	if total <= lim.MaxRingBytes {
		return nil
	}
	node := dn
	if node == nil {
		node = en
	}
	u := rings[s.Post]
	return d.errf(node, f, "delay %g ms (%d steps) into %q makes its delay rings %d slots x %d neurons x %d input rows = %d bytes; the network's rings would take %d bytes, more than the limit of %d",
		math.Round(float64(maxD)*dt*1e9)/1e9, maxD, s.Post.Name, u.slots(), s.Post.Size, u.rows(s.Post), u.bytes(s.Post), total, lim.MaxRingBytes)
}

// stateSetter is implemented by models whose recordable states are copies
// (the float32 stepwise layers), so `init` must go through a setter.
type stateSetter interface {
	SetInitState(name string, values []float64) error
}

// checkZeroDelayCycles rejects a cycle made only of zero-delay synapses:
// its populations would each need the others' output of the same step.
func (net *Network) checkZeroDelayCycles(d *decoder, sn *yaml.Node) error {
	if _, err := net.ZeroDelayOrder(); err != nil {
		return d.errf(sn, "synapses", "%v", err)
	}
	return nil
}

// ZeroDelayOrder returns the populations ordered so that every zero-delay
// synapse goes from an earlier to a later one (file order otherwise), or
// an error naming a zero-delay cycle.
func (net *Network) ZeroDelayOrder() ([]*PopulationSpec, error) {
	next := map[*PopulationSpec][]*PopulationSpec{}
	indeg := map[*PopulationSpec]int{}
	for _, s := range net.Synapses {
		for _, dl := range s.Delays {
			if dl == 0 {
				next[s.Pre] = append(next[s.Pre], s.Post)
				indeg[s.Post]++
				break
			}
		}
	}
	var order []*PopulationSpec
	done := map[*PopulationSpec]bool{}
	for len(order) < len(net.Populations) {
		progressed := false
		for _, p := range net.Populations { // file order among the ready ones
			if done[p] || indeg[p] > 0 {
				continue
			}
			done[p] = true
			order = append(order, p)
			for _, q := range next[p] {
				indeg[q]--
			}
			progressed = true
			break
		}
		if !progressed {
			var cyc []string
			for _, p := range net.Populations {
				if !done[p] {
					cyc = append(cyc, strconv.Quote(p.Name))
				}
			}
			return nil, fmt.Errorf("zero-delay synapses form a cycle among %s; give one of them a delay of at least dt", strings.Join(cyc, ", "))
		}
	}
	return order, nil
}

// estimateConns bounds a rule's connection count before creating it, in
// int64 so that N_pre*N_post does not wrap on 32-bit boards.
func estimateConns(r ConnRule, nPre, nPost int) int64 {
	switch r.Rule {
	case "one_to_one":
		return int64(nPre)
	case "all_to_all":
		return int64(nPre) * int64(nPost)
	case "fixed_prob":
		return int64(float64(nPre) * float64(nPost) * r.P)
	case "fixed_indegree":
		return int64(r.N) * int64(nPost)
	case "fixed_total_num":
		return int64(r.N)
	}
	return int64(len(r.Pairs))
}

// examinedPairs is the work of a rule whatever it connects: the pairs it
// loops over (fixed_indegree builds its candidate list once per post), or
// for fixed_total_num the draws it expects to make (same: pre and post are
// one population). int64 and float64 only: int is 32 bits on the arm boards.
func examinedPairs(r ConnRule, nPre, nPost int, same bool) int64 {
	switch r.Rule {
	case "all_to_all", "fixed_prob", "fixed_indegree":
		return int64(nPre) * int64(nPost)
	case "fixed_total_num":
		return totalNumDraws(r, int64(nPre), int64(nPost), same)
	}
	return 0
}

// totalNumDraws is the expected number of (pre, post) draws of
// fixed_total_num: a draw of an autapse (when not allowed) or, without
// multi_conn, of a pair already taken is redrawn, so taking the k-th of
// `allowed` distinct pairs costs total/(allowed-k) draws on average
// (coupon collector: total * (H(allowed) - H(allowed-n))). At least n.
func totalNumDraws(r ConnRule, nPre, nPost int64, same bool) int64 {
	n := int64(r.N)
	if n <= 0 {
		return 0
	}
	total := float64(nPre) * float64(nPost)
	allowed := total
	if same && !r.AllowAutapses {
		allowed -= float64(min(nPre, nPost))
	}
	if allowed <= 0 {
		return n // checkRule rejects it
	}
	var draws float64
	if r.MultiConn {
		draws = float64(n) * total / allowed
	} else {
		if rest := allowed - float64(n); rest >= 1 {
			// H(allowed) - H(rest), as a log1p: the difference of two
			// logarithms loses its digits when n << allowed.
			draws = total * (-math.Log1p(-float64(n)/allowed) + 1/(2*allowed) - 1/(2*rest) - 1/(12*allowed*allowed) + 1/(12*rest*rest))
		} else {
			draws = total * harmonic(allowed)
		}
	}
	if !(draws < math.MaxInt64/2) {
		return math.MaxInt64 / 2
	}
	return max(n, int64(draws))
}

// harmonic approximates H(m) = 1 + 1/2 + ... + 1/m (H(0) = 0).
func harmonic(m float64) float64 {
	if m < 1 {
		return 0
	}
	return math.Log(m) + 0.5772156649015329 + 1/(2*m) - 1/(12*m*m)
}

// checkRule rejects, with the field at fault, what Connect would reject
// (docs/models/synapses.md, errors column), so that Connect only ever gets rules it
// can satisfy; fixed_total_num with more distinct pairs than exist would
// otherwise draw forever.
func (d *decoder) checkRule(s *SynapseSpec, cn *yaml.Node, f string) error {
	r := s.Rule
	nPre, nPost := int64(s.Pre.Size), int64(s.Post.Size)
	noAutapses := s.Pre == s.Post && !r.AllowAutapses
	field := func(name string) *yaml.Node {
		for i := 0; i+1 < len(cn.Content); i += 2 {
			if cn.Content[i].Value == name {
				return cn.Content[i+1]
			}
		}
		return cn
	}
	switch r.Rule {
	case "one_to_one":
		if nPre != nPost {
			return d.errf(field("rule"), f+".rule", "must fit pre %q of %d units and post %q of %d (one_to_one needs equal sizes), got one_to_one", s.Pre.Name, nPre, s.Post.Name, nPost)
		}
	case "fixed_indegree":
		m := nPre
		if noAutapses {
			m--
		}
		if int64(r.N) > m {
			why := ""
			if noAutapses {
				why = ", without autapses"
			}
			return d.errf(field("n"), f+".n", "must be at most %d (each post neuron gets n distinct pres and %q has %d%s), got %d", m, s.Pre.Name, nPre, why, r.N)
		}
	case "fixed_total_num":
		allowed := nPre * nPost
		if noAutapses {
			allowed -= min(nPre, nPost)
		}
		if r.N > 0 && allowed == 0 {
			return d.errf(field("n"), f+".n", "got %d, but no (pre, post) pair is allowed (a single neuron without autapses)", r.N)
		}
		if !r.MultiConn && int64(r.N) > allowed {
			return d.errf(field("n"), f+".n", "must be at most the %d distinct (pre, post) pairs there are (or multi_conn: true), got %d", allowed, r.N)
		}
	case "explicit":
		pn := field("pairs")
		for k, c := range r.Pairs {
			pf := fmt.Sprintf("%s.pairs[%d]", f, k)
			node := pn
			if pn.Kind == yaml.SequenceNode && k < len(pn.Content) {
				node = pn.Content[k]
			}
			if int64(c.Pre) >= nPre {
				return d.errf(node, pf, "pre: must be 0..%d (%q has %d units), got %d", nPre-1, s.Pre.Name, nPre, c.Pre)
			}
			if int64(c.Post) >= nPost {
				return d.errf(node, pf, "post: must be 0..%d (%q has %d neurons), got %d", nPost-1, s.Post.Name, nPost, c.Post)
			}
		}
	}
	return nil
}

func (d *decoder) connRule(n *yaml.Node, f string) (ConnRule, error) {
	r := ConnRule{AllowAutapses: true}
	ks, vs, err := d.mapping(n, f, nil)
	if err != nil {
		return r, err
	}
	m := map[string]*yaml.Node{}
	for i, k := range ks {
		m[k.Value] = vs[i]
	}
	rn, ok := m["rule"]
	if !ok {
		return r, d.errf(n, f+".rule", "must be one_to_one, all_to_all, fixed_prob, fixed_indegree, fixed_total_num or explicit, got nothing")
	}
	if r.Rule, err = d.str(rn, f+".rule"); err != nil {
		return r, err
	}
	allowed, ok := ruleFields[r.Rule]
	if !ok {
		return r, d.errf(rn, f+".rule", "must be one_to_one, all_to_all, fixed_prob, fixed_indegree, fixed_total_num or explicit, got %q", r.Rule)
	}
	for _, k := range ks {
		if !contains(allowed, k.Value) {
			return r, d.errf(k, f+"."+k.Value, "not a field of rule %s; expected %s", r.Rule, strings.Join(allowed, ", "))
		}
	}
	need := func(name string) (*yaml.Node, error) {
		x, ok := m[name]
		if !ok {
			return nil, d.errf(n, f+"."+name, "must be given (rule %s needs %s), got nothing", r.Rule, name)
		}
		return x, nil
	}
	switch r.Rule {
	case "fixed_prob":
		pn, err := need("p")
		if err != nil {
			return r, err
		}
		if r.P, err = d.number(pn, f+".p", false); err != nil {
			return r, err
		}
		if r.P < 0 || r.P > 1 {
			return r, d.errf(pn, f+".p", "must be a probability in [0, 1], got %s", pn.Value)
		}
	case "fixed_indegree", "fixed_total_num":
		nn, err := need("n")
		if err != nil {
			return r, err
		}
		x, err := d.integer(nn, f+".n", 0, math.MaxInt32)
		if err != nil {
			return r, err
		}
		r.N = int(x)
	case "explicit":
		pn, err := need("pairs")
		if err != nil {
			return r, err
		}
		d.expand(pn)
		if pn.Kind != yaml.SequenceNode {
			return r, d.errf(pn, f+".pairs", "must be a list of [pre, post] pairs, got %s", describe(pn))
		}
		for i, c := range pn.Content {
			pf := fmt.Sprintf("%s.pairs[%d]", f, i)
			if c.Kind != yaml.SequenceNode || len(c.Content) != 2 {
				return r, d.errf(c, pf, "must be a pair [pre, post], got %s", describe(c))
			}
			a, err := d.integer(c.Content[0], pf+"[0]", 0, math.MaxInt32)
			if err != nil {
				return r, err
			}
			b, err := d.integer(c.Content[1], pf+"[1]", 0, math.MaxInt32)
			if err != nil {
				return r, err
			}
			r.Pairs = append(r.Pairs, Conn{int32(a), int32(b)})
		}
	}
	if x, ok := m["allow_autapses"]; ok {
		if r.AllowAutapses, err = d.boolean(x, f+".allow_autapses"); err != nil {
			return r, err
		}
	}
	if x, ok := m["multi_conn"]; ok {
		if r.MultiConn, err = d.boolean(x, f+".multi_conn"); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (net *Network) loadWeights(d *decoder, s *SynapseSpec, n *yaml.Node, f, dir string, entry *yaml.Node) error {
	s.Weights = make([]float64, len(s.Conns))
	if n == nil {
		for i := range s.Weights {
			s.Weights[i] = 1.0
		}
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		w, err := d.number(n, f, false)
		if err != nil {
			return err
		}
		for i := range s.Weights {
			s.Weights[i] = w
		}
	case yaml.SequenceNode:
		ws, err := d.numbers(n, f)
		if err != nil {
			return err
		}
		if len(ws) != len(s.Conns) {
			return d.errf(n, f, "has %d weights, but the rule made %d connections (one weight per connection, canonical order)", len(ws), len(s.Conns))
		}
		copy(s.Weights, ws)
	case yaml.MappingNode:
		ks, vs, err := d.mapping(n, f, nil)
		if err != nil {
			return err
		}
		m := map[string]*yaml.Node{}
		for i, k := range ks {
			m[k.Value] = vs[i]
		}
		if pn, ok := m["npy"]; ok {
			return net.loadNpyWeights(d, s, pn, f+".npy", dir, len(ks))
		}
		ds, err := d.dist(n, f, false)
		if err != nil {
			return err
		}
		ds.fill(s.Weights, stream(net.Seed, streamWeights, s.Index))
		if err := d.allFinite(s.Weights, n, f); err != nil {
			return err
		}
	default:
		return d.errf(n, f, "must be a number, a list, {dist: ...} or {npy: FILE}, got %s", describe(n))
	}
	return nil
}

// loadNpyWeights reads a (pre x post) matrix saved by numpy.save
// (the README's network file section): entry [i][j] is the weight of pre i -> post j, and a
// zero means no connection, so the rule must be all_to_all.
func (net *Network) loadNpyWeights(d *decoder, s *SynapseSpec, n *yaml.Node, f, dir string, fields int) error {
	if fields != 1 {
		return d.errf(n, f, "{npy: FILE} takes no other fields")
	}
	name, err := d.str(n, f)
	if err != nil {
		return err
	}
	if s.Rule.Rule != "all_to_all" {
		return d.errf(n, f, "weights from a matrix need conn: {rule: all_to_all} (zeros in the matrix mean no connection), got rule %s", s.Rule.Rule)
	}
	arr, err := npy.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return d.errf(n, f, "%v", err)
	}
	if len(arr.Shape) != 2 || arr.Shape[0] != s.Pre.Size || arr.Shape[1] != s.Post.Size {
		return d.errf(n, f, "%s: must have shape (%d, %d) (pre %q size x post %q size), got %v", name, s.Pre.Size, s.Post.Size, s.Pre.Name, s.Post.Name, arr.Shape)
	}
	conns, weights := s.Conns[:0], s.Weights[:0]
	for _, c := range s.Conns {
		w := arr.Data[int(c.Pre)*s.Post.Size+int(c.Post)]
		if !finite(w) {
			return d.errf(n, f, "%s: entry [%d, %d]: must be a finite number, got %g", name, c.Pre, c.Post, w)
		}
		if w != 0 {
			conns = append(conns, c)
			weights = append(weights, w)
		}
	}
	s.Conns, s.Weights = conns, weights
	return nil
}

// allFinite checks the values a distribution drew: {dist: uniform, low:
// -1e308, high: 1e308} has high-low = +Inf and draws Inf and NaN.
func (d *decoder) allFinite(xs []float64, n *yaml.Node, f string) error {
	for i, x := range xs {
		if !finite(x) {
			return d.errf(n, f, "entry %d: must be finite (are the bounds or std too large?), got %g from the distribution", i, x)
		}
	}
	return nil
}

func (net *Network) loadDelays(d *decoder, s *SynapseSpec, n *yaml.Node, f string) error {
	s.Delays = make([]int32, len(s.Conns))
	toSteps := func(x float64, node *yaml.Node, field string) (int32, error) {
		// docs/models/synapses.md: d < h is an error; D = floor(d/h + 0.5).
		// the README's network file section: delay 0 (same step) only into stepwise neurons.
		if x == 0 && s.Post.Class.Stepwise {
			return 0, nil
		}
		if x == 0 {
			return 0, d.errf(node, field, "must be at least dt (%g ms) into %s %q (delay 0, same-step delivery, is only allowed into stepwise SNN populations), got 0", net.Dt, s.Post.Class.Name, s.Post.Name)
		}
		if x < net.Dt*(1-1e-9) {
			return 0, d.errf(node, field, "must be at least dt (%g ms; delays are at least one step), got %g ms", net.Dt, x)
		}
		steps := math.Floor(x/net.Dt + 0.5)
		if steps > maxDelaySteps {
			return 0, d.errf(node, field, "delay %g ms is %g steps, more than the supported %d", x, steps, maxDelaySteps)
		}
		return int32(steps), nil
	}
	if n == nil {
		for i := range s.Delays {
			s.Delays[i] = 1
		}
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		xs, err := d.numbers(n, f)
		if err != nil {
			return err
		}
		if len(xs) != len(s.Conns) {
			return d.errf(n, f, "has %d delays, but the rule made %d connections (one delay per connection, canonical order)", len(xs), len(s.Conns))
		}
		for i, x := range xs {
			if s.Delays[i], err = toSteps(x, d.elem(n, i), fmt.Sprintf("%s[%d]", f, i)); err != nil {
				return err
			}
		}
		return nil
	}
	x, err := d.number(n, f, false)
	if err != nil {
		return err
	}
	D, err := toSteps(x, n, f)
	if err != nil {
		return err
	}
	for i := range s.Delays {
		s.Delays[i] = D
	}
	return nil
}

func (net *Network) loadMonitors(d *decoder, mn *yaml.Node) error {
	d.expand(mn)
	if mn.Kind != yaml.SequenceNode {
		return d.errf(mn, "monitors", "must be a list of monitor entries, got %s", describe(mn))
	}
	// recorded maps "population.state" to the monitor that records it: a
	// state is written to DIR/<population>.<state>.csv, so two monitors
	// recording it would write one file. spikes go to one shared
	// spikes.csv and may be asked for by several monitors.
	recorded := map[string]int{}
	var errs ErrorList
	for idx, en := range mn.Content {
		err := func() error {
			f := fmt.Sprintf("monitors[%d]", idx)
			ks, vs, err := d.mapping(en, f, []string{"population", "synapse", "record", "neurons", "every"})
			if err != nil {
				return err
			}
			m := map[string]*yaml.Node{}
			for i, k := range ks {
				m[k.Value] = vs[i]
			}
			mon := &MonitorSpec{Every: 1, Line: en.Line}
			pn, hasPop := m["population"]
			sn, hasSyn := m["synapse"]
			if hasPop == hasSyn {
				return d.errf(en, f, "give exactly one of population and synapse")
			}
			if hasSyn {
				name, err := d.str(sn, f+".synapse")
				if err != nil {
					return err
				}
				for _, s := range net.Synapses {
					if s.Name == name {
						mon.Synapse = s
					}
				}
				if mon.Synapse == nil && net.failed["synapse:"+name] {
					return errSkip
				}
				if mon.Synapse == nil {
					return d.errf(sn, f+".synapse", "unknown synapse %q; name the synapse entry with name:", name)
				}
				if mon.Synapse.STDP == nil {
					return d.errf(sn, f+".synapse", "synapse %q is a StaticSynapse; only plastic synapses have weights to record", name)
				}
				if nn, ok := m["neurons"]; ok {
					return d.errf(nn, f+".neurons", "a synapse monitor records every connection; neurons is for population monitors")
				}
				rn, ok := m["record"]
				d.expand(rn)
				if !ok || rn.Kind != yaml.SequenceNode || len(rn.Content) != 1 || rn.Content[0].Value != "weight" {
					node := rn
					if node == nil {
						node = en
					}
					return d.errf(node, f+".record", "a synapse monitor records [weight]")
				}
				mon.Record = []string{"weight"}
				if ev, ok := m["every"]; ok {
					x, err := d.integer(ev, f+".every", 1, math.MaxInt32)
					if err != nil {
						return err
					}
					mon.Every = int(x)
				}
				for _, other := range net.Monitors {
					if other.Synapse == mon.Synapse {
						return d.errf(sn, f+".synapse", "synapse %q is already recorded by an earlier monitor (both would write %s.weight.csv)", name, name)
					}
				}
				net.Monitors = append(net.Monitors, mon)
				return nil
			}
			name, err := d.str(pn, f+".population")
			if err != nil {
				return err
			}
			p := net.Population(name)
			if p == nil && net.failed["population:"+name] {
				return errSkip
			}
			if p == nil {
				return d.errf(pn, f+".population", "must be one of %s, got %q", net.populationNames(), name)
			}
			mon.Population = p
			rn, ok := m["record"]
			if !ok {
				return d.errf(en, f+".record", "must be a list such as [spikes, V], got nothing")
			}
			d.expand(rn)
			if rn.Kind != yaml.SequenceNode || len(rn.Content) == 0 {
				return d.errf(rn, f+".record", "must be a non-empty list such as [spikes, V], got %s", describe(rn))
			}
			valid := p.Model.StateNames()
			if !p.IsCurrentSource() {
				valid = append([]string{"spikes"}, valid...)
			}
			for i, r := range rn.Content {
				s, err := d.str(r, fmt.Sprintf("%s.record[%d]", f, i))
				if err != nil {
					return err
				}
				if !contains(valid, s) {
					return d.errf(r, fmt.Sprintf("%s.record[%d]", f, i), "must be one of %s (what %s %q records), got %q%s", strings.Join(valid, ", "), p.Class.Name, p.Name, s, DidYouMean(s, valid))
				}
				if contains(mon.Record, s) {
					return d.errf(r, fmt.Sprintf("%s.record[%d]", f, i), "%q is listed twice", s)
				}
				if s != "spikes" {
					key := p.Name + "." + s
					if other, dup := recorded[key]; dup {
						return d.errf(r, fmt.Sprintf("%s.record[%d]", f, i), "%q of population %q is already recorded by monitors[%d]; one monitor per state (both would write %s.csv), record it once with the union of the neurons", s, p.Name, other, key)
					}
					recorded[key] = idx
				}
				mon.Record = append(mon.Record, s)
			}
			if nn, ok := m["neurons"]; ok {
				d.expand(nn)
				if nn.Kind != yaml.SequenceNode || len(nn.Content) == 0 {
					return d.errf(nn, f+".neurons", "must be a non-empty list of neuron indices, got %s", describe(nn))
				}
				seen := map[int]bool{}
				for i, c := range nn.Content {
					x, err := d.integer(c, fmt.Sprintf("%s.neurons[%d]", f, i), 0, int64(p.Size-1))
					if err != nil {
						return err
					}
					if seen[int(x)] {
						return d.errf(c, fmt.Sprintf("%s.neurons[%d]", f, i), "neuron %d is listed twice", x)
					}
					seen[int(x)] = true
					mon.Neurons = append(mon.Neurons, int(x))
				}
			}
			if en, ok := m["every"]; ok {
				x, err := d.integer(en, f+".every", 1, math.MaxInt32)
				if err != nil {
					return err
				}
				mon.Every = int(x)
			}
			net.Monitors = append(net.Monitors, mon)
			return nil
		}()
		if err != nil {
			net.fail(&errs, err, "monitor", "")
		}
	}
	return errs.Err()
}
