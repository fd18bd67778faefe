package main

import (
	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/fixed"
	"github.com/spikeloop/spikeloop/apu/remote"
)

// The backends a network can run on (`backend:` in a daemon config,
// --backend on sim, run and bench loop). Registering is the only thing
// this init does; the packages that run networks (daemon, apu/offline)
// open a backend by name and import none of them.
func init() {
	apu.Register(cpu.Name, cpu.Open)
	apu.Register(fixed.Name, fixed.Open)
	apu.Register(remote.Name, remote.Opener)
	// What needs no chip (check, a replay of a recording made on one)
	// runs the chip's engine in-process: the same bits.
	apu.RegisterStandIn(remote.Name, fixed.Name)
}
