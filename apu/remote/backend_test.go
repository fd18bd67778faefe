package remote_test

import (
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/hal/sim"
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

// The registered opener: no link is unsupported (naming the way to give
// one); a stream address, an SPI connection with its lines, or
// $SPIKELOOP_APU_LINK reach the chip.
func TestOpener(t *testing.T) {
	t.Setenv(remote.LinkEnv, "")
	if _, err := remote.Opener(apu.Options{}); !errors.Is(err, apu.ErrUnsupported) || !strings.Contains(err.Error(), remote.LinkEnv) {
		t.Fatalf("no link: %v", err)
	}
	net := demoNet(t)
	addr, _, _ := serve(t, emulator.Config{})
	b, err := remote.Opener(apu.Options{Link: &apu.Link{Stream: addr, Retries: -1, Timeout: slowTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	b.Close()
	t.Setenv(remote.LinkEnv, addr)
	if b, err = remote.Opener(apu.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := remote.Opener(apu.Options{Link: &apu.Link{Stream: "serial:/dev/ttyS0"}}); err == nil {
		t.Error("a serial address accepted")
	}
	dr, rs := sim.NewPin("GPIO25", 25), sim.NewPin("GPIO24", 24)
	emu, err := emulator.New(emulator.Config{DataReady: dr, Reset: rs})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sim.NewPort("SPI0.1", emu).Connect(10*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	b, err = remote.Opener(apu.Options{Link: &apu.Link{SPI: conn, DataReady: dr, Reset: rs, Name: "spi SPI0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	if got := b.(*remote.Backend).Link(); got != "spi SPI0.1" {
		t.Errorf("link name %q", got)
	}
}
