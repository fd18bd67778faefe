package remote_test

import (
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
)

// The conformance suite with every byte through the emulated SPI wire.
func TestConformanceSPI(t *testing.T) {
	backendtest.Run(t, func() (apu.Backend, error) {
		b, _ := onSPI(t, emulator.Config{}, remote.Config{})
		return b, nil
	})
}

// The conformance suite over a stream socket (`spikeloop apu serve`).
func TestConformanceStream(t *testing.T) {
	backendtest.Run(t, func() (apu.Backend, error) {
		b, _ := onStream(t, emulator.Config{}, remote.Config{})
		return b, nil
	})
}
