package daemon

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
)

// recordOn records the demo for ticks ticks on backend ("" : the
// config's) and returns the recording, its header and the live spikes.
func recordOn(t *testing.T, backend string, ticks int64) ([]byte, recordHeader, []apu.Spike) {
	t.Helper()
	cfg, err := Parse([]byte(quietDemoText()), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var live []apu.Spike
	d, err := New(cfg, Options{Backend: backend, Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) { live = append(live, d.rec.Spikes...) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := openSegment(newChunkReader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), h, live
}

// The recording's header names the backend the run ran on, and a replay
// runs on that one unless told otherwise.
func TestRecordingNamesBackend(t *testing.T) {
	_, h, _ := recordOn(t, "", 20)
	if h.backend != "cpu" {
		t.Errorf("a run with no backend asked: header backend %q, want cpu", h.backend)
	}
	rec, h, live := recordOn(t, testBackend, 50)
	if h.backend != testBackend {
		t.Fatalf("a run on %s: header backend %q", testBackend, h.backend)
	}
	rp, err := NewReplayer(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Backend() != testBackend {
		t.Errorf("replay runs on %q, the recording names %q", rp.Backend(), testBackend)
	}
	if err := rp.UseBackend("cpu"); err != nil || rp.Backend() != "cpu" {
		t.Errorf("UseBackend(cpu): %v, runs on %q", err, rp.Backend())
	}
	if err := rp.UseBackend("gpu"); err == nil || !strings.Contains(err.Error(), "the backends are cpu, cpu-again") {
		t.Errorf("UseBackend(gpu): %v", err)
	}
	rp.Close()
	replay, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec))
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)

	// A recording of a backend this build does not have: refused, naming
	// the ones it has.
	other := bytes.Replace(rec, []byte(testBackend), []byte("apu-again"), 1)
	refresh(t, other)
	_, err = NewReplayer(demoNetwork, "braitenberg.yaml", bytes.NewReader(other), 0)
	if err == nil || !strings.Contains(err.Error(), `the recording ran on backend "apu-again": not a backend; the backends are cpu, cpu-again`) || !errors.Is(err, ErrRecord) {
		t.Errorf("a recording of an unknown backend: %v", err)
	}
}

// Options.Backend names a backend nothing registered: New says which
// ones there are.
func TestUnknownBackendOption(t *testing.T) {
	cfg, err := Parse([]byte(quietDemoText()), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, Options{Backend: "gpu", Clock: &FakeClock{}, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), `backend "gpu": not a backend; the backends are cpu, cpu-again`) {
		t.Errorf("New with backend gpu: %v", err)
	}
}
