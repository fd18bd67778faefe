package models

import (
	"math/rand/v2"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Dist is a value distribution written as a mapping in a network file:
// {dist: normal, mean, std}, {dist: uniform, low, high} or, for initial
// states only, {dist: ramp, low, high} (unit i of n gets
// low + (high-low)*i/n, so the values cover [low, high)).
type Dist struct {
	Kind     string
	A, B     float64 // mean/std or low/high
	ANode    *yaml.Node
	BNode    *yaml.Node
	WithRamp bool
}

var distFields = map[string][]string{
	"normal":  {"dist", "mean", "std"},
	"uniform": {"dist", "low", "high"},
	"ramp":    {"dist", "low", "high"},
}

// dist decodes a distribution mapping; ramp says whether ramp is allowed.
func (d *decoder) dist(n *yaml.Node, f string, ramp bool) (Dist, error) {
	var out Dist
	ks, vs, err := d.mapping(n, f, nil)
	if err != nil {
		return out, err
	}
	m := map[string]*yaml.Node{}
	for i, k := range ks {
		m[k.Value] = vs[i]
	}
	expect := "{dist: normal, mean, std} or {dist: uniform, low, high}"
	if ramp {
		expect += " or {dist: ramp, low, high}"
	}
	dn, ok := m["dist"]
	if !ok {
		return out, d.errf(n, f+".dist", "must be %s, got nothing", expect)
	}
	if out.Kind, err = d.str(dn, f+".dist"); err != nil {
		return out, err
	}
	fields, ok := distFields[out.Kind]
	if !ok || (out.Kind == "ramp" && !ramp) {
		return out, d.errf(dn, f+".dist", "must be %s, got %q", expect, out.Kind)
	}
	for _, k := range ks {
		if !contains(fields, k.Value) {
			return out, d.errf(k, f+"."+k.Value, "not a field of dist %s; expected %s", out.Kind, strings.Join(fields, ", "))
		}
	}
	for i, name := range fields[1:] {
		node, ok := m[name]
		if !ok {
			return out, d.errf(n, f+"."+name, "must be given (dist %s needs %s), got nothing", out.Kind, strings.Join(fields[1:], " and "))
		}
		x, err := d.number(node, f+"."+name, false)
		if err != nil {
			return out, err
		}
		if i == 0 {
			out.A, out.ANode = x, node
		} else {
			out.B, out.BNode = x, node
		}
	}
	switch out.Kind {
	case "normal":
		if out.B < 0 {
			return out, d.errf(out.BNode, f+".std", "must be >= 0, got %g", out.B)
		}
	default:
		if out.B < out.A {
			return out, d.errf(out.BNode, f+".high", "must be >= low (%g), got %g", out.A, out.B)
		}
	}
	return out, nil
}

// fill draws len(dst) values in order from rng (unused for ramp).
func (ds Dist) fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		switch ds.Kind {
		case "normal":
			dst[i] = ds.A + ds.B*rng.NormFloat64()
		case "uniform":
			dst[i] = ds.A + (ds.B-ds.A)*rng.Float64()
		case "ramp":
			dst[i] = ds.A + (ds.B-ds.A)*float64(i)/float64(len(dst))
		}
	}
}
