package cpu_test

import (
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"github.com/spikeloop/spikeloop/apu/cpu"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func() (apu.Backend, error) { return cpu.New(), nil })
}

func TestConformanceThreads(t *testing.T) {
	backendtest.Run(t, func() (apu.Backend, error) { return cpu.Open(apu.Options{Threads: 2}) })
}
