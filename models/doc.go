// Package models holds WHAT spikeloop simulates: neurai's (neurai.nn.neuron) neuron
// and generator classes (LIF, ExpLIF, Izhikevich, DCGenerator, ...), the
// static synapse and its connection rules, and the network file that names
// them. Everything here is pure: no I/O beyond reading the files a network
// file names at load time, no goroutines, no clocks.
//
// A class is registered once (see Classes) with its parameter schema: name,
// unit, neurai default and constraint. The schema drives validation, error
// messages and `spikeloop models`. A class builds a population object that
// keeps its state as one float64 slice per state variable and advances all
// of its units in one call; the engine (package apu/cpu) owns time, delays
// and spike routing.
//
// The math of every class is docs/models (one page per family); units and the order of events
// inside one step are on its index page, docs/models/README.md.
package models
