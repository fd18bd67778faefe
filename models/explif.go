package models

import (
	"fmt"
	"math"
	"strconv"
)

func expLIFClass() *Class {
	ps := append(lifParams(), Param{Name: "tau_syn", Kind: NumberList, Unit: "ms", Default: 2.0, Constraint: "every entry > 0", Doc: "PSC time constant per receptor port"})
	return &Class{
		Name:   "ExpLIF",
		Kind:   NeuronClass,
		Doc:    "LIF with exponential PSCs, one port per tau_syn entry (NEST iaf_psc_exp)",
		Params: append(ps, neuronBase()...),
		States: []string{"V", "I_syn", "I_syn_<port>"},
		Build:  func(b *Build) (Population, error) { return newExpLIF(b) },
	}
}

// ExpLIF is NEST's iaf_psc_exp with K receptor ports (docs/models/lif.md).
type ExpLIF struct {
	lifCommon
	tauSyn   []float64
	p22, p20 float64
	p11, p21 []float64 // per port
	isyn     [][]float64
	isynSum  []float64 // scratch for the I_syn state
	zero     []float64 // a row of zeros standing in for absent input
	ode      *lifODE   // non-default method only
}

var _ RangeStepper = (*ExpLIF)(nil)

func newExpLIF(b *Build) (*ExpLIF, error) {
	tauSyn := b.Floats("tau_syn")
	if len(tauSyn) == 0 {
		return nil, paramErr("tau_syn", "must be a non-empty list of time constants, got []")
	}
	for i, t := range tauSyn {
		if !(t > 0) {
			return nil, paramErr("tau_syn", "entry %d: must be > 0, got %g", i, t)
		}
	}
	c, err := buildLIFCommon(b, len(tauSyn))
	if err != nil {
		return nil, err
	}
	n := &ExpLIF{lifCommon: c, tauSyn: tauSyn}
	h, tau := b.Dt, c.tau
	cm := tau / c.r
	n.p22 = math.Exp(-h / tau)
	n.p20 = c.r * (1 - n.p22)
	for _, ts := range tauSyn {
		n.p11 = append(n.p11, math.Exp(-h/ts))
		n.p21 = append(n.p21, expPSCPropagator(h, tau, ts, cm))
		n.isyn = append(n.isyn, make([]float64, b.Size))
	}
	n.isynSum = make([]float64, b.Size)
	n.zero = make([]float64, b.Size)
	if c.method != ExpEuler {
		n.ode = newLIFODE(c.method, h, &n.lifCommon, tauSyn)
	}
	return n, nil
}

// expPSCPropagator is P21 of docs/models/lif.md (NEST's IAFPropagatorExp),
// falling back to the tau == tau_syn limit where the closed form is not
// a usable number.
func expPSCPropagator(h, tau, tauSyn, cm float64) float64 {
	beta := tauSyn * tau / (tau - tauSyn)
	gamma := beta / cm
	x := gamma * math.Exp(-h/tauSyn) * math.Expm1(h*(tau-tauSyn)/(tauSyn*tau))
	if !math.IsInf(x, 0) && !math.IsNaN(x) && x >= 2.2250738585072014e-308 {
		return x
	}
	return h / cm * math.Exp(-h/tau)
}

func (n *ExpLIF) Size() int  { return len(n.v) }
func (n *ExpLIF) Ports() int { return len(n.tauSyn) }
func (n *ExpLIF) StateNames() []string {
	s := []string{"V", "I_syn"}
	for r := range n.tauSyn {
		s = append(s, "I_syn_"+strconv.Itoa(r))
	}
	return s
}

func (n *ExpLIF) State(name string) []float64 {
	switch name {
	case "V":
		return n.v
	case "I_syn":
		clear(n.isynSum)
		for _, is := range n.isyn {
			for i, x := range is {
				n.isynSum[i] += x
			}
		}
		return n.isynSum
	}
	for r := range n.isyn {
		if name == fmt.Sprintf("I_syn_%d", r) {
			return n.isyn[r]
		}
	}
	return nil
}

func (n *ExpLIF) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if n.method != ExpEuler {
		return n.stepODE(iext, w, spiked)
	}
	return n.StepRange(0, len(n.v), iext, w, spiked)
}

// Splittable implements RangeStepper: the exact step is per neuron.
func (n *ExpLIF) Splittable() bool { return n.method == ExpEuler }

// StepRange implements RangeStepper: Step for neurons lo..hi-1.
func (n *ExpLIF) StepRange(lo, hi int, iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	if len(n.isyn) == 2 {
		return n.step2(lo, hi, iext, w, spiked), nil
	}
	v, ref, ie := n.v[lo:hi], n.ref[lo:hi], n.ie[lo:hi]
	ref = ref[:len(v)]
	ie = ie[:len(v)]
	if iext != nil {
		iext = iext[lo:hi]
	}
	// Membrane first, from the PSCs at t_k (docs/models/lif.md).
	for i := range v {
		if ref[i] == 0 {
			in := ie[i]
			if iext != nil {
				in += iext[i]
			}
			nv := n.vRest + float64((v[i]-n.vRest)*n.p22)
			for r, is := range n.isyn {
				nv += float64(n.p21[r] * is[lo+i])
			}
			v[i] = nv + float64(n.p20*in)
		} else {
			ref[i]--
		}
	}
	// PSCs decay and take the arriving spikes, also while refractory.
	for r, is := range n.isyn {
		is = is[lo:hi]
		p := n.p11[r]
		var wr []float64
		if r < len(w) {
			wr = w[r]
		}
		if wr == nil {
			for i := range is {
				is[i] *= p
			}
		} else {
			wr = wr[lo:hi]
			for i := range is {
				is[i] = float64(is[i]*p) + wr[i]
			}
		}
	}
	for i := range v {
		if v[i] >= n.vTh {
			v[i] = n.afterSpike(v[i])
			ref[i] = n.refSteps
			spiked = append(spiked, int32(lo+i))
		}
	}
	return spiked, nil
}

// step2 is Step for two ports (the CUBA benchmark's excitatory and
// inhibitory PSCs) fused into one pass over the neurons, so that each
// neuron's state is loaded once per step. Missing inputs read a zero row.
//
// It keeps its branches, unlike LIF's kernel (lifkernel.go): with seven
// streams Go's register allocator spills, and the CMOV form of this loop
// measured 1.45x slower on a CUBA-shaped population (4,000 neurons, both
// ports receiving), and a block kernel with only the spike test moved
// out 1.15x slower. The branches here mispredict about twice per spike
// (into and out of the refractory period), which costs less.
//
// Products are rounded before they are added (float64 conversions), as
// in lifBlock, so that every build computes the same bits.
func (n *ExpLIF) step2(lo, hi int, iext []float64, w [][]float64, spiked []int32) []int32 {
	v := n.v[lo:hi]
	size := len(v)
	ref, ie := n.ref[lo:hi], n.ie[lo:hi]
	ref, ie = ref[:size], ie[:size]
	i0, i1 := n.isyn[0][lo:hi], n.isyn[1][lo:hi]
	i0, i1 = i0[:size], i1[:size]
	zero := n.zero[:size]
	w0, w1, ix := zero, zero, zero
	if len(w) > 0 && w[0] != nil {
		w0 = w[0][lo:hi]
	}
	if len(w) > 1 && w[1] != nil {
		w1 = w[1][lo:hi]
	}
	if iext != nil {
		ix = iext[lo:hi]
	}
	w0, w1, ix = w0[:size], w1[:size], ix[:size]
	vRest, p22, p20, vTh := n.vRest, n.p22, n.p20, n.vTh
	p21a, p21b, p11a, p11b := n.p21[0], n.p21[1], n.p11[0], n.p11[1]
	if iext == nil && n.ieUniform && size > 0 {
		// No current input and one I_e for all: a constant drive term
		// saves two memory streams in the benchmark's shape.
		drive := float64(p20 * ie[0])
		for i := range v {
			a, b := i0[i], i1[i]
			vi := v[i]
			if ref[i] == 0 {
				vi = vRest + float64((vi-vRest)*p22) + float64(p21a*a) + float64(p21b*b) + drive
			} else {
				ref[i]--
			}
			i0[i] = float64(a*p11a) + w0[i]
			i1[i] = float64(b*p11b) + w1[i]
			if vi >= vTh {
				vi = n.afterSpike(vi)
				ref[i] = n.refSteps
				spiked = append(spiked, int32(lo+i))
			}
			v[i] = vi
		}
		return spiked
	}
	for i := range v {
		a, b := i0[i], i1[i]
		vi := v[i]
		if ref[i] == 0 {
			vi = vRest + float64((vi-vRest)*p22) + float64(p21a*a) + float64(p21b*b) + float64(p20*(ie[i]+ix[i]))
		} else {
			ref[i]--
		}
		i0[i] = float64(a*p11a) + w0[i]
		i1[i] = float64(b*p11b) + w1[i]
		if vi >= vTh {
			vi = n.afterSpike(vi)
			ref[i] = n.refSteps
			spiked = append(spiked, int32(lo+i))
		}
		v[i] = vi
	}
	return spiked
}

// InitNames excludes the derived sum I_syn from `init`.
func (n *ExpLIF) InitNames() []string {
	names := n.StateNames()
	return append(names[:1:1], names[2:]...)
}
