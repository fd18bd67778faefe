package daemon

import (
	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
)

// The daemon's tests run on the cpu engine, registered as cmd/spikeloop
// registers it (the daemon itself does not import apu/cpu).
func init() {
	apu.Register(cpu.Name, cpu.Open)
}

// engineOf is the cpu engine under a test daemon, for tests that look
// at the model objects directly.
func engineOf(d *Daemon) *cpu.Engine { return d.backend.(*cpu.Engine) }

// testBackend is the cpu engine under another name, registered so that
// a test can tell the backend a run names from the default.
const testBackend = "cpu-again"

func init() {
	apu.Register(testBackend, cpu.Open)
}
