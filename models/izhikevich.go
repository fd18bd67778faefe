package models

import "math"

func izhikevichClass() *Class {
	ps := []Param{
		{Name: "a", Kind: Number, Unit: "1/ms", Default: 0.02, Doc: "recovery time scale"},
		{Name: "b", Kind: Number, Unit: "1", Default: 0.2, Doc: "recovery sensitivity to V"},
		{Name: "c", Kind: Number, Unit: "mV", Default: -65.0, Doc: "reset value of V"},
		{Name: "d", Kind: Number, Unit: "mV", Default: 8.0, Doc: "added to u at a spike"},
		{Name: "V_th", Kind: Number, Unit: "mV", Default: 30.0, Doc: "spike cutoff"},
		{Name: "V_reset", Kind: NumberOrNull, Unit: "mV", Default: 0.0, Constraint: "must be 0.0 (unused; the reset is c)"},
		{Name: "I_e", Kind: PerNeuron, Unit: "pA", Default: 0.0, Doc: "constant input (used as a number, as in NEST)"},
		{Name: "v_init", Kind: PerNeuron, Unit: "mV", Default: -65.0, Doc: "initial V; u starts at b*v_init"},
		methodParam(Euler),
	}
	return &Class{
		Name:   "Izhikevich",
		Kind:   NeuronClass,
		Doc:    "Izhikevich two-variable model (NEST izhikevich, consistent_integration)",
		Params: append(ps, neuronBase()...),
		States: []string{"V", "u"},
		Build:  func(b *Build) (Population, error) { return newIzhikevich(b) },
	}
}

// Izhikevich is docs/models/izhikevich.md with NEST's forward-Euler update.
type Izhikevich struct {
	a, b, c, d, vTh, h float64
	ie, v, u           []float64
	ode                *izhODE // non-default method only
}

var _ NeuronModel = (*Izhikevich)(nil)

func newIzhikevich(bl *Build) (*Izhikevich, error) {
	if err := checkNeuronBase(bl, 1); err != nil {
		return nil, err
	}
	if bl.IsNull("V_reset") || bl.Float("V_reset") != 0 {
		return nil, paramErr("V_reset", "must be left out: Izhikevich resets V to c, not V_reset (neurai's class has V_reset from its base and ignores it; set c, default -65 mV), got %s", givenNumber(bl, "V_reset"))
	}
	n := &Izhikevich{a: bl.Float("a"), b: bl.Float("b"), c: bl.Float("c"), d: bl.Float("d"), vTh: bl.Float("V_th"), h: bl.Dt}
	var err error
	if n.ie, err = bl.PerUnit("I_e"); err != nil {
		return nil, err
	}
	n.v = make([]float64, bl.Size)
	n.u = make([]float64, bl.Size)
	if err := initV(bl, n.v); err != nil {
		return nil, err
	}
	for i := range n.u {
		n.u[i] = n.b * n.v[i]
	}
	m, err := parseMethod(bl)
	if err != nil {
		return nil, err
	}
	if m != Euler {
		n.ode = newIzhODE(m, bl.Dt, n)
	}
	return n, nil
}

func (n *Izhikevich) Size() int            { return len(n.v) }
func (n *Izhikevich) Ports() int           { return 1 }
func (n *Izhikevich) StateNames() []string { return []string{"V", "u"} }
func (n *Izhikevich) State(name string) []float64 {
	switch name {
	case "V":
		return n.v
	case "u":
		return n.u
	}
	return nil
}

// afterInit keeps docs/models/izhikevich.md's rule "u starts at b*v_init" when `init`
// set V but not u.
func (n *Izhikevich) afterInit(given map[string]bool) {
	if given["V"] && !given["u"] {
		for i := range n.u {
			n.u[i] = n.b * n.v[i]
		}
	}
}

func (n *Izhikevich) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.ode != nil {
		return n.stepODE(iext, w, spiked)
	}
	var w0 []float64
	if len(w) > 0 {
		w0 = w[0]
	}
	h := n.h
	for i := range n.v {
		vo, uo := n.v[i], n.u[i]
		in := n.ie[i]
		if iext != nil {
			in += iext[i]
		}
		v := vo + h*(0.04*vo*vo+5*vo+140-uo+in)
		if w0 != nil {
			v += w0[i]
		}
		u := uo + h*n.a*(n.b*vo-uo)
		// Checked before the spike test: an infinite V would otherwise
		// pass as a spike and be reset, hiding the divergence.
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return spiked, &StateError{Neuron: i, State: "V", Value: v}
		}
		if v >= n.vTh {
			v = n.c
			u += n.d
			spiked = append(spiked, int32(i))
		}
		n.v[i], n.u[i] = v, u
	}
	return spiked, nil
}
