package models

import (
	"errors"
	"fmt"

	"github.com/spikeloop/spikeloop/models/snn"
)

// The stepwise SNN neurons (docs/models/stepwise.md) live in package models/snn, which a
// library user can step directly. This file makes each of them a
// population class of the network file: one SNN step per engine step,
// whose input is the summed weighted input of the step (spike input on
// port 0 plus current input), dimensionless.

// stepwiseClasses converts snn's class schemas into registry classes.
func stepwiseClasses() []*Class {
	var out []*Class
	for _, info := range snn.Classes() {
		info := info
		states := append(append([]string(nil), info.States...), StateBeforeReset)
		c := &Class{Name: info.Name, Kind: NeuronClass, Stepwise: true, Doc: info.Doc, States: states}
		for _, p := range info.Params {
			if contains(PythonOnly, p.Name) && p.Name != "surrogate_grad_fn" {
				// The library accepts a Python call's keywords as they
				// are; a network file refuses them (PythonOnly).
				continue
			}
			c.Params = append(c.Params, Param{Name: p.Name, Kind: Any, Default: p.Default,
				Constraint: p.Constraint, Choices: p.Choices, Doc: p.Doc, NoEffect: p.NoEffect})
		}
		c.Build = func(b *Build) (Population, error) { return newStepwise(b, info.Name) }
		out = append(out, c)
	}
	return out
}

// StateBeforeReset names the membrane value of the step before the reset
// (the charged value compared with the threshold), recordable for every
// stepwise class. With before_reset_mem: true, a monitor's v records it
// too, as neurai's record_v output does.
const StateBeforeReset = "v_before_reset"

// Stepwise is a population of one stepwise SNN class.
type Stepwise struct {
	layer  *snn.Layer
	x      []float32            // the step's summed input
	charge []float32            // the step's membrane before the reset
	spikes []float32            // the step's spike output
	out    []float64            // spike values (1, or 1/time_step for SNNSRM)
	mirror map[string][]float64 // float64 views of the float32 states, for monitors
}

var _ NeuronModel = (*Stepwise)(nil)

func newStepwise(b *Build, class string) (*Stepwise, error) {
	params := map[string]any{}
	for name, v := range b.Values {
		params[name] = v.Raw
	}
	layer, err := snn.NewRand(class, b.Size, params, b.Rand)
	if err != nil {
		var list snn.ParamErrors
		if errors.As(err, &list) {
			out := make(ParamErrors, len(list))
			for i, pe := range list {
				out[i] = &ParamError{Param: pe.Param, Msg: pe.Msg}
			}
			return nil, out
		}
		var pe *snn.ParamError
		if errors.As(err, &pe) {
			return nil, paramErr(pe.Param, "%s", pe.Msg)
		}
		return nil, err
	}
	s := &Stepwise{layer: layer, x: make([]float32, b.Size), charge: make([]float32, b.Size),
		spikes: make([]float32, b.Size), out: make([]float64, b.Size), mirror: map[string][]float64{}}
	for _, name := range s.StateNames() {
		s.mirror[name] = make([]float64, b.Size)
	}
	s.initCharge()
	return s, nil
}

// initCharge makes v_before_reset read the initial membrane before the
// first step (the monitors' row at t = 0).
func (s *Stepwise) initCharge() { copy(s.charge, s.layer.State("v")) }

// Layer is the underlying snn layer (for Backward and learnable parameters).
func (s *Stepwise) Layer() *snn.Layer { return s.layer }

func (s *Stepwise) Size() int  { return len(s.x) }
func (s *Stepwise) Ports() int { return 1 }
func (s *Stepwise) StateNames() []string {
	return append(s.layer.StateNames(), StateBeforeReset)
}

// State returns a float64 copy of a float32 state, refreshed on each
// call. v is the membrane after the reset, or before it when the layer
// has before_reset_mem (neurai's recorded v).
func (s *Stepwise) State(name string) []float64 {
	m, ok := s.mirror[name]
	if !ok {
		return nil
	}
	src := s.layer.State(name)
	if name == StateBeforeReset || (name == "v" && s.layer.BeforeResetMem()) {
		src = s.charge
	}
	for i, x := range src {
		m[i] = float64(x)
	}
	return m
}

// SetInitState sets the state the layer starts from (and returns to on
// Reset), as `init` in the network file asks.
func (s *Stepwise) SetInitState(name string, values []float64) error {
	if name == StateBeforeReset {
		return fmt.Errorf("%s: %s follows from each step's charge; set v", s.layer.Class(), name)
	}
	v := make([]float32, len(values))
	for i, x := range values {
		v[i] = float32(x)
	}
	if err := s.layer.SetInitialState(name, v); err != nil {
		return err
	}
	s.initCharge()
	return nil
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
	if err := s.layer.StepCharged(s.x, s.spikes, s.charge); err != nil {
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
