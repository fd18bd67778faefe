package models

import (
	"slices"

	"github.com/spikeloop/spikeloop/models/snn"
)

// Read-only descriptions of the models' validated parameters and their
// state as it is now (before a run: the initial state), for programs that
// translate a network into another form, such as the APU compiler
// (apu/compile) that quantizes it into fixed point. Every slice returned
// is a copy: changing it changes nothing in the model.

// Window is a generator's activity window in steps: step k is active
// iff First <= k < End (End is math.MaxInt64 for stop: inf).
type Window struct {
	First, End int64
}

func (w window) export() Window { return Window{First: w.first, End: w.end} }

// LIFDesc describes a LIF population (docs/models/lif.md).
type LIFDesc struct {
	VRest, VReset, VTh float64 // mV; VReset = VRest with a soft reset
	Soft               bool    // V_reset: null: V <- V - (V_th - V_rest) at a spike
	Tau, R             float64 // ms, GOhm
	RefSteps           int     // refractory steps after a spike
	Method             Method
	DefaultMethod      bool      // Method is the class default (EXP_EULER)
	P33, P30           float64   // exp(-dt/tau), R·(1 - P33)
	IE                 []float64 // pA per unit
	V                  []float64 // mV per unit, now
	Ref                []int32   // refractory steps left per unit, now
}

func (c *lifCommon) describe() LIFDesc {
	return LIFDesc{
		VRest: c.vRest, VReset: c.vReset, VTh: c.vTh, Soft: c.soft != 0,
		Tau: c.tau, R: c.r, RefSteps: int(c.refSteps), Method: c.method, DefaultMethod: c.method == ExpEuler,
		IE: slices.Clone(c.ie), V: slices.Clone(c.v), Ref: slices.Clone(c.ref),
	}
}

// Describe returns the population's description.
func (n *LIF) Describe() LIFDesc {
	d := n.lifCommon.describe()
	d.P33, d.P30 = n.p33, n.p30
	return d
}

// ExpLIFDesc describes an ExpLIF population (docs/models/lif.md). P33 and
// P30 of the embedded LIFDesc hold P22 and P20.
type ExpLIFDesc struct {
	LIFDesc
	TauSyn   []float64   // ms per port
	P11, P21 []float64   // per port: exp(-dt/tau_syn), the PSC -> V propagator
	ISyn     [][]float64 // [port][unit] pA, now
}

// Describe returns the population's description.
func (n *ExpLIF) Describe() ExpLIFDesc {
	d := ExpLIFDesc{LIFDesc: n.lifCommon.describe(), TauSyn: slices.Clone(n.tauSyn),
		P11: slices.Clone(n.p11), P21: slices.Clone(n.p21)}
	d.P33, d.P30 = n.p22, n.p20
	for _, is := range n.isyn {
		d.ISyn = append(d.ISyn, slices.Clone(is))
	}
	return d
}

// IzhikevichDesc describes an Izhikevich population
// (docs/models/izhikevich.md).
type IzhikevichDesc struct {
	A, B, C, D, VTh float64
	H               float64 // dt, ms
	DefaultMethod   bool    // EULER, NEST's scheme
	IE, V, U        []float64
}

// Describe returns the population's description.
func (n *Izhikevich) Describe() IzhikevichDesc {
	return IzhikevichDesc{A: n.a, B: n.b, C: n.c, D: n.d, VTh: n.vTh, H: n.h, DefaultMethod: n.ode == nil,
		IE: slices.Clone(n.ie), V: slices.Clone(n.v), U: slices.Clone(n.u)}
}

// Describe returns the stepwise layer's description (docs/models/stepwise.md).
func (s *Stepwise) Describe() snn.Desc { return s.layer.Describe() }

// DCDesc describes a DCGenerator.
type DCDesc struct {
	Win Window
	Amp []float64 // pA per unit
}

// Describe returns the generator's description.
func (g *DCGenerator) Describe() DCDesc {
	return DCDesc{Win: g.win.export(), Amp: slices.Clone(g.amp)}
}

// PoissonDesc describes a PoissonGenerator.
type PoissonDesc struct {
	Win    Window
	Binary bool
	Lambda []float64 // mean count per step, rate·dt/1000, per unit
	ExpNeg []float64 // exp(-Lambda)
}

// Describe returns the generator's description.
func (g *PoissonGenerator) Describe() PoissonDesc {
	return PoissonDesc{Win: g.win.export(), Binary: g.binary, Lambda: slices.Clone(g.lambda), ExpNeg: slices.Clone(g.expNeg)}
}

// BernoulliDesc describes a BernoulliGenerator.
type BernoulliDesc struct {
	Win  Window
	Prob []float64
}

// Describe returns the generator's description.
func (g *BernoulliGenerator) Describe() BernoulliDesc {
	return BernoulliDesc{Win: g.win.export(), Prob: slices.Clone(g.prob)}
}

// SpikeGenDesc describes a SpikeGenerator: unit u emits Vals[u][j] in
// step Steps[u][j] (ascending, equal times merged).
type SpikeGenDesc struct {
	Binary bool
	Steps  [][]int64
	Vals   [][]float64
}

// Describe returns the generator's description.
func (g *SpikeGenerator) Describe() SpikeGenDesc {
	d := SpikeGenDesc{Binary: g.binary}
	for u := range g.steps {
		d.Steps = append(d.Steps, slices.Clone(g.steps[u]))
		d.Vals = append(d.Vals, slices.Clone(g.vals[u]))
	}
	return d
}

// CustomDesc describes a CustomGenerator: row j is emitted in step K0+j
// while the window is active; rows hold 1 or Size values.
type CustomDesc struct {
	Win    Window
	Binary bool
	K0     int64
	Rows   [][]float64
}

// Describe returns the generator's description.
func (g *CustomGenerator) Describe() CustomDesc {
	d := CustomDesc{Win: g.win.export(), Binary: g.binary, K0: g.k0}
	for _, r := range g.rows {
		d.Rows = append(d.Rows, slices.Clone(r))
	}
	return d
}

// InputDesc describes an InputTransmitter.
type InputDesc struct {
	Current bool // emits currents (pA), not spike values
	Binary  bool
}

// Describe returns the transmitter's description.
func (t *InputTransmitter) Describe() InputDesc {
	return InputDesc{Current: t.current, Binary: t.binary}
}
