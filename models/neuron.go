package models

import "fmt"

// NeuronModel is a population of neurons that the engine steps as one
// block (docs/models/README.md). One call advances every neuron by one step.
type NeuronModel interface {
	Population
	// Ports is n_receptor: the number of spike input ports.
	Ports() int
	// Step performs the step k -> k+1 for every neuron. iext[i] is the
	// external current I_ext(k) in pA (nil: none this population can
	// receive), w[r][i] the spike input W_r(k) arriving at t_{k+1} on port
	// r (w or w[r] nil: nothing can arrive there). The indices of the
	// neurons that spiked are appended to spiked, ascending. An error is a
	// *StateError naming the neuron whose state stopped being finite.
	Step(iext []float64, w [][]float64, spiked []int32) ([]int32, error)
}

// RangeStepper is a NeuronModel whose step is independent per neuron, so
// that disjoint ranges of its neurons can be stepped at once from
// different goroutines (the CPU engine's threads). StepRange(lo, hi, ...)
// does for neurons lo..hi-1 what Step does for all, with the same rows
// (indexed by neuron) and the same arithmetic, so splitting changes no
// result. It may be used only while Splittable reports true (the model's
// method keeps no state shared between neurons).
type RangeStepper interface {
	NeuronModel
	Splittable() bool
	StepRange(lo, hi int, iext []float64, w [][]float64, spiked []int32) ([]int32, error)
}

// StateError reports a state variable that became NaN or infinite.
type StateError struct {
	Neuron int
	State  string
	Value  float64
}

func (e *StateError) Error() string {
	return fmt.Sprintf("neuron %d: state %s became %g", e.Neuron, e.State, e.Value)
}

// initState applies `v_init` and `init: {V: ...}` rules shared by every
// neuron with a V: both given is an error (docs/models/README.md).
func initV(b *Build, v []float64) error {
	vi, err := b.PerUnit("v_init")
	if err != nil {
		return err
	}
	copy(v, vi)
	return nil
}
