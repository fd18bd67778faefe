package models

import "math"

// lifParams are the rows shared by LIF and ExpLIF (docs/models/lif.md).
func lifParams() []Param {
	return []Param{
		{Name: "V_th", Kind: Number, Unit: "mV", Default: -55.0, Constraint: "> V_reset", Doc: "spike threshold"},
		{Name: "V_reset", Kind: NumberOrNull, Unit: "mV", Default: -70.0, Constraint: "< V_th", Doc: "reset potential; null: soft reset, V <- V - (V_th - V_rest)"},
		{Name: "V_rest", Kind: Number, Unit: "mV", Default: -70.0, Doc: "resting potential (NEST E_L)"},
		{Name: "R", Kind: Number, Unit: "GOhm", Default: 0.04, Constraint: "> 0", Doc: "membrane resistance; C_m = tau/R"},
		{Name: "tau", Kind: Number, Unit: "ms", Default: 10.0, Constraint: "> 0", Doc: "membrane time constant"},
		{Name: "tau_ref", Kind: NumberOrNull, Unit: "ms", Default: 2.0, Constraint: ">= 0 or null (= 0)", Doc: "refractory period, rounded up to whole steps"},
		{Name: "I_e", Kind: PerNeuron, Unit: "pA", Default: 0.0, Doc: "constant input current"},
		{Name: "v_init", Kind: PerNeuron, Unit: "mV", Default: -70.0, Doc: "initial V"},
		methodParam(ExpEuler),
	}
}

func lifClass() *Class {
	return &Class{
		Name:   "LIF",
		Kind:   NeuronClass,
		Doc:    "leaky integrate-and-fire, delta synapses (NEST iaf_psc_delta)",
		Params: append(lifParams(), neuronBase()...),
		States: []string{"V"},
		Build:  func(b *Build) (Population, error) { return newLIF(b) },
	}
}

// lifCommon holds what LIF and ExpLIF share: the membrane and refractory
// state and the validated scalar parameters.
type lifCommon struct {
	vRest, vReset, vTh float64
	// soft is 1 for V_reset: null (V <- V - (V_th - V_rest) at a spike,
	// with vReset = V_rest) and 0 for a hard reset; see afterSpike.
	soft      float64
	tau, r    float64
	refSteps  int32
	method    Method    // EXP_EULER: the exact loops; others: stepODE (ode.go)
	ie        []float64 // I_e per neuron, pA
	v         []float64 // membrane potential, mV
	ref       []int32   // refractory steps left
	ieUniform bool      // every neuron has the same I_e
}

func buildLIFCommon(b *Build, ports int) (lifCommon, error) {
	var c lifCommon
	if err := checkNeuronBase(b, ports); err != nil {
		return c, err
	}
	c.vRest, c.vReset, c.vTh = b.Float("V_rest"), b.Float("V_reset"), b.Float("V_th")
	c.tau, c.r = b.Float("tau"), b.Float("R")
	if b.IsNull("V_reset") {
		// neurai's V_reset=None: a soft reset, relative to rest.
		c.vReset, c.soft = c.vRest, 1
		if !(c.vTh > c.vRest) {
			return c, paramErr("V_th", "must be > V_rest (%g) for a soft reset (V_reset: null subtracts V_th - V_rest at a spike), got %g", c.vRest, c.vTh)
		}
	}
	if !(c.vTh > c.vReset) {
		return c, paramErr("V_th", "must be > V_reset (%g), got %g", c.vReset, c.vTh)
	}
	if !(c.r > 0) {
		return c, paramErr("R", "must be > 0, got %g", c.r)
	}
	if !(c.tau > 0) {
		return c, paramErr("tau", "must be > 0, got %g", c.tau)
	}
	tr := b.Float("tau_ref")
	if !b.IsNull("tau_ref") && tr < 0 {
		return c, paramErr("tau_ref", "must be >= 0 or null, got %g", tr)
	}
	var err error
	if c.refSteps, err = refractorySteps(tr, b.Dt, b.IsNull("tau_ref")); err != nil {
		return c, err
	}
	if c.method, err = parseMethod(b); err != nil {
		return c, err
	}
	if c.ie, err = b.PerUnit("I_e"); err != nil {
		return c, err
	}
	c.ieUniform = uniform(c.ie)
	c.v = make([]float64, b.Size)
	c.ref = make([]int32, b.Size)
	return c, initV(b, c.v)
}

// afterSpike is V after a spike at v: V_reset (hard), or v - (V_th -
// V_rest) with V_reset: null (soft; vReset holds V_rest then). Written
// as one expression so that the hard reset gives V_reset bit for bit.
func (c *lifCommon) afterSpike(v float64) float64 { return c.vReset + float64(c.soft*(v-c.vTh)) }

// LIF is NEST's iaf_psc_delta with the exact propagator (docs/models/lif.md).
type LIF struct {
	lifCommon
	p33, p30 float64
	// k is V_rest*(1 - P33): the exact step is V*P33 + k + P30*I, one
	// multiply and one add (lifBlock).
	k float64
	// refMax[g] is at least the largest refractory counter of neurons
	// 8g..8g+7 (exactly it when their blocks start at multiples of 8,
	// as Step's and the engine's thread cuts do): a block whose groups
	// are all 0 has no refractory neuron, and lifBlock skips the
	// counters there. Groups of 8 because the engine cuts ranges for
	// its threads at multiples of 8, so no group is shared by two.
	refMax []int32
	ode    *lifODE // non-default method only
}

var _ RangeStepper = (*LIF)(nil)

func newLIF(b *Build) (*LIF, error) {
	c, err := buildLIFCommon(b, 1)
	if err != nil {
		return nil, err
	}
	n := &LIF{lifCommon: c}
	n.p33 = math.Exp(-b.Dt / c.tau)
	n.p30 = c.r * (1 - n.p33)
	n.k = c.vRest * (1 - n.p33)
	n.refMax = make([]int32, (b.Size+refGroup-1)/refGroup)
	if c.method != ExpEuler {
		n.ode = newLIFODE(c.method, b.Dt, &n.lifCommon, nil)
	}
	return n, nil
}

func (n *LIF) Size() int            { return len(n.v) }
func (n *LIF) Ports() int           { return 1 }
func (n *LIF) StateNames() []string { return []string{"V"} }
func (n *LIF) State(name string) []float64 {
	if name == "V" {
		return n.v
	}
	return nil
}

// Step is the hot loop of the LIF100k benchmark: the branch-free block
// kernel of lifkernel.go. P30·I(k) is a constant when every neuron has
// the same I_e and no current arrives, else formed per block.
func (n *LIF) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.method != ExpEuler {
		return n.stepODE(iext, w, spiked)
	}
	return n.StepRange(0, len(n.v), iext, w, spiked)
}

// Splittable implements RangeStepper: the exact step is per neuron.
func (n *LIF) Splittable() bool { return n.method == ExpEuler }

// StepRange implements RangeStepper: Step for neurons lo..hi-1.
func (n *LIF) StepRange(lo, hi int, iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	var w0 []float64
	if len(w) > 0 {
		w0 = w[0]
	}
	p33, p30 := n.p33, n.p30
	var d0 float64
	if n.ieUniform && len(n.ie) > 0 {
		d0 = float64(p30 * n.ie[0])
	}
	var buf [kernelBlock]float64
	for b0 := lo; b0 < hi; b0 += kernelBlock {
		b1 := min(b0+kernelBlock, hi)
		v, ref := n.v[b0:b1], n.ref[b0:b1]
		var d, wb []float64
		if iext != nil || !n.ieUniform {
			d = buf[:len(v)]
			ie := n.ie[b0:b1]
			if iext == nil {
				for i := range d {
					d[i] = p30 * ie[i]
				}
			} else {
				ix := iext[b0:b1]
				for i := range d {
					d[i] = p30 * (ie[i] + ix[i])
				}
			}
		}
		if w0 != nil {
			wb = w0[b0:b1]
		}
		quiet := n.quiet(b0, b1)
		fired := lifBlock(v, ref, d, d0, wb, n.k, p33, n.vTh, quiet)
		if !quiet {
			n.countDown(b0, b1)
		}
		if fired != 0 {
			from := len(spiked)
			spiked = n.fire(b0, b1, spiked)
			for _, i := range spiked[from:] {
				n.refMax[int(i)/refGroup] = n.refSteps
			}
		}
	}
	return spiked, nil
}

// refGroup is the number of neurons per entry of LIF.refMax.
const refGroup = 8

// quiet reports whether no neuron of b0..b1-1 is refractory, by the
// groups that overlap the range.
func (n *LIF) quiet(b0, b1 int) bool {
	var or int32
	for _, m := range n.refMax[b0/refGroup : (b1+refGroup-1)/refGroup] {
		or |= m
	}
	return or == 0
}

// countDown follows the kernel's step of the counters of b0..b1-1 in
// refMax: each group wholly inside the range drops by one, down to 0,
// as the largest of its counters does. A group the range cuts keeps its
// value, which can then only be too large: its blocks take the kernel's
// path with counters until a step that has it whole.
func (n *LIF) countDown(b0, b1 int) {
	g1 := b1 / refGroup
	if b1 == len(n.v) {
		g1 = len(n.refMax)
	}
	for g := (b0 + refGroup - 1) / refGroup; g < g1; g++ {
		n.refMax[g] = max(n.refMax[g]-1, 0)
	}
}
