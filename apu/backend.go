// Package apu is WHERE and HOW a network runs. A Backend takes a loaded
// network (package models) and advances it step by step; the in-process
// engine is apu/cpu, and a co-processor reached over SPI will implement
// the same interface. Programs pick a backend by name (Register, Open).
//
// A Backend is the only door to a running network: whoever drives one
// (the daemon's tick loop, `spikeloop sim`, a replay) gives it inputs,
// generator settings and state reads through its methods, never through
// the model objects of the network it was loaded with, which a backend
// on another chip never sees.
//
// A Backend is driven by one goroutine (the daemon's tick loop or
// `spikeloop sim`); it is not safe for concurrent use.
package apu

import (
	"errors"

	"github.com/spikeloop/spikeloop/models"
)

// The error classes of a Backend, for errors.Is. A backend wraps every
// error it returns from Load, Run, Advance, Set, State and Reset in at
// most one of them; an error in none of them is a caller's mistake (an
// unknown population, a value out of range), refused before anything ran.
var (
	// ErrLink: the transport to the backend failed (a frame lost or
	// corrupted, a timeout, a chip that reset itself). The network's
	// state is unknown; the caller puts the actuators in their safe
	// state. In-process backends never return it.
	ErrLink = errors.New("backend link failed")
	// ErrRetryable marks an ErrLink error after which the same call may
	// be repeated (the backend answers a repeated request once); an
	// ErrLink error without it needs a Reset or a new Load first.
	ErrRetryable = errors.New("retryable")
	// ErrDiverged: the network itself failed, a state became NaN or
	// infinite. It is the network's fault, not the link's: retrying gives
	// the same; the backend stops and every later Run or Advance returns
	// the error again.
	ErrDiverged = errors.New("network diverged")
	// ErrUnsupported: the backend cannot run this network or do this
	// call (a model it has no kernel for, a network too large for its
	// memory, a Reset a replay cannot do). Probe says so before Load.
	ErrUnsupported = errors.New("not supported by the backend")
)

// Backend runs one loaded network. Every method but Probe and Close
// needs a successful Load first.
type Backend interface {
	// Probe says whether the backend can run net and what it would
	// need, without loading it (`spikeloop check`, and the daemon before
	// a load). An error wraps ErrUnsupported and names the population,
	// model or size refused; ErrLink when the backend could not be asked.
	Probe(net *models.Network) (Probe, error)
	// Load builds the runtime structures of net: state, delay buffers,
	// connection lists, monitors. It records the monitors' initial rows
	// (t = 0). It is called once; net is not modified afterwards by the
	// caller. net is a description the backend only reads: the state it
	// runs is its own (models.PopulationSpec.NewModel for an in-process
	// backend), so no run changes net, and one net may be loaded into
	// several backends side by side, or again.
	Load(net *models.Network) error
	// Run runs n steps with the inputs of those steps, all given in one
	// call (a remote backend sends them in one frame): feed f gives the
	// InputTransmitter population f.Pop the values
	// f.Values[s*size:(s+1)*size] in step s of the n. An
	// InputTransmitter without a feed gets zeros. Values must be finite
	// and len(f.Values) = n*size. Errors as for Advance; an input
	// refused is refused before its step runs.
	Run(n int, feeds []Feed) error
	// Advance runs n steps with no inputs (Run(n, nil)). On an error (a
	// state that became NaN or infinite: ErrDiverged) the backend stops
	// and every later Advance or Run returns it.
	Advance(n int) error
	// Set changes a generator's setting from the next step on (docs/models/generators.md:
	// DC amplitude, Poisson rate, Bernoulli
	// probability, a CustomGenerator's rows). values has one entry, or
	// one per unit; for CustomRows it holds rows of one or size values,
	// row r emitted in step Now()+r, zeros after the last. The backend
	// copies values.
	Set(pop string, s Setting, values []float64) error
	// State appends to dst[:0] the values of state (a name of the
	// population's model, e.g. "V_m") of the given units of pop, at the
	// end of the last step run, and returns it. It allocates nothing
	// when dst has the capacity.
	State(pop, state string, units []int, dst []float64) ([]float64, error)
	// Now is the number of steps run so far: the next step is Now().
	Now() int64
	// Drain hands over everything recorded since the previous Drain:
	// dst's slices are emptied and swapped with the backend's, so that a
	// caller draining regularly causes no allocation.
	Drain(dst *Record)
	// Reset puts the network back to t = 0 as a fresh load of the same
	// network with the same seed gives it: states, generators and their
	// settings, delay buffers, plastic weights, random streams, the step
	// counter. What was recorded and not drained is dropped; the
	// monitors record their initial rows again. A run after Reset gives
	// bit for bit what a new backend on a new load gives.
	Reset() error
	// Close releases the backend's resources. It may be called without
	// a Load, and more than once.
	Close() error
}

// Feed is the input of one InputTransmitter population for the steps of
// one Run: step-major rows of the population's size.
type Feed struct {
	Pop    string
	Values []float64
}

// Setting is a generator setting (Backend.Set).
type Setting uint8

// The generator settings.
const (
	DCAmplitude   Setting = iota + 1 // DCGenerator amplitude (pA)
	PoissonRate                      // PoissonGenerator rate (Hz)
	BernoulliProb                    // BernoulliGenerator probability
	CustomRows                       // CustomGenerator rows from the next step on
)

// String is the setting's name in messages.
func (s Setting) String() string {
	switch s {
	case DCAmplitude:
		return "dc amplitude"
	case PoissonRate:
		return "poisson rate"
	case BernoulliProb:
		return "bernoulli probability"
	case CustomRows:
		return "custom rows"
	}
	return "unknown setting"
}

// Probe is what a backend says about a network before loading it.
type Probe struct {
	Backend string // the backend's registered name
	// Models are the model names the backend runs (nil: every model of
	// the models registry).
	Models []string
	// MaxNeurons is the most units the backend runs (0: no limit but
	// memory).
	MaxNeurons int64
	// Memory is the memory the backend needs for the network, in bytes
	// (host memory for an in-process backend, the chip's for a remote
	// one): the one figure `spikeloop check` prints and the daemon
	// compares with the memory available before a load.
	Memory int64
}

// Spike is one recorded spike: population index (in the network file's
// order), unit index and stamp index (the spike's time is Stamp*dt; a
// spike of step k has stamp k+1).
type Spike struct {
	Pop    int32
	Neuron int32
	Stamp  int64
}

// Trace holds the samples of one recorded state of one monitor. Row r has
// stamp Stamps[r] (time Stamps[r]*dt) and values Values[r*W:(r+1)*W] for
// the W = len(Neurons) neurons monitored.
type Trace struct {
	Monitor int // index in the network's monitors
	Pop     int // population index; -1 for a synapse monitor
	Synapse int // synapse entry index of a weight monitor; -1 for a population
	// For a weight monitor State is "weight" and Neurons holds connection
	// indices in the entry's canonical order.
	State   string // state name
	Neurons []int  // neuron indices, column order
	Stamps  []int64
	Values  []float64
}

// Record is what a backend recorded between two Drains. Traces has one
// entry per (monitor, recorded state) in file order, always present.
type Record struct {
	Spikes []Spike
	Traces []Trace
}

// Reset empties the record, keeping capacity.
func (r *Record) Reset() {
	r.Spikes = r.Spikes[:0]
	for i := range r.Traces {
		r.Traces[i].Stamps = r.Traces[i].Stamps[:0]
		r.Traces[i].Values = r.Traces[i].Values[:0]
	}
}
