package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/daemon"
)

// wheelsAt is a log hook that reads both wheels' duty when the daemon
// logs a message starting with msg: what the actuators hold then.
type wheelsAt struct {
	d      **daemon.Daemon
	msg    string
	duties []float64
}

func (h *wheelsAt) Run(_ *zerolog.Event, _ zerolog.Level, msg string) {
	if !strings.HasPrefix(msg, h.msg) || *h.d == nil {
		return
	}
	for _, part := range []string{"motor_left", "motor_right"} {
		if p, err := (*h.d).SimBoard().PartPin(part); err == nil {
			h.duties = append(h.duties, p.Duty())
		}
	}
}

// The stream transport: the demo's network runs on a chip served by
// `spikeloop apu serve` in another process, over a unix socket; the
// server is killed mid-run. In the next tick the wheels go safe (they
// are at 0 when the daemon logs the fault, in that tick) and the loop
// ends with a link error that names the socket.
func TestAPUServeKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	sock := filepath.Join(t.TempDir(), "apu.sock")
	srv := exec.Command(bin, "apu", "serve", "--listen", "unix:"+sock)
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apu serve did not listen on %s: %v\n%s", sock, err, srvErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	cfgText, netText := daemon.DemoFiles()
	text := string(cfgText)
	i, j := strings.Index(text, "\nbackend:\n"), strings.Index(text, "\nnetwork: ")
	if i < 0 || j < i {
		t.Fatal("the demo config has no backend section before its network")
	}
	// The server is another process that a loaded machine may
	// deschedule for a while: the timeout is long enough that a healthy
	// link never reaches it (the kill fails the sends at once).
	text = text[:i+1] + "backend: {kind: apu, stream: unix:" + sock + ", timeout: 2s, retries: 4}\n" + text[j:]
	if k := strings.Index(text, "\n# Telemetry over MQTT"); k >= 0 {
		text = text[:k+1]
	}
	cfg, err := daemon.Parse([]byte(text), "demo.yaml", netText)
	if err != nil {
		t.Fatal(err)
	}
	const killAt = 500
	var d *daemon.Daemon
	hook := &wheelsAt{d: &d, msg: "backend link failed"}
	log := zerolog.New(&bytes.Buffer{}).Hook(hook)
	var turning float64
	d, err = daemon.New(cfg, daemon.Options{Clock: &daemon.FakeClock{}, Logger: &log, Ticks: 2000, SummaryEvery: -1, NoTelemetry: true,
		AfterTick: func(d *daemon.Daemon, k int64) {
			if k != killAt {
				return
			}
			for _, part := range []string{"motor_left", "motor_right"} {
				p, _ := d.SimBoard().PartPin(part)
				turning += p.Duty()
			}
			srv.Process.Kill()
			srv.Wait()
		}})
	if err != nil {
		t.Fatalf("%v\n%s", err, srvErr.String())
	}
	defer d.Close()
	err = d.Run(context.Background())
	if !errors.Is(err, apu.ErrLink) || !strings.Contains(err.Error(), "daemon: tick 501: backend apu: apu link unix:"+sock) {
		t.Fatalf("loop ended with %v; want a link error in tick 501 naming the socket", err)
	}
	if !strings.Contains(err.Error(), "no good response in 5 attempts (timeout 2s each)") {
		t.Errorf("the error %q does not show the config's retries and timeout (4, 2s)", err)
	}
	if turning == 0 {
		t.Fatal("the wheels should turn before the kill (the test would not see them go safe)")
	}
	if len(hook.duties) != 2 || hook.duties[0] != 0 || hook.duties[1] != 0 {
		t.Errorf("wheel duties %v when the fault was logged (in its tick); want both 0", hook.duties)
	}
	if st := d.Stats(); st.Ticks != killAt+1 || st.LinkFaults != 1 {
		t.Errorf("%d ticks, %d link faults; want %d ticks (the kill after tick %d) and 1 fault", st.Ticks, st.LinkFaults, killAt+1, killAt)
	}
	t.Logf("error: %v", err)
}
