package models

import (
	"errors"
	"fmt"

	"github.com/spikeloop/spikeloop/models/snn"
)

// The stepwise SNN neurons (SNN.md) live in package models/snn, which a
// library user can step directly. This file makes each of them a
// population class of the network file: one SNN step per engine step,
// whose input is the summed weighted input of the step (spike input on
// port 0 plus current input), dimensionless.

// stepwiseClasses converts snn's class schemas into registry classes.
func stepwiseClasses() []*Class {
	var out []*Class
	for _, info := range snn.Classes() {
		info := info
		c := &Class{Name: info.Name, Kind: NeuronClass, Stepwise: true, Doc: info.Doc, States: info.States}
		for _, p := range info.Params {
			c.Params = append(c.Params, Param{Name: p.Name, Kind: Any, Default: p.Default,
				Constraint: p.Constraint, Choices: p.Choices, Doc: p.Doc})
		}
		c.Build = func(b *Build) (Population, error) { return newStepwise(b, info.Name) }
		out = append(out, c)
	}
	return out
}

// Stepwise is a population of one stepwise SNN class.
type Stepwise struct {
	layer  *snn.Layer
	x      []float32            // the step's summed input
	spikes []float32            // the step's spike output
	out    []float64            // spike values (1, or 1/time_step for SNNSRM)
	mirror map[string][]float64 // float64 views of the float32 states, for monitors
}

func newStepwise(b *Build, class string) (*Stepwise, error) {
	params := map[string]any{}
	for name, v := range b.Values {
		params[name] = v.Raw
	}
	layer, err := snn.NewRand(class, b.Size, params, b.Rand)
	if err != nil {
		var pe *snn.ParamError
		if errors.As(err, &pe) {
			return nil, paramErr(pe.Param, "%s", pe.Msg)
		}
		return nil, err
	}
	s := &Stepwise{layer: layer, x: make([]float32, b.Size), spikes: make([]float32, b.Size),
		out: make([]float64, b.Size), mirror: map[string][]float64{}}
	for _, name := range layer.StateNames() {
		s.mirror[name] = make([]float64, b.Size)
	}
	return s, nil
}

// Layer is the underlying snn layer (for Backward and learnable parameters).
func (s *Stepwise) Layer() *snn.Layer { return s.layer }

func (s *Stepwise) Size() int            { return len(s.x) }
func (s *Stepwise) Ports() int           { return 1 }
func (s *Stepwise) StateNames() []string { return s.layer.StateNames() }

// State returns a float64 copy of a float32 state, refreshed on each call.
func (s *Stepwise) State(name string) []float64 {
	m, ok := s.mirror[name]
	if !ok {
		return nil
	}
	for i, x := range s.layer.State(name) {
		m[i] = float64(x)
	}
	return m
}

// SetInitState sets the state the layer starts from (and returns to on
// Reset), as `init` in the network file asks.
func (s *Stepwise) SetInitState(name string, values []float64) error {
	v := make([]float32, len(values))
	for i, x := range values {
		v[i] = float32(x)
	}
	return s.layer.SetInitialState(name, v)
}

// Output is the spike value of each unit in the last step: the engine
// routes w*value, so SNNSRM's 1/time_step spikes carry their size.
func (s *Stepwise) Output() []float64 { return s.out }

func (s *Stepwise) Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error) {
	var w0 []float64
	if len(w) > 0 {
		w0 = w[0]
	}
	for i := range s.x {
		in := 0.0
		if w0 != nil {
			in = w0[i]
		}
		if iext != nil {
			in += iext[i]
		}
		s.x[i] = float32(in)
	}
	if err := s.layer.Step(s.x, s.spikes, nil); err != nil {
		return spiked, fmt.Errorf("%s: %w", s.layer.Class(), err)
	}
	for i, sp := range s.spikes {
		s.out[i] = float64(sp)
		if sp != 0 {
			spiked = append(spiked, int32(i))
		}
	}
	return spiked, nil
}
