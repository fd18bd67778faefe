// Package apu is WHERE and HOW a network runs. A Backend takes a loaded
// network (package models) and advances it step by step; the in-process
// engine is apu/cpu, and a co-processor reached over SPI will implement
// the same interface.
//
// A Backend is driven by one goroutine (the daemon's tick loop or
// `spikeloop sim`); it is not safe for concurrent use.
package apu

import "github.com/spikeloop/spikeloop/models"

// Backend runs one loaded network.
type Backend interface {
	// Load builds the runtime structures of net: state, delay buffers,
	// connection lists, monitors. It records the monitors' initial rows
	// (t = 0). It is called once.
	Load(net *models.Network) error
	// SetInput gives the InputTransmitter population pop its values for
	// the next step only (MODELS.md 10.7); a step without a SetInput gets
	// zeros. Values must be finite, one per unit.
	SetInput(pop string, values []float64) error
	// Advance runs n steps. On an error (a state that became NaN or
	// infinite) the backend stops and every later Advance returns it.
	Advance(n int) error
	// Now is the number of steps run so far: the next step is Now().
	Now() int64
	// Drain hands over everything recorded since the previous Drain:
	// dst's slices are emptied and swapped with the backend's, so that a
	// caller draining regularly causes no allocation.
	Drain(dst *Record)
	// Close releases the backend's resources.
	Close() error
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

// Resetter is a Backend that can put its network back to t = 0, as a
// fresh load of the same file with the same seed gives it (between the
// trials of `spikeloop sim --trials`, and for the daemon's reset
// command). The cpu engine implements it.
type Resetter interface {
	// Reset rebuilds the network from the file it was loaded from.
	Reset() error
	// Network is the network now running (a new one after Reset).
	Network() *models.Network
}
