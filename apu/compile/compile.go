// Package compile translates a loaded network (models.Network) into the
// APU's program image (firmware/image): every parameter, propagator,
// initial state, weight and generator setting in the image's integer
// formats. It refuses what the APU cannot run, naming the file, line,
// population or synapse entry, model and reason, and it returns a
// quantization report (Report): what was rounded and by how much, a
// predicted bound on the potential error of a run, the image's size and
// the host-side tables (Host) that convert the chip's states back to the
// model's units.
//
// The formats (firmware/image's doc): states, currents, thresholds,
// inputs and generator values in Q16.16; propagators and other factors as
// Coefs with 31 significant bits; weights as int16 mantissas with one
// shift per synapse entry, the smallest shift that holds the entry's
// largest |weight|.
package compile

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/models"
)

// Refusal is one thing of a network the APU cannot run. It wraps
// apu.ErrUnsupported.
type Refusal struct {
	File   string
	Line   int
	What   string // `population "exc"`, `synapse "ee"`, `monitors[2]`
	Model  string // the model (class or synapse model), "" when none applies
	Reason string
}

func (r *Refusal) Error() string {
	m := ""
	if r.Model != "" {
		m = " (" + r.Model + ")"
	}
	return fmt.Sprintf("%s:%d: %s%s: %s", r.File, r.Line, r.What, m, r.Reason)
}

// Unwrap makes a refusal an apu.ErrUnsupported.
func (r *Refusal) Unwrap() error { return apu.ErrUnsupported }

// MaxLambda is the largest Poisson mean count per step the compiler
// accepts: exp(-10) in Q1.30 still has 16 significant bits.
const MaxLambda = 10

// Supported are the models the APU runs.
var Supported = []string{"LIF", "ExpLIF", "Izhikevich", "SNNIF", "SNNLIF",
	"DCGenerator", "PoissonGenerator", "BernoulliGenerator", "SpikeGenerator", "CustomGenerator", "InputTransmitter"}

// refusedWhy says why a known model is not on the APU.
var refusedWhy = map[string]string{
	"HH":       "Hodgkin-Huxley needs exponentials of the state every step and NEST's adaptive RKF45 solver; the APU's engine integrates no ODE",
	"HHPSC":    "Hodgkin-Huxley needs exponentials of the state every step and NEST's adaptive RKF45 solver; the APU's engine integrates no ODE",
	"GLIF3":    "GLIF3's after-spike currents have no fixed-point kernel in the APU's engine",
	"GLIF3PSC": "GLIF3PSC's after-spike currents and alpha PSCs have no fixed-point kernel in the APU's engine",
}

// compiler holds one compilation's state.
type compiler struct {
	net   *models.Network
	img   *image.Image
	rep   *Report
	errs  models.ErrorList
	index map[*models.PopulationSpec]int // image index
	pops  []*models.PopulationSpec       // by image index
	// Per image population: what the bounds need.
	in []popInput
}

// popInput is what arrives at one population, for its error bound.
type popInput struct {
	wErr  []float64 // per port: worst error of one step's spike input (weights' quantization and rounding)
	wMax  []float64 // per port: largest |input| of one step (every pre spiking at once)
	iErr  float64   // worst error of one step's current input (pA)
	iMax  float64   // largest |current input| of one step (pA)
	notes []string
}

func (c *compiler) refuse(line int, what, model, format string, args ...any) {
	c.errs = append(c.errs, &Refusal{File: c.net.File, Line: line, What: what, Model: model, Reason: fmt.Sprintf(format, args...)})
}

func popWhat(p *models.PopulationSpec) string { return fmt.Sprintf("population %q", p.Name) }

// Compile translates net, as loaded (before it ran: its states are the
// initial ones), into an image and its quantization report. An error
// lists every refusal (models.ErrorList of *Refusal, each wrapping
// apu.ErrUnsupported).
func Compile(net *models.Network) (*image.Image, *Report, error) {
	if net == nil {
		return nil, nil, errors.New("compile: no network")
	}
	c := &compiler{net: net, index: map[*models.PopulationSpec]int{},
		img: &image.Image{Version: image.Version, DtPicos: uint64(math.Round(net.Dt * 1e9)), Seed: net.Seed},
		rep: &Report{File: net.File, Dt: net.Dt, Steps: net.Steps()}}
	order, err := net.ZeroDelayOrder()
	if err != nil {
		c.refuse(0, "synapses", "", "%v", err)
		return nil, nil, c.errs.Err()
	}
	// The image holds the populations in update order (zero-delay
	// synapses point forward), which is the file's order unless a
	// zero-delay synapse points backward in the file.
	for _, p := range order {
		c.index[p] = len(c.pops)
		c.pops = append(c.pops, p)
	}
	c.in = make([]popInput, len(c.pops))
	c.rep.Host.Pops = make([]HostPop, len(net.Populations))
	c.rep.Host.FileIndex = make([]int, len(c.pops))
	for fi, p := range net.Populations {
		c.rep.Host.FileIndex[c.index[p]] = fi
	}
	for i, p := range c.pops {
		c.population(i, p)
	}
	for _, s := range net.Synapses {
		c.synapse(s)
	}
	c.monitors()
	if err := c.errs.Err(); err != nil {
		return nil, nil, err
	}
	if err := image.Validate(c.img); err != nil {
		// A compiler bug, not the network's fault.
		return nil, nil, fmt.Errorf("compile: the image made from %s is invalid: %w", net.File, err)
	}
	c.bounds()
	c.rep.ImageBytes = int64(len(image.Encode(c.img)))
	c.rep.RAM = engine.RAM(c.img)
	return c.img, c.rep, nil
}

// population compiles population p at image index i.
func (c *compiler) population(i int, p *models.PopulationSpec) {
	fi := c.rep.Host.FileIndex[i]
	hp := HostPop{Name: p.Name, Image: i, File: fi, Model: p.Class.Name, Size: p.Size}
	pr := PopReport{Name: p.Name, File: fi, Image: i, Model: p.Class.Name, Size: p.Size}
	ip := image.Pop{Size: uint32(p.Size), Ports: 1}
	q := &quantizer{c: c, p: p}
	switch m := p.Model.(type) {
	case *models.LIF:
		d := m.Describe()
		if !q.lifCommon(&d, "EXP_EULER") {
			break
		}
		ip.Kind = image.KindLIF
		q.lifConsts(&ip, &pr, &d)
		ip.Coefs = []image.Coef{q.coef(&pr, "P33", d.P33), q.coef(&pr, "P30", d.P30)}
		ip.Unit = [][]int32{q.rowOf("I_e", d.IE, 0), q.rowOf("V", d.V, d.VRest)}
		hp.States = []HostState{{Name: "V", Index: []uint8{0}, Scale: LSB, Offset: d.VRest}}
		pr.Unit = "mV"
	case *models.ExpLIF:
		d := m.Describe()
		if !q.lifCommon(&d.LIFDesc, "EXP_EULER") {
			break
		}
		k := len(d.TauSyn)
		if k > image.MaxPorts {
			c.refuse(p.Line, popWhat(p), p.Class.Name, "tau_syn has %d receptor ports; the APU runs at most %d", k, image.MaxPorts)
			break
		}
		ip.Kind, ip.Ports = image.KindExpLIF, uint8(k)
		q.lifConsts(&ip, &pr, &d.LIFDesc)
		ip.Coefs = []image.Coef{q.coef(&pr, "P22", d.P33), q.coef(&pr, "P20", d.P30)}
		for r := range k {
			ip.Coefs = append(ip.Coefs, q.coef(&pr, fmt.Sprintf("P11_%d", r), d.P11[r]), q.coef(&pr, fmt.Sprintf("P21_%d", r), d.P21[r]))
		}
		ip.Unit = [][]int32{q.rowOf("I_e", d.IE, 0), q.rowOf("V", d.V, d.VRest)}
		hp.States = []HostState{{Name: "V", Index: []uint8{0}, Scale: LSB, Offset: d.VRest}}
		all := HostState{Name: "I_syn", Scale: LSB}
		for r := range k {
			ip.Unit = append(ip.Unit, q.rowOf(fmt.Sprintf("I_syn_%d", r), d.ISyn[r], 0))
			hp.States = append(hp.States, HostState{Name: fmt.Sprintf("I_syn_%d", r), Index: []uint8{uint8(1 + r)}, Scale: LSB})
			all.Index = append(all.Index, uint8(1+r))
		}
		hp.States = append(hp.States, all)
		pr.Unit = "mV"
	case *models.Izhikevich:
		d := m.Describe()
		if !d.DefaultMethod {
			c.refuse(p.Line, popWhat(p), p.Class.Name, "method is not EULER (NEST's scheme, the default): the APU runs only the forward-Euler step of docs/models/izhikevich.md")
			break
		}
		ip.Kind = image.KindIzhikevich
		h := d.H
		ip.Coefs = []image.Coef{q.coef(&pr, "A = h*0.04", h*0.04), q.coef(&pr, "B = h*5", h*5), q.coef(&pr, "H = h", h),
			q.coef(&pr, "HA = h*a", h*d.A), q.coef(&pr, "Bu = b", d.B)}
		ip.Consts = make([]int32, image.IzhConsts)
		ip.Consts[image.IzhC] = q.q16("h*140", h*140)
		ip.Consts[image.IzhTh] = q.threshold(&pr, d.VTh, 0, "mV")
		ip.Consts[image.IzhReset] = q.q16("c", d.C)
		ip.Consts[image.IzhD] = q.q16("d", d.D)
		ip.Unit = [][]int32{q.rowOf("I_e", d.IE, 0), q.rowOf("V", d.V, 0), q.rowOf("u", d.U, 0)}
		hp.States = []HostState{{Name: "V", Index: []uint8{0}, Scale: LSB}, {Name: "u", Index: []uint8{1}, Scale: LSB}}
		pr.Unit = "mV"
	case *models.Stepwise:
		d := m.Describe()
		switch d.Class {
		case "SNNIF":
			ip.Kind = image.KindSNNIF
			ip.Consts = make([]int32, image.SNNIFConsts)
		case "SNNLIF":
			ip.Kind = image.KindSNNLIF
			ip.Consts = make([]int32, image.SNNLIFConsts)
			ip.Coefs = []image.Coef{q.coef(&pr, "RTau = R/tau", float64(d.R)/float64(d.Tau)), q.coef(&pr, "InvTau = 1/tau", 1/float64(d.Tau))}
			ip.Consts[image.SNNRest] = q.q16("V_rest", float64(d.VRest))
		default:
			c.refuse(p.Line, popWhat(p), d.Class, "the stepwise class %s has no fixed-point kernel; the APU runs SNNIF and SNNLIF", d.Class)
		}
		if ip.Kind == 0 {
			break
		}
		ip.Consts[image.SNNTh] = q.threshold(&pr, float64(d.VTh), 0, "1")
		if d.Soft {
			ip.Flags |= image.FlagSoftReset
			ip.Consts[image.SNNReset] = ip.Consts[image.SNNTh]
		} else {
			ip.Consts[image.SNNReset] = q.q16("V_reset", float64(d.VReset))
		}
		v := make([]float64, len(d.V))
		for j, x := range d.V {
			v[j] = float64(x)
		}
		ip.Unit = [][]int32{q.rowOf("v", v, 0)}
		hp.beforeReset = d.BeforeResetMem
		if !d.BeforeResetMem {
			// With before_reset_mem, v is the charged value, which the
			// chip does not keep.
			hp.States = []HostState{{Name: "v", Index: []uint8{0}, Scale: LSB}}
		}
		pr.Unit = "1"
	case *models.DCGenerator:
		d := m.Describe()
		ip.Kind, ip.Flags, ip.Ports, ip.Win = image.KindDC, image.FlagCurrent, 0, window(d.Win)
		ip.Unit = [][]int32{q.rowOf("amplitude", d.Amp, 0)}
		hp.States = []HostState{{Name: "I", Index: []uint8{0}, Scale: LSB}}
		hp.Current = true
	case *models.PoissonGenerator:
		d := m.Describe()
		ip.Kind, ip.Ports, ip.Win = image.KindPoisson, 0, window(d.Win)
		if d.Binary {
			ip.Flags |= image.FlagBinary
		}
		en := make([]int32, len(d.ExpNeg))
		for j, x := range d.ExpNeg {
			en[j] = q130(x)
			if d.Lambda[j] > MaxLambda {
				c.refuse(p.Line, popWhat(p), p.Class.Name, "unit %d: rate·dt/1000 = %g spikes per step is more than the APU's %g (exp(-lambda) in Q1.30 would keep fewer than 16 bits)", j, d.Lambda[j], float64(MaxLambda))
				break
			}
		}
		ip.Unit = [][]int32{q.rowOf("rate (lambda = rate*dt/1000)", d.Lambda, 0), en}
	case *models.BernoulliGenerator:
		d := m.Describe()
		ip.Kind, ip.Ports, ip.Win = image.KindBernoulli, 0, window(d.Win)
		pb := make([]int32, len(d.Prob))
		for j, x := range d.Prob {
			pb[j] = q130(x)
		}
		ip.Unit = [][]int32{pb}
	case *models.SpikeGenerator:
		d := m.Describe()
		ip.Kind, ip.Ports = image.KindSpike, 0 // no window: its steps are its own
		if d.Binary {
			ip.Flags |= image.FlagBinary
		}
		ip.SpikeOff = make([]uint32, 1, p.Size+1)
		for u := range d.Steps {
			ip.SpikeStep = append(ip.SpikeStep, d.Steps[u]...)
			for _, x := range d.Vals[u] {
				ip.SpikeVal = append(ip.SpikeVal, q.q16("multiplicities", x))
			}
			ip.SpikeOff = append(ip.SpikeOff, uint32(len(ip.SpikeStep)))
		}
	case *models.CustomGenerator:
		d := m.Describe()
		ip.Kind, ip.Ports, ip.Win, ip.K0 = image.KindCustom, 0, window(d.Win), d.K0
		if d.Binary {
			ip.Flags |= image.FlagBinary
		}
		ip.RowWidth = 1
		if len(d.Rows) > 0 {
			ip.RowWidth = uint32(len(d.Rows[0]))
		}
		for _, row := range d.Rows {
			ip.Rows = append(ip.Rows, q.rowOf("data", row, 0)...)
		}
	case *models.InputTransmitter:
		d := m.Describe()
		ip.Kind, ip.Ports = image.KindInput, 0
		if d.Current {
			ip.Flags |= image.FlagCurrent
			hp.States = []HostState{{Name: "I", Index: []uint8{0}, Scale: LSB}}
		}
		if d.Binary {
			ip.Flags |= image.FlagBinary
		}
		hp.Feed, hp.Current = true, d.Current
	default:
		why, ok := refusedWhy[p.Class.Name]
		if !ok {
			why = "no fixed-point kernel for this model"
		}
		c.refuse(p.Line, popWhat(p), p.Class.Name, "%s; the APU runs %s", why, listOf(Supported))
	}
	hp.Kind = ip.Kind
	pr.Kind = ip.Kind
	c.img.Pops = append(c.img.Pops, ip)
	c.rep.Pops = append(c.rep.Pops, pr)
	c.rep.Host.Pops[fi] = hp
}

func window(w models.Window) image.Window { return image.Window{First: w.First, End: w.End} }

func listOf(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	out := ""
	for i, x := range s {
		switch {
		case i == len(s)-1:
			out += " and " + x
		case i > 0:
			out += ", " + x
		default:
			out += x
		}
	}
	return out
}

// quantizer converts one population's values, refusing (once per value
// name) what does not fit.
type quantizer struct {
	c       *compiler
	p       *models.PopulationSpec
	refused map[string]bool
}

func (q *quantizer) overflow(name string, x float64, unit string) {
	if q.refused == nil {
		q.refused = map[string]bool{}
	}
	if q.refused[name] {
		return
	}
	q.refused[name] = true
	q.c.refuse(q.p.Line, popWhat(q.p), q.p.Class.Name, "%s = %g%s does not fit Q16.16 (|x| < 32768)", name, x, unit)
}

// q16 is x in Q16.16, or a refusal naming it.
func (q *quantizer) q16(name string, x float64) int32 {
	v, ok := q16(x)
	if !ok {
		q.overflow(name, x, "")
	}
	return v
}

// rowOf is the per-unit values x - offset in Q16.16.
func (q *quantizer) rowOf(name string, xs []float64, offset float64) []int32 {
	row := make([]int32, len(xs))
	for j, x := range xs {
		v, ok := q16(x - offset)
		if !ok {
			what := name
			if offset != 0 {
				what = fmt.Sprintf("%s - %g", name, offset)
			}
			q.overflow(fmt.Sprintf("%s (unit %d)", what, j), x-offset, "")
			continue
		}
		row[j] = v
	}
	return row
}

// coef quantizes a factor and reports its relative error.
func (q *quantizer) coef(pr *PopReport, name string, x float64) image.Coef {
	cf, ok := coefOf(x)
	if !ok {
		q.c.refuse(q.p.Line, popWhat(q.p), q.p.Class.Name, "%s = %g is too large for a Coef (|x| < 2^31)", name, x)
		return cf
	}
	v := coefValue(cf)
	rel := 0.0
	if x != 0 {
		rel = (v - x) / x
	}
	pr.Coefs = append(pr.Coefs, CoefReport{Name: name, Value: x, Quant: v, RelErr: rel, M: cf.M, Shift: cf.Shift})
	return cf
}

// threshold quantizes a threshold (x - offset) and reports its error.
func (q *quantizer) threshold(pr *PopReport, x, offset float64, unit string) int32 {
	v := q.q16("V_th", x-offset)
	pr.Threshold = &ThresholdReport{Value: x, Quant: float64(v)*LSB + offset, Unit: unit}
	pr.Threshold.AbsErr = math.Abs(pr.Threshold.Quant - x)
	return v
}

// lifCommon refuses what LIF and ExpLIF cannot run on the APU.
func (q *quantizer) lifCommon(d *models.LIFDesc, def string) bool {
	if !d.DefaultMethod {
		q.c.refuse(q.p.Line, popWhat(q.p), q.p.Class.Name, "method %s: the APU runs only the exact propagators of the default method %s", d.Method, def)
		return false
	}
	return true
}

// lifConsts fills LIF's and ExpLIF's threshold, reset and refractory
// steps (the same indices for both kinds).
func (q *quantizer) lifConsts(ip *image.Pop, pr *PopReport, d *models.LIFDesc) {
	ip.RefSteps = uint32(d.RefSteps)
	ip.Consts = make([]int32, image.LIFConsts)
	ip.Consts[image.LIFTh] = q.threshold(pr, d.VTh, d.VRest, "mV")
	if d.Soft {
		ip.Flags |= image.FlagSoftReset
		ip.Consts[image.LIFReset] = q.q16("V_th - V_rest", d.VTh-d.VRest)
	} else {
		ip.Consts[image.LIFReset] = q.q16("V_reset - V_rest", d.VReset-d.VRest)
	}
}

// synapse compiles one synapse entry.
func (c *compiler) synapse(s *models.SynapseSpec) {
	what := fmt.Sprintf("synapse %q", s.Name)
	if s.Name == "" {
		what = fmt.Sprintf("synapses[%d] (%s -> %s)", s.Index, s.Pre.Name, s.Post.Name)
	}
	if s.STDP != nil {
		c.refuse(s.Line, what, s.Model, "plastic synapses change their weights as the network runs; the APU's weights are fixed at compile time (StaticSynapse only)")
		return
	}
	pre, post := c.index[s.Pre], c.index[s.Post]
	unit := weightUnit(s)
	maxAbs := 0.0
	for _, w := range s.Weights {
		maxAbs = max(maxAbs, math.Abs(w))
	}
	shift, ok := weightShift(maxAbs * One)
	if !ok {
		c.refuse(s.Line, what, s.Model, "largest |weight| %g %s is more than the APU holds (%g: int16 mantissa << %d in Q16.16)", maxAbs, unit, float64(MaxWeight), image.MaxWeightShift)
		return
	}
	current := s.Pre.IsCurrentSource()
	sy := image.Synapse{Pre: uint32(pre), Post: uint32(post), Shift: shift,
		Off: make([]uint32, s.Pre.Size+1), Target: make([]uint32, len(s.Conns)),
		Weight: make([]int16, len(s.Conns)), Delay: make([]uint16, len(s.Conns))}
	if !current {
		sy.Port = uint8(s.Receptor)
	}
	maxErr := 0.0
	indeg := make([]int, s.Post.Size)
	for k, cn := range s.Conns {
		d := s.Delays[k]
		if d > image.MaxDelay {
			c.refuse(s.Line, what, s.Model, "connection %d: delay %d steps is more than the APU's %d", k, d, image.MaxDelay)
			return
		}
		m := weightMantissa(s.Weights[k], shift)
		maxErr = max(maxErr, math.Abs(weightValue(m, shift)-s.Weights[k]))
		sy.Off[cn.Pre+1]++
		sy.Target[k], sy.Weight[k], sy.Delay[k] = uint32(cn.Post), m, uint16(d)
		indeg[cn.Post]++
	}
	for i := 1; i < len(sy.Off); i++ {
		sy.Off[i] += sy.Off[i-1]
	}
	c.img.Synapses = append(c.img.Synapses, sy)
	c.rep.Synapses = append(c.rep.Synapses, SynReport{Name: s.Name, Index: s.Index, Pre: s.Pre.Name, Post: s.Post.Name,
		Port: int(sy.Port), Conns: len(s.Conns), Shift: shift, MaxAbs: maxAbs, MaxErr: maxErr, Unit: unit})
	c.addInput(s, post, slices.Max(append(indeg, 0)), maxAbs, maxErr, current)
}

// weightUnit is what a weight of s means (docs/models/synapses.md).
func weightUnit(s *models.SynapseSpec) string {
	switch {
	case s.Pre.IsCurrentSource():
		return "(factor)"
	case s.Post.Class.Stepwise:
		return "(1)"
	}
	if _, ok := s.Post.Model.(*models.ExpLIF); ok {
		return "pA"
	}
	return "mV"
}

// monitors compiles the monitors: one spike monitor per recorded
// population with the union of the units any monitor records spikes of
// (the CPU engine records each spike once), then one state monitor per
// monitor entry that records states the chip keeps.
func (c *compiler) monitors() {
	h := &c.rep.Host
	spikeUnits := map[int]map[int]bool{} // image pop -> units (nil map entry: all)
	var spikeOrder []int
	for mi, m := range c.net.Monitors {
		what := fmt.Sprintf("monitors[%d]", mi)
		if m.Synapse != nil {
			c.refuse(m.Line, what, m.Synapse.Model, "a weight monitor needs a plastic synapse, which the APU does not run")
			continue
		}
		p := m.Population
		pi := c.index[p]
		hp := &h.Pops[c.rep.Host.FileIndex[pi]]
		if hp.Kind == 0 {
			continue // the population is refused
		}
		var states []uint8
		var traces []HostTrace
		for _, st := range m.Record {
			if st == "spikes" {
				u, seen := spikeUnits[pi]
				if !seen {
					spikeOrder = append(spikeOrder, pi)
					u = map[int]bool{}
					spikeUnits[pi] = u
				}
				if m.Neurons == nil {
					u[-1] = true
				}
				for _, n := range m.Neurons {
					u[n] = true
				}
				continue
			}
			hs, ok := hp.State(st)
			switch {
			case st == "v" && hp.beforeReset:
				c.refuse(m.Line, what, p.Class.Name, "population %q has before_reset_mem: true, so its recorded v is the charged value before the reset, which the APU does not keep (it keeps v after the reset)", p.Name)
				continue
			case !ok:
				c.refuse(m.Line, what, p.Class.Name, "state %q of population %q is not kept by the APU (it keeps %s); record spikes, or leave it to a cpu run", st, p.Name, stateList(hp))
				continue
			}
			t := HostTrace{Monitor: mi, Pop: c.rep.Host.FileIndex[pi], State: st, Neurons: m.Neurons,
				ImageMonitor: len(c.img.Monitors), Scale: hs.Scale, Offset: hs.Offset}
			for _, idx := range hs.Index {
				at := slices.Index(states, idx)
				if at < 0 {
					at = len(states)
					states = append(states, idx)
				}
				t.Cols = append(t.Cols, at)
			}
			traces = append(traces, t)
		}
		if len(states) > 0 {
			var units []uint32
			for _, n := range m.Neurons {
				units = append(units, uint32(n))
			}
			c.img.Monitors = append(c.img.Monitors, image.Monitor{Pop: uint32(pi), States: states, Units: units, Every: uint32(max(m.Every, 1))})
		}
		for i := range traces {
			traces[i].Every = max(m.Every, 1)
		}
		h.Traces = append(h.Traces, traces...)
	}
	for _, pi := range spikeOrder {
		u := spikeUnits[pi]
		var units []uint32
		if !u[-1] {
			for n := range u {
				units = append(units, uint32(n))
			}
			slices.Sort(units)
		}
		c.img.Monitors = append(c.img.Monitors, image.Monitor{Pop: uint32(pi), Spikes: true, Units: units, Every: 1})
	}
}

func stateList(hp *HostPop) string {
	var s []string
	for _, st := range hp.States {
		s = append(s, st.Name)
	}
	if len(s) == 0 {
		return "no state"
	}
	return listOf(s)
}
