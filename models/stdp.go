package models

import (
	"fmt"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// STDPRule is a plastic synapse entry's rule and parameters (docs/models/synapses.md):
// NEST's stdp_synapse (pair) or stdp_triplet_synapse (triplet), with the
// post neuron's dendritic_delay as the delay by which its spikes reach
// the synapse. The engine keeps the traces; these are the weight updates.
type STDPRule struct {
	Triplet bool
	// Pair rule (STDPSynapse).
	TauPlus, Lambda, Alpha, MuPlus, MuMinus float64
	// Triplet rule (TripletSTDPSynapse); TauPlus is shared.
	TauPlusTriplet, Aplus, Aminus, AplusTriplet, AminusTriplet float64
	Wmax                                                       float64
	// Initial presynaptic traces of every connection.
	Kplus, KplusTriplet float64
}

// stdpParams lists each rule's parameters with NEST's defaults.
var stdpParams = map[string][]Param{
	"STDPSynapse": {
		{Name: "tau_plus", Kind: Number, Unit: "ms", Default: 20.0, Constraint: "> 0"},
		{Name: "lambda", Kind: Number, Default: 0.01},
		{Name: "alpha", Kind: Number, Default: 1.0},
		{Name: "mu_plus", Kind: Number, Default: 1.0},
		{Name: "mu_minus", Kind: Number, Default: 1.0},
		{Name: "Wmax", Kind: Number, Default: 100.0, Constraint: "!= 0"},
		{Name: "Kplus", Kind: Number, Default: 0.0, Constraint: ">= 0"},
	},
	"TripletSTDPSynapse": {
		{Name: "tau_plus", Kind: Number, Unit: "ms", Default: 16.8, Constraint: "> 0"},
		{Name: "tau_plus_triplet", Kind: Number, Unit: "ms", Default: 101.0, Constraint: "> 0"},
		{Name: "Aplus", Kind: Number, Default: 5e-10},
		{Name: "Aminus", Kind: Number, Default: 7e-3},
		{Name: "Aplus_triplet", Kind: Number, Default: 6.2e-3},
		{Name: "Aminus_triplet", Kind: Number, Default: 2.3e-4},
		{Name: "Wmax", Kind: Number, Default: 100.0, Constraint: "!= 0"},
		{Name: "Kplus", Kind: Number, Default: 0.0, Constraint: ">= 0"},
		{Name: "Kplus_triplet", Kind: Number, Default: 0.0, Constraint: ">= 0"},
	},
}

// decodeSTDP reads a plastic synapse's params mapping (n may be nil: all
// defaults) and checks every constraint of docs/models/synapses.md.
func (d *decoder) decodeSTDP(model string, n, at *yaml.Node, f string) (*STDPRule, error) {
	schema := stdpParams[model]
	vals := map[string]float64{}
	lines := map[string]*yaml.Node{}
	for _, p := range schema {
		vals[p.Name] = p.Default.(float64)
	}
	if n != nil && !isNull(n) {
		var names []string
		for _, p := range schema {
			names = append(names, p.Name)
		}
		ks, vs, err := d.mapping(n, f, nil)
		if err != nil {
			return nil, err
		}
		for i, k := range ks {
			if !contains(names, k.Value) {
				return nil, d.errf(k, f+"."+k.Value, "unknown parameter of %s%s; expected one of %s", model, DidYouMean(k.Value, names), strings.Join(names, ", "))
			}
			x, err := d.number(vs[i], f+"."+k.Value, false)
			if err != nil {
				return nil, err
			}
			vals[k.Value] = x
			lines[k.Value] = vs[i]
		}
	}
	node := func(name string) *yaml.Node {
		if x, ok := lines[name]; ok {
			return x
		}
		if n != nil {
			return n
		}
		return at
	}
	for _, p := range schema {
		x := vals[p.Name]
		bad := false
		switch p.Constraint {
		case "> 0":
			bad = !(x > 0)
		case ">= 0":
			bad = x < 0
		case "!= 0":
			bad = x == 0
		}
		if bad {
			return nil, d.errf(node(p.Name), f+"."+p.Name, "must be %s, got %g", p.Constraint, x)
		}
	}
	r := &STDPRule{Triplet: model == "TripletSTDPSynapse", TauPlus: vals["tau_plus"], Wmax: vals["Wmax"], Kplus: vals["Kplus"]}
	if r.Triplet {
		r.TauPlusTriplet, r.Aplus, r.Aminus = vals["tau_plus_triplet"], vals["Aplus"], vals["Aminus"]
		r.AplusTriplet, r.AminusTriplet, r.KplusTriplet = vals["Aplus_triplet"], vals["Aminus_triplet"], vals["Kplus_triplet"]
	} else {
		r.Lambda, r.Alpha, r.MuPlus, r.MuMinus = vals["lambda"], vals["alpha"], vals["mu_plus"], vals["mu_minus"]
	}
	return r, nil
}

// CheckWeight validates an initial weight against the rule (docs/models/synapses.md,
// 13.3): 0 <= w/Wmax <= 1 for the pair rule, sign(w) = sign(Wmax) for the
// triplet rule (0 counts as positive).
func (r *STDPRule) CheckWeight(w float64) error {
	if r.Triplet {
		if (w < 0) != (r.Wmax < 0) {
			return fmt.Errorf("must have the sign of Wmax (%g), got %g", r.Wmax, w)
		}
		return nil
	}
	if q := w / r.Wmax; !(q >= 0 && q <= 1) {
		return fmt.Errorf("must satisfy 0 <= w/Wmax <= 1 (Wmax %g), got %g", r.Wmax, w)
	}
	return nil
}

// Facilitate is the potentiation by a post spike: k is the presynaptic
// trace Kplus at that spike (decayed), ky the long post trace just before
// it (triplet rule only).
func (r *STDPRule) Facilitate(w, k, ky float64) float64 {
	if r.Triplet {
		v := math.Abs(w) + k*(r.Aplus+r.AplusTriplet*ky)
		return math.Copysign(math.Min(v, math.Abs(r.Wmax)), r.Wmax)
	}
	v := w/r.Wmax + r.Lambda*math.Pow(1-w/r.Wmax, r.MuPlus)*k
	return math.Min(v, 1) * r.Wmax
}

// Depress is the depression at a pre spike: k is the post trace K- at
// t_pre - d, kx the presynaptic triplet trace (triplet rule only).
func (r *STDPRule) Depress(w, k, kx float64) float64 {
	if r.Triplet {
		v := math.Abs(w) - k*(r.Aminus+r.AminusTriplet*kx)
		return math.Copysign(math.Max(v, 0), r.Wmax)
	}
	v := w/r.Wmax - r.Alpha*r.Lambda*math.Pow(w/r.Wmax, r.MuMinus)*k
	return math.Max(v, 0) * r.Wmax
}

// PostTrace holds the parameters of a neuron population's postsynaptic
// STDP traces (docs/models/README.md).
type PostTrace struct {
	StdpTau, TauTriplet float64
	DendriticDelay      []int32 // steps, per neuron
}

// postTrace reads the neuron base's STDP parameters of a built population.
func postTrace(b *Build) (*PostTrace, error) {
	dd, err := b.PerUnit("dendritic_delay")
	if err != nil {
		return nil, err
	}
	pt := &PostTrace{StdpTau: b.Float("stdp_tau"), TauTriplet: b.Float("tau_triplet"), DendriticDelay: make([]int32, len(dd))}
	for i, x := range dd {
		pt.DendriticDelay[i] = int32(x)
	}
	return pt, nil
}
