package compile

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"

	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/snn"
)

// Report is what compiling a network rounded, and what that predicts for
// a run.
type Report struct {
	File  string
	Dt    float64 // ms
	Steps int64   // the file's duration in steps (the bounds of non-leaky kinds grow with it)

	Pops     []PopReport // by image index
	Synapses []SynReport // file order (plastic entries are refused)

	// ImageBytes is len(image.Encode(img)), the bytes sent to the chip.
	ImageBytes int64
	// RAM is the chip's run-time memory for the image (engine.RAM).
	RAM int64

	Host Host
}

// PopReport is one population's quantization.
type PopReport struct {
	Name  string
	File  int // index in the network file
	Image int // index in the image
	Model string
	Kind  image.Kind
	Size  int

	Coefs     []CoefReport     // propagators and factors
	Threshold *ThresholdReport // nil for generators

	// Unit is the potential's unit ("mV", "1" for stepwise), "" for
	// generators.
	Unit string
	// PerStep bounds the error one step adds to the potential (Unit):
	// the products' rounding (half an LSB each), the factors' quantization
	// times the largest state the format holds, and the input's error
	// (weights' quantization times the most that can arrive in a step).
	PerStep float64
	// Bound is the predicted bound on |V_fixed - V_cpu| (Unit) over a run
	// of Steps steps, while the two runs' spikes agree: a spike reset sets
	// both to the same value (up to half an LSB), and a spike one step
	// apart makes the potentials differ by up to the reset's jump. How
	// each kind's bound is derived: BoundHow, and the README of apu/compile.
	Bound    float64
	BoundHow string
	Notes    []string
}

// CoefReport is one quantized factor.
type CoefReport struct {
	Name   string
	Value  float64 // exact (float64)
	Quant  float64 // M·2^-Shift
	RelErr float64 // (Quant - Value)/Value
	M      int32
	Shift  uint8
}

// ThresholdReport is a threshold's quantization.
type ThresholdReport struct {
	Value, Quant, AbsErr float64
	Unit                 string
}

// SynReport is one synapse entry's weights.
type SynReport struct {
	Name      string
	Index     int // in the file's synapses list
	Pre, Post string
	Port      int
	Conns     int
	Shift     uint8   // weight = mantissa·2^Shift in Q16.16
	MaxAbs    float64 // largest |weight| (Unit)
	MaxErr    float64 // largest |quantized - exact| weight (Unit)
	Unit      string
}

// Pop finds a population's report by name.
func (r *Report) Pop(name string) (*PopReport, bool) {
	for i := range r.Pops {
		if r.Pops[i].Name == name {
			return &r.Pops[i], true
		}
	}
	return nil, false
}

// addInput records what synapse s brings to image population post:
// indeg is the most connections of s into one unit, maxAbs and maxErr
// its largest |weight| and weight error.
func (c *compiler) addInput(s *models.SynapseSpec, post, indeg int, maxAbs, maxErr float64, current bool) {
	in := &c.in[post]
	if len(in.wErr) == 0 {
		ports := 1
		if m, ok := s.Post.Model.(models.NeuronModel); ok {
			ports = max(m.Ports(), 1)
		}
		in.wErr, in.wMax = make([]float64, ports), make([]float64, ports)
	}
	n := float64(indeg)
	x, fractional, note := sourceMax(s.Pre)
	if note != "" && !slices.Contains(in.notes, note) {
		in.notes = append(in.notes, note)
	}
	// A fractional source value is rounded to Q16.16 (half an LSB, times
	// the weight) and so is its product with the weight (half an LSB).
	rounding := 0.0
	if fractional {
		rounding = 0.5*LSB + maxAbs*0.5*LSB
	}
	if current {
		in.iErr += n * (maxErr*x + 0.5*LSB + maxAbs*0.5*LSB)
		in.iMax += n * maxAbs * x
		return
	}
	port := min(max(s.Receptor, 0), len(in.wErr)-1)
	in.wErr[port] += n * (maxErr*x + rounding)
	in.wMax[port] += n * maxAbs * x
}

// sourceMax is the largest value a population emits in one step (a
// spike value, or a current in pA), whether it can be fractional, and a
// note when the value is an assumption.
func sourceMax(p *models.PopulationSpec) (x float64, fractional bool, note string) {
	const q16Max = 32768.0
	switch m := p.Model.(type) {
	case *models.DCGenerator:
		for _, a := range m.Describe().Amp {
			x = max(x, math.Abs(a))
		}
		return x, true, ""
	case *models.PoissonGenerator:
		d := m.Describe()
		if d.Binary {
			return 1, false, ""
		}
		lam := 0.0
		for _, l := range d.Lambda {
			lam = max(lam, l)
		}
		// A count above lambda + 10·sqrt(lambda) + 10 has probability
		// below 1e-12 per draw.
		return math.Ceil(lam + 10*math.Sqrt(lam) + 10), false,
			fmt.Sprintf("%s's Poisson counts are taken as at most lambda + 10·sqrt(lambda) + 10", p.Name)
	case *models.SpikeGenerator:
		d := m.Describe()
		if d.Binary {
			return 1, false, ""
		}
		for _, vs := range d.Vals {
			for _, v := range vs {
				x = max(x, v)
			}
		}
		return max(x, 1), false, ""
	case *models.CustomGenerator:
		d := m.Describe()
		if d.Binary {
			return 1, false, ""
		}
		for _, r := range d.Rows {
			for _, v := range r {
				x = max(x, v)
			}
		}
		return x, true, ""
	case *models.InputTransmitter:
		d := m.Describe()
		switch {
		case d.Current:
			return q16Max, true, fmt.Sprintf("%s's currents are taken as the most Q16.16 holds (32768 pA)", p.Name)
		case d.Binary:
			return 1, false, ""
		}
		return 1, true, fmt.Sprintf("%s's spike values are taken as at most 1", p.Name)
	}
	return 1, false, "" // a neuron's spike
}

// bounds fills each neuron population's error bound.
func (c *compiler) bounds() {
	for i, p := range c.pops {
		pr := &c.rep.Pops[i]
		in := c.in[i]
		if len(in.wErr) == 0 {
			in.wErr, in.wMax = []float64{0}, []float64{0}
		}
		pr.Notes = append(pr.Notes, in.notes...)
		switch m := p.Model.(type) {
		case *models.LIF:
			lifBound(pr, in)
		case *models.ExpLIF:
			expLIFBound(pr, m.Describe(), in)
		case *models.Izhikevich:
			izhBound(pr, m.Describe(), in, c.rep.Steps)
		case *models.Stepwise:
			snnBound(pr, m.Describe(), in, c.rep.Steps)
		}
	}
}

// qMax is the largest |value| of Q16.16: no state or input exceeds it
// (the engine saturates), so a factor's error times qMax bounds that
// factor's contribution whatever the state.
const qMax = 32768.0

func coefByName(pr *PopReport, name string) CoefReport {
	for _, c := range pr.Coefs {
		if c.Name == name {
			return c
		}
	}
	return CoefReport{}
}

func absErr(c CoefReport) float64 { return math.Abs(c.Quant - c.Value) }

// lifBound: y' = P33·y + P30·(I_e + I) + W. With e the error of y, e' =
// P33·e + δ, |δ| <= half an LSB for each of the two products' rounding +
// |ΔP33|·qMax + |ΔP30|·qMax + P30·(half an LSB of I_e + the current
// input's error) + the spike input's error, so |e| <= δ/(1 - P33) plus
// half an LSB of the initial state or the reset value.
func lifBound(pr *PopReport, in popInput) {
	p33, p30 := coefByName(pr, "P33"), coefByName(pr, "P30")
	d := 2*0.5*LSB + absErr(p33)*qMax + absErr(p30)*qMax + math.Abs(p30.Value)*(0.5*LSB+in.iErr) + in.wErr[0]
	pr.PerStep = d
	pr.Bound = d/(1-p33.Value) + 0.5*LSB
	pr.BoundHow = "PerStep/(1 - P33) + LSB/2: the per-step error decays with P33 (exact step, docs/models/lif.md)"
}

// expLIFBound: each port's current has error E_r <= δ_r/(1 - P11_r) +
// LSB/2 with δ_r = LSB/2 + |ΔP11_r|·qMax + the port's spike input error;
// then y' = P22·y + Σ P21_r·I_r + P20·(I_e + I) adds δ = LSB/2·(2 + K) +
// |ΔP22|·qMax + Σ (P21_r·E_r + |ΔP21_r|·qMax) + |ΔP20|·qMax +
// P20·(LSB/2 + current error), and |e| <= δ/(1 - P22) + LSB/2.
func expLIFBound(pr *PopReport, d models.ExpLIFDesc, in popInput) {
	k := len(d.TauSyn)
	p22, p20 := coefByName(pr, "P22"), coefByName(pr, "P20")
	delta := 0.5*LSB*float64(2+k) + absErr(p22)*qMax + absErr(p20)*qMax + math.Abs(p20.Value)*(0.5*LSB+in.iErr)
	for r := range k {
		p11, p21 := coefByName(pr, fmt.Sprintf("P11_%d", r)), coefByName(pr, fmt.Sprintf("P21_%d", r))
		w := 0.0
		if r < len(in.wErr) {
			w = in.wErr[r]
		}
		dr := 0.5*LSB + absErr(p11)*qMax + w
		er := dr/(1-p11.Value) + 0.5*LSB
		if r < len(in.wMax) {
			if peak := in.wMax[r] / (1 - p11.Value); peak >= qMax {
				pr.Notes = append(pr.Notes, fmt.Sprintf("port %d's current would reach %.3g pA if every input spiked in every step; it saturates at 32768 pA (counted by the engine)", r, peak))
			}
		}
		delta += math.Abs(p21.Value)*er + absErr(p21)*qMax
	}
	pr.PerStep = delta
	pr.Bound = delta/(1-p22.Value) + 0.5*LSB
	pr.BoundHow = "PerStep/(1 - P22) + LSB/2, PerStep including each port's current error δ_r/(1 - P11_r) through P21_r (docs/models/lif.md)"
}

// izhBound: the Euler map is not contractive above V = -62.5 mV (its
// V-derivative is 1 + h·(0.08·V + 5)), so no uniform bound exists, and
// linearizing overstates it by orders of magnitude on the spike's
// upswing. The bound is estimated instead by simulation: each unit's
// float trajectory without spike input (its I_e, from its initial state)
// against two trajectories pushed every step by +PerStep and by -PerStep
// (in V, and u's per-step error in u), the worst case of the fixed
// engine's rounding (half up: a bias of one sign) and quantization. At a
// step where a pushed trajectory's spike differs from the float one's,
// it restarts from the float state (the bound holds while spikes agree).
// Bound is twice the largest |ΔV| seen over the run (at most 20000
// steps): an estimate, not a proof, since spike input moves the
// trajectory.
func izhBound(pr *PopReport, d models.IzhikevichDesc, in popInput, steps int64) {
	h := d.H
	vMax := max(math.Abs(d.VTh), math.Abs(d.C), 100)
	for _, v := range d.V {
		vMax = max(vMax, math.Abs(v))
	}
	a := coefByName(pr, "A = h*0.04")
	b := coefByName(pr, "B = h*5")
	hh := coefByName(pr, "H = h")
	ha := coefByName(pr, "HA = h*a")
	bu := coefByName(pr, "Bu = b")
	// Four rounded products (A·V², B·V, H·(...), HA·(...)), C's
	// rounding, the factors' errors and the inputs'.
	dV := 4*0.5*LSB + absErr(a)*vMax*vMax + absErr(b)*vMax + absErr(hh)*qMax + h*(0.5*LSB+in.iErr) + in.wErr[0]
	dU := 2*0.5*LSB + absErr(ha)*qMax + math.Abs(ha.Value)*absErr(bu)*vMax
	pr.PerStep = dV
	n := steps
	if n <= 0 || n > 20000 {
		n = 20000
	}
	step := func(v, u, ie float64) (float64, float64, bool) {
		nv := v + h*(0.04*v*v+5*v+140-u+ie)
		nu := u + h*d.A*(d.B*v-u)
		if nv >= d.VTh {
			return d.C, nu + d.D, true
		}
		return nv, nu, false
	}
	worst := 0.0
	seen := map[[3]float64]bool{}
	for j := range d.V {
		key := [3]float64{d.IE[j], d.V[j], d.U[j]}
		if seen[key] || len(seen) >= 16 {
			continue
		}
		seen[key] = true
		for _, sign := range []float64{1, -1} {
			v, u := d.V[j], d.U[j]
			pv, pu := v, u
			for range n {
				var s, ps bool
				v, u, s = step(v, u, d.IE[j])
				pv, pu, ps = step(pv, pu, d.IE[j])
				pv, pu = pv+sign*dV, pu+sign*dU
				if s != ps {
					pv, pu = v, u
					continue
				}
				worst = max(worst, math.Abs(pv-v))
			}
		}
	}
	pr.Bound = 2*worst + 0.5*LSB
	pr.BoundHow = fmt.Sprintf("2 × the largest |ΔV| between each unit's spike-free float trajectory and ones pushed by ±PerStep every step, over %d steps (an estimate: Euler's map expands above -62.5 mV)", n)
}

// snnBound: SNNIF adds its input without leak, so errors add up: |e| <=
// LSB/2 + Steps·δ; SNNLIF contracts by 1 - 1/tau: |e| <= LSB/2 + tau·δ.
// δ includes the CPU's own float32 rounding (2^-24 relative, per
// operation), since the comparison is with the CPU backend.
func snnBound(pr *PopReport, d snn.Desc, in popInput, steps int64) {
	vMax := max(math.Abs(float64(d.VTh)), math.Abs(float64(d.VReset)), 1)
	for _, v := range d.V {
		vMax = max(vMax, math.Abs(float64(v)))
	}
	x := in.wMax[0] + in.iMax
	f32 := math.Ldexp(1, -24)
	n := steps
	if n <= 0 {
		n = 10000
		pr.Notes = append(pr.Notes, "the file has no duration: the SNNIF bound is given for 10000 steps")
	}
	switch d.Class {
	case "SNNIF":
		delta := in.wErr[0] + in.iErr + 2*f32*(vMax+x)
		pr.PerStep = delta
		pr.Bound = 0.5*LSB + float64(n)*delta
		pr.BoundHow = fmt.Sprintf("LSB/2 + %d steps × PerStep: SNNIF has no leak, errors add up (hard resets clear them)", n)
	case "SNNLIF":
		rt, it := coefByName(pr, "RTau = R/tau"), coefByName(pr, "InvTau = 1/tau")
		delta := 2*0.5*LSB + absErr(rt)*x + absErr(it)*2*vMax + math.Abs(rt.Value)*(in.wErr[0]+in.iErr) + 5*f32*(vMax+x)
		pr.PerStep = delta
		pr.Bound = 0.5*LSB + float64(d.Tau)*delta
		pr.BoundHow = "LSB/2 + tau × PerStep: the step contracts errors by 1 - 1/tau"
	}
}

// Write prints the report for people (`spikeloop check --backend fixed`).
func (r *Report) Write(w io.Writer) error {
	ew := &errWriter{w: w}
	run := fmt.Sprintf("%d steps", r.Steps)
	if r.Steps == 0 {
		run = "no duration (bounds of non-leaky kinds for 10000 steps)"
	}
	fmt.Fprintf(ew, "quantization report (fixed backend): dt %g ms, %s\n\n", r.Dt, run)
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "population\tmodel\tsize\tfactor\tvalue\tshift\trel. error")
	for _, p := range r.Pops {
		fmt.Fprintf(tw, "%s\t%s\t%d", p.Name, p.Model, p.Size)
		if len(p.Coefs) == 0 {
			fmt.Fprintf(tw, "\t-\t\t\t\n")
		}
		for i, c := range p.Coefs {
			if i > 0 {
				fmt.Fprintf(tw, "\t\t")
			}
			fmt.Fprintf(tw, "\t%s\t%.10g\t%d\t%.2e\n", c.Name, c.Value, c.Shift, c.RelErr)
		}
	}
	tw.Flush()
	fmt.Fprintln(ew)
	tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "population\tthreshold\tthreshold error\terror per step\tpotential bound")
	for _, p := range r.Pops {
		if p.Threshold == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%g %s\t%.2e %s\t%.2e %s\t%.2e %s\n", p.Name, p.Threshold.Value, p.Threshold.Unit,
			p.Threshold.AbsErr, p.Threshold.Unit, p.PerStep, p.Unit, p.Bound, p.Unit)
	}
	tw.Flush()
	for _, p := range r.Pops {
		if p.BoundHow != "" {
			fmt.Fprintf(ew, "  %s: bound = %s\n", p.Name, p.BoundHow)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(ew, "  %s: %s\n", p.Name, n)
		}
	}
	if len(r.Synapses) > 0 {
		fmt.Fprintln(ew)
		tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "synapse\tpre -> post\tport\tconnections\tshift\tmax |w|\tmax |w error|")
		for _, s := range r.Synapses {
			name := s.Name
			if name == "" {
				name = fmt.Sprintf("#%d", s.Index)
			}
			fmt.Fprintf(tw, "%s\t%s -> %s\t%d\t%d\t%d\t%g %s\t%.2e %s\n", name, s.Pre, s.Post, s.Port, s.Conns, s.Shift, s.MaxAbs, s.Unit, s.MaxErr, s.Unit)
		}
		tw.Flush()
	}
	fmt.Fprintln(ew)
	fmt.Fprintf(ew, "image: %d bytes (encoded); chip RAM: %d bytes (run-time state, engine.RAM)\n", r.ImageBytes, r.RAM)
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
