package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/hal/haltest"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/recording"
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
		{"not a recording", demoNetwork, []byte{0x93, 1, 2, 3}, "not a spikeloop recording (no header)"},
		{"empty", demoNetwork, nil, "recording: the file is empty"},
		{"cut in the header", demoNetwork, rec[:40], "the file ends inside the chunk at byte 0"},
	}
	for _, c := range cases {
		_, err := Replay(c.net, "braitenberg.yaml", bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, recording.ErrRecording) {
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
	d.figs = handoff.New[Figures](8)
	// A writer on a sink that keeps nothing: the loop's Tick allocates
	// nothing (the writer's side, full queue included, is package
	// recording's TestWriterAllocatesNothing).
	d.rcd = recording.NewWriter(io.Discard, d.recordHeader(), *quiet())
	defer d.rcd.Close()
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
}

// A failed read is recorded as the safe value the encoder got, so a run
// with a stale stretch replays exactly too.
func TestReplayWithStaleInput(t *testing.T) {
	cfg, _ := quietDemo()
	var buf bytes.Buffer
	var live []apu.Spike
	var broken *haltest.Source // the right eye's source, breakable
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 1500, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) {
			live = append(live, d.rec.Spikes...)
			broken.Fail(k >= 300 && k < 700)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src, _ := d.source("light_right")
	enc, _ := d.encoder(1, d.cfg.Inputs[1])
	broken = haltest.Wrap(src)
	d.inputs[1], _ = sensor.NewInput("right_eye", broken, enc, 0)
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
// recording.Scan lists them.
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
	segs, err := recording.Scan(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].Ticks+segs[1].Ticks != 1000 || segs[0].Ticks < 301 || segs[0].Ticks >= 1000 {
		t.Fatalf("segments %+v; want 2, the first cut by the reload after 300 ticks, the second the rest of the 1000 ticks (Serve counts Ticks over all runs)", segs)
	}
	t.Logf("segments of %d and %d ticks", segs[0].Ticks, segs[1].Ticks)
	for i, s := range segs {
		if s.Tick != time.Millisecond || s.StepsPerTick != 10 || s.Dt != 0.1 || s.Dropped != 0 ||
			s.NetworkHash != recording.Hash(demoNetwork) || strings.Join(s.Inputs, ",") != "left_eye,right_eye" ||
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
	// A cut second segment is reported as such; the first is whole.
	segs, err = recording.Scan(bytes.NewReader(buf.Bytes()[:buf.Len()-30]))
	if len(segs) != 2 || !segs[0].Complete || segs[1].Complete || !errors.Is(err, recording.ErrIncomplete) ||
		!strings.Contains(err.Error(), "recording: segment 2 stops after ") || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("cut second segment: %v", err)
	}
}

func TestScanRecordingErrors(t *testing.T) {
	rec, _ := recordDemo(t, quietDemoText(), 50)
	segs, err := recording.Scan(bytes.NewReader(rec))
	if err != nil || len(segs) != 1 || segs[0].Ticks != 50 || segs[0].Duration() != 50*time.Millisecond || segs[0].Steps() != 500 ||
		!segs[0].Complete || segs[0].Stop != "" || segs[0].LastTick != 49 {
		t.Fatalf("a good recording: %+v, %v", segs, err)
	}
	// An end chunk with a wrong count (its checksum made right).
	bad := append([]byte(nil), rec...)
	i := bytes.LastIndex(bad, []byte("ticks"))
	bad[i+5] = 49
	refresh(t, bad)
	// A recording of the format before chunks: an msgp stream.
	var v2 []byte
	v2 = msgp.AppendMapHeader(v2, 2)
	v2 = msgp.AppendString(v2, "format")
	v2 = msgp.AppendString(v2, recordFormat)
	v2 = msgp.AppendString(v2, "version")
	v2 = msgp.AppendInt64(v2, 2)
	// A header chunk of a later version.
	var h4 []byte
	h4 = msgp.AppendMapHeader(h4, 2)
	h4 = msgp.AppendString(h4, "format")
	h4 = msgp.AppendString(h4, recordFormat)
	h4 = msgp.AppendString(h4, "version")
	h4 = msgp.AppendInt64(h4, 4)
	cases := []struct {
		name       string
		data       []byte
		want       string
		incomplete bool
	}{
		{"empty", nil, "recording: the file is empty", false},
		{"garbage", []byte("hello, world\n"), "not a spikeloop recording (no header)", false},
		{"not a map", []byte{0x93, 1, 2, 3}, "not a spikeloop recording (no header)", false},
		{"version 2", v2, "recording: format version 2, written by an older spikeloop; this build reads version 3", false},
		{"version 4", appendChunk(nil, chunkHeader, h4), "recording: header \"version\": format version 4, written by a newer spikeloop; this build reads version 3", false},
		{"cut in the header", rec[:40], "recording: the file ends inside the chunk at byte 0 (cut short", false},
		{"wrong count", bad, "50 tick rows, the end chunk says 49", false},
		{"cut in the end chunk", rec[:len(rec)-3], "segment 1 stops after 50 ticks (up to tick 49): the file ends inside the chunk at byte", true},
		{"trailing garbage", append(append([]byte(nil), rec...), 0xc1), "recording: segment 2: the chunk at byte " + strconv.Itoa(len(rec)) + " is damaged (no chunk starts there)", true},
	}
	for _, c := range cases {
		_, err := recording.Scan(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, recording.ErrRecording) || errors.Is(err, recording.ErrIncomplete) != c.incomplete {
			t.Errorf("%s: got %v, want %q (incomplete: %v)", c.name, err, c.want, c.incomplete)
		}
	}
}

// refresh rewrites the checksum of every chunk of rec (after a test has
// changed a payload on purpose).
func refresh(t *testing.T, rec []byte) {
	t.Helper()
	for off := 0; off < len(rec); {
		if string(rec[off:off+4]) != chunkMagic {
			t.Fatalf("no chunk at byte %d", off)
		}
		n := int(binary.LittleEndian.Uint32(rec[off+5:]))
		copy(rec[off:], appendChunk(nil, rec[off+4], rec[off+chunkHead:off+chunkHead+n])[:chunkHead])
		off += chunkHead + n
	}
}

// chunkSpan is where a chunk lies in a recording.
type chunkSpan struct {
	kind       byte
	start, end int
	ticks      int // tick rows in it
}

// rechunk rewrites recording rec with at most per rows in each rows
// chunk (a test's run is too short for the writer to cut it into
// several) and returns it with its chunks.
func rechunk(t *testing.T, rec []byte, per int) ([]byte, []chunkSpan) {
	t.Helper()
	kinds, payloads, err := chunks(rec)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var spans []chunkSpan
	emit := func(kind byte, payload []byte, ticks int) {
		start := len(out)
		out = appendChunk(out, kind, payload)
		spans = append(spans, chunkSpan{kind, start, len(out), ticks})
	}
	for c, kind := range kinds {
		payload := payloads[c]
		if kind != chunkRows {
			emit(kind, payload, 0)
			continue
		}
		start, rows, ticks := 0, 0, 0
		for b := payload; len(b) > 0; {
			row := len(payload) - len(b)
			n, rest, err := msgp.ReadArrayHeaderBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			_, rest, _ = msgp.ReadInt64Bytes(rest)
			if msgp.NextType(rest) != msgp.StrType {
				ticks++
			}
			if b, err = msgp.Skip(b); err != nil {
				t.Fatal(err)
			}
			_ = n
			if rows++; rows == per {
				emit(kind, payload[start:len(payload)-len(b)], ticks)
				start, rows, ticks = len(payload)-len(b), 0, 0
			}
			_ = row
		}
		if rows > 0 {
			emit(kind, payload[start:], ticks)
		}
	}
	return out, spans
}

// recordDemoTicks is recordDemo with the live spikes of each tick, and a
// command at tick 7 (so that command rows are cut too).
func recordDemoTicks(t *testing.T, ticks int64) ([]byte, [][]apu.Spike) {
	t.Helper()
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var live [][]apu.Spike
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1, Record: &buf,
		AfterTick: func(d *Daemon, k int64) {
			live = append(live, append([]apu.Spike(nil), d.rec.Spikes...))
			if k == 6 {
				d.ctl <- &ctlRequest{kind: telemetry.KindDCAmplitude, pop: "search", values: []float64{3000}, done: func(error) {}}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), live
}

// TestRecordingCutAnywhere: a recording cut at every byte offset scans
// to exactly the tick rows of its complete chunks, says where it
// stopped, and replays them: the live run's spikes of those ticks.
func TestRecordingCutAnywhere(t *testing.T) {
	rec, live := recordDemoTicks(t, 40)
	rec, spans := rechunk(t, rec, 3)
	if len(spans) < 10 {
		t.Fatalf("%d chunks", len(spans))
	}
	var flat []apu.Spike
	for _, s := range live {
		flat = append(flat, s...)
	}
	if len(flat) == 0 {
		t.Fatal("no spikes in the live run")
	}
	start := time.Now()
	for n := 0; n <= len(rec); n++ {
		// The tick rows of the chunks wholly before n.
		want, complete := 0, false
		for _, c := range spans {
			if c.end <= n {
				want += c.ticks
				complete = c.kind == chunkEnd
			}
		}
		segs, err := recording.Scan(bytes.NewReader(rec[:n]))
		switch {
		case n < spans[0].end:
			if len(segs) != 0 || err == nil || errors.Is(err, recording.ErrIncomplete) {
				t.Fatalf("cut at %d, in the header: %+v, %v", n, segs, err)
			}
			continue
		case complete:
			if err != nil || len(segs) != 1 || segs[0].Ticks != 40 || !segs[0].Complete {
				t.Fatalf("cut at %d, the whole: %+v, %v", n, segs, err)
			}
		default:
			if len(segs) != 1 || int(segs[0].Ticks) != want || segs[0].Complete || !errors.Is(err, recording.ErrIncomplete) ||
				!strings.Contains(err.Error(), fmt.Sprintf("recording: segment 1 stops %s: ", stopsAt(want))) {
				t.Fatalf("cut at %d: %+v, %v; want %d ticks and where it stopped", n, segs, err, want)
			}
			if cutInside := n > 0 && !slices.ContainsFunc(spans, func(c chunkSpan) bool { return c.end == n }); cutInside !=
				strings.Contains(err.Error(), "the file ends inside the chunk at byte") {
				t.Fatalf("cut at %d: %v", n, err)
			}
		}
		spikes, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec[:n]))
		if complete != (err == nil) || !complete && !errors.Is(err, recording.ErrIncomplete) {
			t.Fatalf("replay cut at %d: %v", n, err)
		}
		var prefix []apu.Spike
		for _, s := range live[:want] {
			prefix = append(prefix, s...)
		}
		if !slices.Equal(spikes, prefix) {
			t.Fatalf("replay cut at %d: %d spikes, want the %d of the first %d ticks", n, len(spikes), len(prefix), want)
		}
	}
	t.Logf("%d bytes, %d chunks, %d spikes; every cut scanned and replayed in %v", len(rec), len(spans), len(flat), time.Since(start))
}

func stopsAt(ticks int) string {
	if ticks == 0 {
		return "before its first tick"
	}
	return fmt.Sprintf("after %d ticks (up to tick %d)", ticks, ticks-1)
}

// TestRecordingDamagedChunk: a byte changed in a middle chunk (its
// payload or its length) is caught by the checksum: the scan and the
// replay stop before that chunk and say so.
func TestRecordingDamagedChunk(t *testing.T) {
	rec, live := recordDemoTicks(t, 40)
	rec, spans := rechunk(t, rec, 3)
	mid := len(spans) / 2
	want := 0
	for _, c := range spans[:mid] {
		want += c.ticks
	}
	for _, at := range []int{spans[mid].start + chunkHead + 5, spans[mid].start + 6, spans[mid].end - 1, spans[mid].start + 1} {
		bad := append([]byte(nil), rec...)
		bad[at] ^= 0x10
		segs, err := recording.Scan(bytes.NewReader(bad))
		if len(segs) != 1 || int(segs[0].Ticks) != want || !errors.Is(err, recording.ErrIncomplete) ||
			!strings.Contains(err.Error(), fmt.Sprintf("segment 1 stops after %d ticks (up to tick %d): the chunk at byte %d is damaged (", want, want-1, spans[mid].start)) {
			t.Fatalf("byte %d changed: %+v, %v", at, segs, err)
		}
		spikes, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(bad))
		var prefix []apu.Spike
		for _, s := range live[:want] {
			prefix = append(prefix, s...)
		}
		if !errors.Is(err, recording.ErrIncomplete) || !slices.Equal(spikes, prefix) {
			t.Fatalf("byte %d changed: replay %d spikes (want %d), %v", at, len(spikes), len(prefix), err)
		}
		t.Logf("byte %d changed: %v", at, err)
	}
}

// TestRecordingSegmentsCutLast: a recording of several runs whose last
// segment is cut short (the daemon killed during a run after reloads)
// replays every complete segment, and the last one up to the cut.
func TestRecordingSegmentsCutLast(t *testing.T) {
	var all []byte
	var lives [][][]apu.Spike
	for i := 0; i < 3; i++ {
		rec, live := recordDemoTicks(t, int64(30+10*i))
		rec, _ = rechunk(t, rec, 4)
		all = append(all, rec...)
		lives = append(lives, live)
	}
	cut := all[:len(all)-40] // into the last segment's rows
	segs, err := recording.Scan(bytes.NewReader(cut))
	if len(segs) != 3 || !segs[0].Complete || !segs[1].Complete || segs[2].Complete || segs[2].Ticks == 0 || segs[2].Ticks >= 50 ||
		!errors.Is(err, recording.ErrIncomplete) || !strings.Contains(err.Error(), "recording: segment 3 stops after") {
		t.Fatalf("%+v, %v", segs, err)
	}
	for i, s := range segs {
		spikes, err := ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(cut), i)
		if (err == nil) != s.Complete {
			t.Fatalf("segment %d: %v", i+1, err)
		}
		var want []apu.Spike
		for _, sp := range lives[i][:s.Ticks] {
			want = append(want, sp...)
		}
		if !slices.Equal(spikes, want) {
			t.Fatalf("segment %d: %d spikes, want %d", i+1, len(spikes), len(want))
		}
	}
	// A segment without its end chunk followed by another (a run killed,
	// then the daemon restarted on the same file with O_APPEND) replays
	// too, and so does the next.
	first, _ := recordDemoTicks(t, 30)
	_, spans := rechunk(t, first, 1000)
	joined := append(append([]byte(nil), first[:spans[len(spans)-1].start]...), first...)
	segs, err = recording.Scan(bytes.NewReader(joined))
	if len(segs) != 2 || segs[0].Complete || segs[0].Ticks != 30 || !segs[1].Complete || !errors.Is(err, recording.ErrIncomplete) ||
		!strings.Contains(err.Error(), "segment 1 stops after 30 ticks (up to tick 29): the segment has no end chunk") {
		t.Fatalf("a segment without its end chunk: %+v, %v", segs, err)
	}
	if _, err := ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(joined), 1); err != nil {
		t.Fatal(err)
	}
}

// fullDisk is a writer that takes left bytes, then fails as a full disk
// does (a short write, then ENOSPC). With a file it truncates and seeks
// like one.
type fullDisk struct {
	*os.File
	left int
}

func (w *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= w.left {
		w.left -= len(b)
		return w.File.Write(b)
	}
	n, _ := w.File.Write(b[:w.left])
	w.left = 0
	return n, syscall.ENOSPC
}

// pipeDisk is fullDisk without Seek and Truncate (a pipe, a socket).
type pipeDisk struct{ w *fullDisk }

func (p pipeDisk) Write(b []byte) (int, error) { return p.w.Write(b) }

// TestRecordingFullDisk: a write that fails (a full disk) is logged at
// once; the loop runs on; every row not written is counted once; the
// file replays up to the failure (truncated back to the last complete
// chunk when it can be, cut inside a chunk when not).
func TestRecordingFullDisk(t *testing.T) {
	for _, mode := range []string{"file", "pipe", "tmpfs"} {
		t.Run(mode, func(t *testing.T) {
			cfg, err := quietDemo()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if mode == "tmpfs" {
				// A real full disk: a 16 KiB tmpfs (needs the right to
				// mount; the fault-injected writers cover the rest).
				if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir).CombinedOutput(); err != nil {
					t.Skipf("cannot mount a tmpfs (%v: %s); the file and pipe cases inject the fault instead", err, bytes.TrimSpace(out))
				}
				t.Cleanup(func() { exec.Command("umount", dir).Run() })
			}
			f, err := os.Create(filepath.Join(dir, "run.rec"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seekable := mode != "pipe"
			disk := &fullDisk{File: f, left: 15000}
			var w io.Writer = disk
			switch mode {
			case "pipe":
				w = pipeDisk{disk}
			case "tmpfs":
				w = f
			}
			var logs syncBuffer
			log := zerolog.New(&logs)
			const ticks = 2000
			var live [][]apu.Spike
			loggedAt := int64(-1)
			d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: &log, Ticks: ticks, SummaryEvery: -1, Record: w, NoTelemetry: true,
				AfterTick: func(d *Daemon, k int64) {
					live = append(live, append([]apu.Spike(nil), d.rec.Spikes...))
					if k%10 == 9 {
						// Let the writer poll: the fake clock runs
						// the loop faster than time passes.
						time.Sleep(5 * time.Millisecond)
					}
					if loggedAt < 0 && strings.Contains(logs.String(), "recording: write failed") {
						loggedAt = k
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d.Stats().Ticks != ticks || d.Stats().Skipped != 0 {
				t.Fatalf("the loop ran %d ticks (%d skipped), want %d", d.Stats().Ticks, d.Stats().Skipped, ticks)
			}
			if loggedAt < 0 || loggedAt > ticks-300 {
				t.Fatalf("the failed write was logged at tick %d, not at once:\n%s", loggedAt, logs.String())
			}
			data, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if seekable && len(data) >= 16<<10 || !seekable && len(data) != 15000 {
				t.Fatalf("%d bytes in the file", len(data))
			}
			segs, err := recording.Scan(bytes.NewReader(data))
			if len(segs) != 1 || segs[0].Ticks == 0 || !errors.Is(err, recording.ErrIncomplete) {
				t.Fatalf("%+v, %v", segs, err)
			}
			if seekable != !strings.Contains(err.Error(), "inside the chunk") {
				t.Errorf("scan: %v", err)
			}
			recorded := segs[0].Ticks
			// Exactly the rows not written are counted, once each.
			var last struct {
				Level    string `json:"level"`
				Dropped  int64  `json:"dropped"`
				FromTick int64  `json:"from_tick"`
				Recorded int64  `json:"ticks_recorded"`
				Cause    string `json:"cause"`
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(line, "recording: rows not recorded") {
					if err := json.Unmarshal([]byte(line), &last); err != nil {
						t.Fatal(err)
					}
				}
			}
			if last.Dropped != ticks-recorded || last.FromTick != recorded || last.Recorded != recorded ||
				!strings.HasPrefix(last.Cause, "write failed: ") || !strings.HasSuffix(last.Cause, "no space left on device") || last.Level != "error" {
				t.Fatalf("logged %+v; want %d rows dropped from tick %d", last, ticks-recorded, recorded)
			}
			spikes, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(data))
			var want []apu.Spike
			for _, s := range live[:recorded] {
				want = append(want, s...)
			}
			if !errors.Is(err, recording.ErrIncomplete) || !slices.Equal(spikes, want) {
				t.Fatalf("replay: %d spikes, want %d; %v", len(spikes), len(want), err)
			}
			t.Logf("%d of %d ticks recorded in %d bytes, %d dropped, logged at tick %d; scan: %v", recorded, ticks, len(data), last.Dropped, loggedAt, err)
		})
	}
}
