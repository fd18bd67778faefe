package remote_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// onSPI opens a backend on an emulated chip on hal/sim's bit-serial SPI
// port at 20 MHz, with its data-ready and reset lines.
func onSPI(t testing.TB, ec emulator.Config, rc remote.Config) (*remote.Backend, *emulator.Emulator) {
	t.Helper()
	link, emu := spiLink(t, ec)
	rc.Link = link
	b, err := remote.Open(rc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, emu
}

// spiLink is the link to an emulated chip on hal/sim's SPI port.
func spiLink(t testing.TB, ec emulator.Config) (*remote.SPI, *emulator.Emulator) {
	t.Helper()
	return spiLinkAt(t, ec, 20*physic.MegaHertz)
}

// spiLinkAt is spiLink with the port connected at clock hz.
func spiLinkAt(t testing.TB, ec emulator.Config, hz physic.Frequency) (*remote.SPI, *emulator.Emulator) {
	t.Helper()
	dr, rs := sim.NewPin("GPIO24", 24), sim.NewPin("GPIO25", 25)
	ec.DataReady, ec.Reset = dr, rs
	emu, err := emulator.New(ec)
	if err != nil {
		t.Fatal(err)
	}
	port := sim.NewPort("SPI0.0", emu)
	conn, err := port.Connect(hz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	link, err := remote.NewSPI("SPI0.0", conn, dr, rs)
	if err != nil {
		t.Fatal(err)
	}
	return link, emu
}

// serve serves an emulated chip on a unix socket and returns its
// address; stop closes the listener (and with it the connections).
func serve(t testing.TB, ec emulator.Config) (addr string, emu *emulator.Emulator, stop func()) {
	t.Helper()
	emu, err := emulator.New(ec)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "apu")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = emu.Serve(l); close(done) }()
	stop = func() { l.Close(); <-done }
	t.Cleanup(func() { stop(); os.RemoveAll(dir) })
	return "unix:" + path, emu, stop
}

// slowTimeout is the link timeout of the tests that do not exercise the
// timeout. A stream's chip is a server goroutine (or process) that a
// loaded machine deschedules for tens of milliseconds now and then: a
// timeout of a few milliseconds then expires on a healthy link, and the
// resend changes the counts a test asserts or, with no retries left,
// fails the call (CI saw it). A generous one only lengthens a hang.
const slowTimeout = 10 * time.Second

// onStream opens a backend on an emulated chip served on a unix socket,
// with a slowTimeout when rc has none.
func onStream(t testing.TB, ec emulator.Config, rc remote.Config) (*remote.Backend, *emulator.Emulator) {
	t.Helper()
	if rc.Timeout == 0 {
		rc.Timeout = slowTimeout
	}
	addr, emu, _ := serve(t, ec)
	link, err := remote.Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rc.Link = link
	b, err := remote.Open(rc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, emu
}
