package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// TestStatusLineAndLog: a log line written while the status line is
// shown erases it first and draws it again after, so the log line
// starts on a line of its own; the status line names each rate output
// and says what the vehicle figures are.
func TestStatusLineAndLog(t *testing.T) {
	var screen bytes.Buffer // stdout and stderr of one terminal, in order
	term := &terminal{out: &screen}
	show := statusLine(term, time.Millisecond, []string{"left_wheel", "right_wheel"})
	vehicle, err := sim.NewVehicle(sim.DefaultVehicle())
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(250) {
		f := daemon.Figures{Tick: k, Lateness: time.Duration(k) * time.Microsecond, Overruns: 1}
		f.Rates[0], f.Rates[1] = 60, 0
		f.Plant.Of = vehicle
		f.Plant.V[0], f.Plant.V[1], f.Plant.V[2], f.Plant.V[3] = -0.42, 0.13, 1, 0.61 // x, y, heading, distance
		show(f)
	}
	want := "\rt=   0.25s late<=  249µs overruns=1 | left_wheel 60 Hz, right_wheel 0 Hz | vehicle at (-0.42, +0.13) m, 0.61 m from the light\x1b[K"
	if screen.String() != want {
		t.Fatalf("status line %q, want %q", screen.String(), want)
	}
	screen.Reset()
	log := term.logTo(&screen)
	log.Write([]byte("12:00:00.000 INF reload: new config checked\n"))
	got := screen.String()
	if !strings.HasPrefix(got, "\r\x1b[K12:00:00.000 INF reload") {
		t.Errorf("the log line does not start on a cleared line: %q", got)
	}
	if !strings.HasSuffix(got, "\n"+strings.TrimSuffix(strings.TrimPrefix(want, "\r"), "\x1b[K")) {
		t.Errorf("the status line is not drawn again below the log line: %q", got)
	}
	screen.Reset()
	term.end()
	log.Write([]byte("after\n"))
	if screen.String() != "\nafter\n" {
		t.Errorf("after end, the log goes straight through: %q", screen.String())
	}
	if daemon.IsTerminal(log) {
		t.Error("a log writer over a buffer claims to be a terminal")
	}
}

// With the network on a chip the status line ends with the link's
// figures, and the reloads once there was one.
func TestStatusLineLink(t *testing.T) {
	var screen bytes.Buffer
	show := statusLine(&terminal{out: &screen}, time.Millisecond, []string{"left_wheel"})
	for k := range int64(250) {
		f := daemon.Figures{Tick: k}
		f.Link.HasLink = true
		f.Link.FramesIn, f.Link.FramesOut, f.Link.CRCErrors, f.Link.Retries, f.Link.Timeouts = 250, 251, 1, 2, 3
		f.Link.LastTransfer = 11 * time.Microsecond
		f.Link.Faults, f.Link.Reloads = 1, 1
		show(f)
	}
	want := " | link 501 frames, 1 CRC errors, 2 retries, 3 timeouts, 11µs/tick, 1 reloads\x1b[K"
	if !strings.HasSuffix(screen.String(), want) {
		t.Errorf("status line %q, want it to end with %q", screen.String(), want)
	}
}
