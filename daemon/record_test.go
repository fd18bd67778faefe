package daemon

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
)

// recordDemo runs a config on the demo network for ticks with a
// recording and returns the recording and the spikes the live engine
// recorded.
func recordDemo(t *testing.T, text string, ticks int64) ([]byte, []apu.Spike) {
	t.Helper()
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var live []apu.Spike
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) { live = append(live, d.rec.Spikes...) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), live
}

func sameSpikes(t *testing.T, live, replay []apu.Spike) {
	t.Helper()
	if len(live) == 0 {
		t.Fatal("the live run has no spikes: nothing is compared")
	}
	if len(replay) != len(live) {
		t.Fatalf("replay gives %d spikes, live %d", len(replay), len(live))
	}
	for i := range live {
		if live[i] != replay[i] {
			t.Fatalf("spike %d: live %+v, replay %+v", i, live[i], replay[i])
		}
	}
}

func TestReplayIsBitForBit(t *testing.T) {
	rec, live := recordDemo(t, quietDemoText(), 3000)
	replay, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec))
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
	t.Logf("%d spikes over 3000 ticks; recording %d bytes", len(live), len(rec))
}

// With a rate encoder the seed is in the recording: the replay's
// Poisson trains are the live ones.
func TestReplayRateEncoder(t *testing.T) {
	net := strings.Replace(string(demoNetwork), "    params: {inputs_type: current}\n  eye_right", "    params: {inputs_type: spike}\n  eye_right", 1)
	text := strings.Replace(quietDemoText(), "    encoder: current\n    gain: 2000       # pA per volt\n    min: 0\n    max: 6000",
		"    encoder: rate\n    gain: 200", 1)
	if text == quietDemoText() || net == string(demoNetwork) {
		t.Fatal("the demo files changed; update this test's replacements")
	}
	cfg, err := Parse([]byte(text), "demo.yaml", []byte(net))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var live []apu.Spike
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 2000, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) { live = append(live, d.rec.Spikes...) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	replay, err := Replay([]byte(net), "braitenberg.yaml", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
}

func TestReplayErrors(t *testing.T) {
	rec, _ := recordDemo(t, quietDemoText(), 50)
	cases := []struct {
		name string
		net  []byte
		data []byte
		want string
	}{
		{"other network", []byte(strings.Replace(string(demoNetwork), "amplitude: 500.0", "amplitude: 501.0", 1)), rec, "is not the one recorded"},
		{"cut short", demoNetwork, rec[:len(rec)-40], "cut short"},
		{"not a recording", demoNetwork, []byte{0x93, 1, 2, 3}, "recording: header"},
		{"empty", demoNetwork, nil, "recording: header"},
	}
	for _, c := range cases {
		_, err := Replay(c.net, "braitenberg.yaml", bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRecord) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRecordingAllocatesNothingPerTick(t *testing.T) {
	cfg, _ := quietDemo()
	var buf bytes.Buffer
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Record: &buf})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.figs = newHandoff[Figures](8)
	// A recorder whose queue nobody drains: pushes fill it, then count
	// drops; neither allocates.
	d.rcd = &recorder{rows: newHandoff[recordRow](16), done: make(chan error, 1)}
	clock := d.clock.(*FakeClock)
	for i := 0; i < 100; i++ {
		clock.SleepUntil(context.Background(), d.deadline)
		_ = d.iterate()
	}
	allocs := testing.AllocsPerRun(1000, func() {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per tick while recording", allocs)
	}
	if d.rcd.dropped == 0 {
		t.Error("no drops counted with a full queue")
	}
}

// A failed read is recorded as the safe value the encoder got, so a run
// with a stale stretch replays exactly too.
func TestReplayWithStaleInput(t *testing.T) {
	cfg, _ := quietDemo()
	var buf bytes.Buffer
	var live []apu.Spike
	broken := false
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 1500, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) {
			live = append(live, d.rec.Spikes...)
			broken = k >= 300 && k < 700
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src, _ := d.source("light_right")
	enc, _ := d.encoder(1, d.cfg.Inputs[1])
	d.inputs[1], _ = sensor.NewInput("right_eye", failing{src, &broken}, enc, 0)
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Stats().StaleTicks == 0 {
		t.Fatal("no stale ticks: the test does not test")
	}
	replay, err := Replay(demoNetwork, "braitenberg.yaml", &buf)
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
}

// The custom encoder (a window of readings into a CustomGenerator) runs
// live and replays exactly.
func TestCustomEncoderReplays(t *testing.T) {
	net := strings.Replace(string(demoNetwork), "synapses:\n", `  taps:
    model: CustomGenerator
    size: 4
    params: {data: [0.0]}
synapses:
  - pre: taps
    post: motor_right
    conn: {rule: all_to_all}
    weight: 4.0
`, 1)
	text := strings.Replace(quietDemoText(), "\noutputs:", `
  - name: left_taps
    part: light_left
    population: taps
    encoder: custom
    gain: 1
    min: 0
    max: 3

outputs:`, 1)
	cfg, err := Parse([]byte(text), "demo.yaml", []byte(net))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var live []apu.Spike
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 3000, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) { live = append(live, d.rec.Spikes...) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	replay, err := Replay([]byte(net), "braitenberg.yaml", &buf)
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
}

// TestReplaySegments: under Serve every run appends its own segment to
// the recording (here a reload after 300 ticks to a config with another
// noise seed); each segment replays to its own run's spikes, and
// ScanRecording lists them.
func TestReplaySegments(t *testing.T) {
	first, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	reload := make(chan struct{}, 1)
	loaded := make(chan struct{})
	load := func() (*Config, error) {
		defer close(loaded)
		return Parse([]byte(strings.Replace(quietDemoText(), "seed: 3", "seed: 4", 1)), "demo.yaml", demoNetwork)
	}
	var buf bytes.Buffer
	var live [][]apu.Spike
	reloaded := false
	opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 1000, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) {
			if k == 0 {
				live = append(live, nil)
			}
			live[len(live)-1] = append(live[len(live)-1], d.TickSpikes()...)
			if k == 300 && !reloaded {
				reloaded = true
				reload <- struct{}{}
				// Let Serve's watcher load the new config and stop
				// this run (the fake clock stands still meanwhile).
				<-loaded
				time.Sleep(50 * time.Millisecond)
			}
		}}
	if err := Serve(context.Background(), first, opts, reload, load); err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 {
		t.Fatalf("%d runs, want 2", len(live))
	}
	segs, err := ScanRecording(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[1].Ticks != 1000 || segs[0].Ticks < 301 || segs[0].Ticks >= 1000 {
		t.Fatalf("segments %+v; want 2, the first cut by the reload after 300 ticks, the second 1000 ticks", segs)
	}
	t.Logf("segments of %d and %d ticks", segs[0].Ticks, segs[1].Ticks)
	for i, s := range segs {
		if s.Tick != time.Millisecond || s.StepsPerTick != 10 || s.Dt != 0.1 || s.Dropped != 0 ||
			s.NetworkHash != fnv64(demoNetwork) || strings.Join(s.Inputs, ",") != "left_eye,right_eye" ||
			strings.Join(s.Outputs, ",") != "motor_left,motor_right" {
			t.Errorf("segment %d: %+v", i, s)
		}
	}
	for i := range segs {
		replay, err := ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(buf.Bytes()), i)
		if err != nil {
			t.Fatal(err)
		}
		sameSpikes(t, live[i], replay)
	}
	// The two runs differ (another noise seed, another length), so a
	// replay of the wrong segment would be caught above.
	if len(live[0]) == len(live[1]) {
		t.Error("both runs have as many spikes: the segments are not told apart")
	}
	if _, err := ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(buf.Bytes()), 2); err == nil ||
		!strings.Contains(err.Error(), "segment 3 asked for, the recording has 2") {
		t.Errorf("segment 3 of 2: %v", err)
	}
	// A broken second segment is reported as such.
	_, err = ScanRecording(bytes.NewReader(buf.Bytes()[:buf.Len()-30]))
	if err == nil || !strings.Contains(err.Error(), "recording: segment 2: ") || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("cut second segment: %v", err)
	}
}

func TestScanRecordingErrors(t *testing.T) {
	rec, _ := recordDemo(t, quietDemoText(), 50)
	segs, err := ScanRecording(bytes.NewReader(rec))
	if err != nil || len(segs) != 1 || segs[0].Ticks != 50 || segs[0].Duration() != 50*time.Millisecond || segs[0].Steps() != 500 {
		t.Fatalf("a good recording: %+v, %v", segs, err)
	}
	// A trailer with a wrong count: re-encode "ticks" 50 as 49.
	i := bytes.LastIndex(rec, []byte("ticks"))
	bad := append([]byte(nil), rec...)
	bad[i+5] = 49
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "recording: the file is empty"},
		{"garbage", []byte("hello, world\n"), "recording: header"},
		{"not a map", []byte{0x93, 1, 2, 3}, "recording: header"},
		{"cut in the header", rec[:40], "cut short"},
		{"cut in the rows", rec[:len(rec)/2], "cut short"},
		{"cut in the trailer", rec[:len(rec)-3], "cut short"},
		{"wrong count", bad, "50 tick rows, the trailer says 49"},
		{"trailing garbage", append(append([]byte(nil), rec...), 0xc1), "recording: segment 2: header"},
	}
	for _, c := range cases {
		_, err := ScanRecording(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRecord) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzScanRecording feeds the recording decoder arbitrary bytes: it
// must never panic, its errors wrap ErrRecord, and a segment it accepts
// replays (or fails with an error) without panicking.
func FuzzScanRecording(f *testing.F) {
	cfg, err := quietDemo()
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	// A command at tick 5, so that the seeds hold a command row too.
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 20, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) {
			if k == 5 {
				d.ctl <- &ctlRequest{kind: telemetry.KindDCAmplitude, pop: "search", values: []float64{700}, done: make(chan error, 1)}
			}
		}})
	if err != nil {
		f.Fatal(err)
	}
	if err := d.Run(context.Background()); err != nil {
		f.Fatal(err)
	}
	d.Close()
	rec := buf.Bytes()
	if segs, err := ScanRecording(bytes.NewReader(rec)); err != nil || segs[0].Commands != 1 {
		f.Fatalf("seed: %+v, %v; want one command row", segs, err)
	}
	f.Add(rec)
	f.Add(append(append([]byte(nil), rec...), rec...))
	f.Add(rec[:len(rec)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		segs, err := ScanRecording(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrRecord) {
				t.Fatalf("error does not wrap ErrRecord: %v", err)
			}
			return
		}
		if len(segs) == 0 {
			t.Fatal("no segments and no error")
		}
		for i, s := range segs {
			if s.Ticks < 0 || s.StepsPerTick < 1 {
				t.Fatalf("segment %d: %+v", i, s)
			}
			if s.NetworkHash != fnv64(demoNetwork) || s.Steps() > 100_000 {
				continue
			}
			spikes, err := ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(data), i)
			if err == nil && s.Dropped > 0 {
				t.Fatalf("segment %d with %d dropped rows replayed", i, s.Dropped)
			}
			_ = spikes
		}
	})
}
