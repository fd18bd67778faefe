// Package snn runs neurai's (neurai.nn.neuron) stepwise spiking neurons, the ones
// trained with surrogate gradients: SNNIF, SNNLIF, SNNParamtricLIF,
// SNNEIF, SNNQIF, SNNKLIF, SNNALIF, SparseLIF and SNNSRM. Their arithmetic
// is written down in docs/models/stepwise.md; the names of classes and parameters are
// neurai's.
//
// The package stands alone: a program can build a layer and step it
// without the engine or a network file.
//
//	l, err := snn.New("SNNLIF", 256, map[string]any{"tau": 2.0})
//	...
//	err = l.Step(input, spikes, nil) // one step; spikes gets 0 or 1 per element
//
// The engine uses the same Layer as a population: it calls Step once per
// engine step with the summed weighted input of that step, and Step does
// not allocate. A Dense holds trained weights (a pre x post matrix from a
// .npy file, see models/npy) and computes that summed input, visiting only
// the rows of inputs that spiked.
//
// # Layers
//
// A Layer keeps one population's parameters and state as float32 (the
// seed's param_dtype) in one slice per state variable. Elements never
// interact; a batch is more elements side by side.
//
//   - Step is one step with a persistent state (neurai's SINGLE mode).
//   - Multi runs T steps from the initial state (MULTI mode); it equals
//     Reset followed by T calls of Step.
//   - Reset, State, SetState and SetInitialState manage the state by the
//     names of docs/models/stepwise.md ("v", "spike"; SNNALIF adds "b" and "theta").
//   - Learnable and SetLearnable read and replace trained parameters (w,
//     k, tau_m, tau_adp).
//
// New takes the parameters by neurai's names with nil as Python's None,
// fills in the class defaults and rejects an unknown parameter or an
// invalid value with a *ParamError naming it. Classes lists every class's
// parameter schema (name, kind, default, constraint, doc) for `spikeloop
// models` and for a network-file loader.
//
// # Surrogate gradients and Backward
//
// Backward backpropagates a loss through T steps of one layer: given
// dL/dS[t] for the layer's output spikes it returns dL/dX[t] for its input
// and dL/dp for its learnable parameters, with the step function's
// derivative replaced by the layer's surrogate_grad_fn (package
// models/surrogate). It exists for on-board fine-tuning of a trained
// network (a later issue) and is checked against finite differences of a
// forward in which the step is replaced by the surrogate's smooth
// primitive, for which the surrogate gradient is exact.
package snn
