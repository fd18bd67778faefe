package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/recording"
)

// recordOn records the demo for ticks ticks on backend ("" : the
// config's) and returns the recording, its header and the live spikes.
func recordOn(t *testing.T, backend string, ticks int64) ([]byte, recording.Segment, []apu.Spike) {
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
	segs, err := recording.Scan(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), segs[0], live
}

// The recording's header names the backend the run ran on, and a replay
// runs on that one unless told otherwise.
func TestRecordingNamesBackend(t *testing.T) {
	_, h, _ := recordOn(t, "", 20)
	if h.Backend != "cpu" {
		t.Errorf("a run with no backend asked: header backend %q, want cpu", h.Backend)
	}
	rec, h, live := recordOn(t, testBackend, 50)
	if h.Backend != testBackend {
		t.Fatalf("a run on %s: header backend %q", testBackend, h.Backend)
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
	if err := rp.UseBackend("gpu"); err == nil || !strings.Contains(err.Error(), "the backends are apu, cpu, cpu-again") {
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
	if err == nil || !strings.Contains(err.Error(), `the recording ran on backend "apu-again": not a backend; the backends are apu, cpu, cpu-again`) || !errors.Is(err, recording.ErrRecording) {
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
	if err == nil || !strings.Contains(err.Error(), `backend "gpu": not a backend; the backends are apu, cpu, cpu-again`) {
		t.Errorf("New with backend gpu: %v", err)
	}
}

// faulty is the cpu engine with a fault from step failAt on: a link
// that fails (retryable) or a network that diverges, as a remote
// backend reports them.
type faulty struct {
	apu.Backend
	failAt int64
	err    error
}

func (f *faulty) Run(n int, feeds []apu.Feed) error {
	if f.Now() >= f.failAt {
		return f.err
	}
	return f.Backend.Run(n, feeds)
}

var (
	errTestLink    = fmt.Errorf("spi: response CRC mismatch twice: %w", errors.Join(apu.ErrLink, apu.ErrRetryable))
	errTestDiverge = fmt.Errorf("population \"left\": state V became +Inf: %w", apu.ErrDiverged)
)

func init() {
	for name, err := range map[string]error{"faulty-link": errTestLink, "faulty-net": errTestDiverge} {
		apu.Register(name, func(o apu.Options) (apu.Backend, error) {
			b, err2 := cpu.Open(o)
			return &faulty{Backend: b, failAt: 200, err: err}, err2
		})
	}
}

// A backend's fault stops the loop with an error of its class: the
// link's and the network's stay apart through the daemon (errors.Is), so
// that a caller can retry the one and not the other.
func TestBackendFaultClasses(t *testing.T) {
	for _, c := range []struct {
		backend   string
		is, isNot error
	}{
		{"faulty-link", apu.ErrLink, apu.ErrDiverged},
		{"faulty-net", apu.ErrDiverged, apu.ErrLink},
	} {
		cfg, err := Parse([]byte(quietDemoText()), "demo.yaml", demoNetwork)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(cfg, Options{Backend: c.backend, Clock: &FakeClock{}, Logger: quiet(), Ticks: 1000, SummaryEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Run(context.Background())
		d.Close()
		if !errors.Is(err, c.is) || errors.Is(err, c.isNot) {
			t.Errorf("%s: loop ended with %v; want errors.Is %v and not %v", c.backend, err, c.is, c.isNot)
		}
		if want := int64(200 / cfg.StepsPerTick()); d.Stats().Ticks != want {
			t.Errorf("%s: %d ticks ran, want %d (the fault at step 200)", c.backend, d.Stats().Ticks, want)
		}
	}
}
