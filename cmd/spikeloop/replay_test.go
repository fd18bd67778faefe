package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/daemon"
)

// liveRun runs the demo config through daemon.Run on the fake clock for
// ticks ticks, appending its recording to rec, and returns the spikes
// the live engine recorded, as spikes.csv rows (population,neuron,time)
// in that file's order.
func liveRun(t *testing.T, cfgText string, ticks int64, rec *os.File) []string {
	t.Helper()
	_, net := daemon.DemoFiles()
	cfg, err := daemon.Parse([]byte(cfgText), "demo.yaml", net)
	if err != nil {
		t.Fatal(err)
	}
	nop := zerolog.Nop()
	var live []apu.Spike
	opts := daemon.Options{Clock: &daemon.FakeClock{}, Logger: &nop, Ticks: ticks, SummaryEvery: -1, Record: rec, NoTelemetry: true,
		AfterTick: func(d *daemon.Daemon, k int64) { live = append(live, d.TickSpikes()...) }}
	if err := daemon.Run(context.Background(), cfg, opts); err != nil {
		t.Fatal(err)
	}
	pops := cfg.LoadedNetwork().Populations
	dt := cfg.LoadedNetwork().Dt
	slices.SortFunc(live, func(a, b apu.Spike) int {
		return cmp.Or(cmp.Compare(a.Stamp, b.Stamp), strings.Compare(pops[a.Pop].Name, pops[b.Pop].Name), cmp.Compare(a.Neuron, b.Neuron))
	})
	rows := make([]string, len(live))
	for i, s := range live {
		rows[i] = pops[s.Pop].Name + "," + strconv.Itoa(int(s.Neuron)) + "," + strconv.FormatFloat(offline.Time(s.Stamp, dt), 'g', -1, 64)
	}
	if len(rows) == 0 {
		t.Fatal("the live run has no spikes: nothing would be compared")
	}
	return rows
}

// replayRows runs `spikeloop sim NET --replay REC` with extra flags and
// returns the rows of its spikes.csv.
func replayRows(t *testing.T, net, rec string, extra ...string) ([]string, string) {
	t.Helper()
	out := t.TempDir()
	code, stdout, errs := runCmd(t, append([]string{"sim", net, "--out", out, "--replay", rec, "--quiet"}, extra...)...)
	if code != 0 {
		t.Fatalf("sim --replay: exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(filepath.Join(out, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "population,neuron,time_ms" {
		t.Fatalf("spikes.csv header %q", lines[0])
	}
	return lines[1:], stdout
}

func sameRows(t *testing.T, live, replay []string) {
	t.Helper()
	if len(replay) != len(live) {
		t.Fatalf("replay wrote %d spikes, the live run had %d", len(replay), len(live))
	}
	for i := range live {
		if live[i] != replay[i] {
			t.Fatalf("spike %d: live %q, replay %q", i, live[i], replay[i])
		}
	}
}

func demoNet(t *testing.T) string {
	t.Helper()
	_, net := daemon.DemoFiles()
	file := filepath.Join(t.TempDir(), "braitenberg.yaml")
	if err := os.WriteFile(file, net, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSimReplayMatchesLiveRun: a live run of the demo through
// daemon.Run, recorded, replayed by `spikeloop sim --replay`, writes
// the live run's spikes into spikes.csv, bit for bit.
func TestSimReplayMatchesLiveRun(t *testing.T) {
	dir := t.TempDir()
	recFile := filepath.Join(dir, "run.rec")
	f, err := os.Create(recFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := daemon.DemoFiles()
	live := liveRun(t, string(cfg), 2500, f)
	f.Close()
	net := demoNet(t)
	replay, stdout := replayRows(t, net, recFile)
	sameRows(t, live, replay)
	if !strings.Contains(stdout, "replayed segment 1 of 1 of "+recFile+": 2500 ticks of 1ms") ||
		!strings.Contains(stdout, "simulated 2500 ms (25000 steps)") {
		t.Errorf("stdout: %s", stdout)
	}
	// --duration equal to the recording's length is accepted.
	replay, _ = replayRows(t, net, recFile, "--duration", "2.5s")
	sameRows(t, live, replay)
}

// TestSimReplaySegments: two runs appended to one recording (as under
// Serve, where each reload starts a run) are segments 1 and 2; each
// replays to its own run's spikes, and an out-of-range --segment says
// how many there are.
func TestSimReplaySegments(t *testing.T) {
	dir := t.TempDir()
	recFile := filepath.Join(dir, "run.rec")
	f, err := os.Create(recFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := daemon.DemoFiles()
	live1 := liveRun(t, string(cfg), 700, f)
	other := strings.Replace(string(cfg), "seed: 3", "seed: 9", 1)
	if other == string(cfg) {
		t.Fatal("the demo config changed; update this test's replacement")
	}
	live2 := liveRun(t, other, 1200, f)
	f.Close()
	net := demoNet(t)

	out := t.TempDir()
	code, _, errs := runCmd(t, "sim", net, "--out", out, "--replay", recFile, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "holds 2 runs (segments); replaying the first, --segment N picks another") {
		t.Errorf("no note about the second segment: %q", errs)
	}
	replay, _ := replayRows(t, net, recFile, "--segment", "1")
	sameRows(t, live1, replay)
	replay, stdout := replayRows(t, net, recFile, "--segment", "2")
	sameRows(t, live2, replay)
	if !strings.Contains(stdout, "replayed segment 2 of 2") {
		t.Errorf("stdout: %s", stdout)
	}

	code, _, errs = runCmd(t, "sim", net, "--out", t.TempDir(), "--replay", recFile, "--segment", "3")
	if code != 2 || !strings.Contains(errs, "--segment: must be 1..2 ("+recFile+" has 2 segment(s)") {
		t.Errorf("--segment 3: exit %d, stderr %q", code, errs)
	}
}

func TestSimReplayErrors(t *testing.T) {
	dir := t.TempDir()
	recFile := filepath.Join(dir, "run.rec")
	f, err := os.Create(recFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, netData := daemon.DemoFiles()
	liveRun(t, string(cfg), 300, f)
	f.Close()
	rec, err := os.ReadFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("cut.rec", rec[:len(rec)*2/3])
	garbage := write("garbage.rec", []byte("this is not a recording\n"))
	empty := write("empty.rec", nil)
	net := demoNet(t)
	changed := write("changed.yaml", []byte(strings.Replace(string(netData), "amplitude: 500.0", "amplitude: 501.0", 1)))
	in := write("in.csv", []byte("1\n"))

	out := filepath.Join(dir, "out")
	cases := []struct {
		args []string
		code int
		want string
	}{
		// All 300 rows are in one chunk: cut, nothing replays.
		{[]string{"--replay", truncated}, 1, "--replay " + truncated + ": segment 1 holds no tick to replay: the file ends inside the chunk at byte "},
		{[]string{"--replay", truncated}, 1, "cut short"},
		{[]string{"--replay", garbage}, 1, "--replay " + garbage + ": not a spikeloop recording (no header)\n"},
		{[]string{"--replay", empty}, 1, "recording: the file is empty"},
		{[]string{"--replay", filepath.Join(dir, "none.rec")}, 1, "no such file"},
		{[]string{"--replay", recFile, "--input", "eye_left=" + in}, 2, "--input eye_left cannot be used with --replay"},
		{[]string{"--replay", recFile, "--duration", "1s"}, 2, "--duration 1s differs from the recording's 300ms (300 ticks of 1ms)"},
		{[]string{"--replay", recFile, "--segment", "0"}, 2, "--segment: must be >= 1 (segments are numbered from 1), got 0"},
		{[]string{"--segment", "2"}, 2, "--segment: 2 needs --replay REC"},
		{[]string{"--replay", ""}, 2, "--replay needs a recording FILE"},
	}
	for _, c := range cases {
		args := append([]string{"sim", net, "--out", out}, c.args...)
		code, _, errs := runCmd(t, args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
	code, _, errs := runCmd(t, "sim", changed, "--out", out, "--replay", recFile)
	if code != 1 || !strings.Contains(errs, changed+" is not the network recorded in segment 1 (braitenberg.yaml)") {
		t.Errorf("another network: exit %d, stderr %q", code, errs)
	}
	// Nothing was written by the failed runs: the recording is checked
	// before the output folder is touched.
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output folder exists after failed replays: %v", err)
	}
}

// TestSimReplayCutRecording: a recording cut short (as by SIGKILL)
// replays its complete chunks, the live run's spikes of those ticks,
// with a warning that says where it stopped, and exits 0.
func TestSimReplayCutRecording(t *testing.T) {
	dir := t.TempDir()
	recFile := filepath.Join(dir, "run.rec")
	f, err := os.Create(recFile)
	if err != nil {
		t.Fatal(err)
	}
	cfgText, netData := daemon.DemoFiles()
	cfg, err := daemon.Parse(cfgText, "demo.yaml", netData)
	if err != nil {
		t.Fatal(err)
	}
	nop := zerolog.Nop()
	// The fake clock runs the loop faster than the writer polls: pause
	// now and then, so that the rows go out in several chunks.
	opts := daemon.Options{Clock: &daemon.FakeClock{}, Logger: &nop, Ticks: 1500, SummaryEvery: -1, Record: f, NoTelemetry: true,
		AfterTick: func(d *daemon.Daemon, k int64) {
			if k%20 == 19 {
				time.Sleep(2 * time.Millisecond)
			}
		}}
	if err := daemon.Run(context.Background(), cfg, opts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	whole, err := os.ReadFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	net := demoNet(t)
	live, _ := replayRows(t, net, recFile)
	cut := filepath.Join(dir, "cut.rec")
	if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, errs := runCmd(t, "sim", net, "--out", out, "--replay", cut, "--quiet")
	m := regexp.MustCompile(`replayed segment 1 of 1 of .*: (\d+) ticks of 1ms \(incomplete: the recording stops after tick (\d+)\)`).FindStringSubmatch(stdout)
	if code != 0 || m == nil || !strings.Contains(errs, "spikeloop sim: warning: --replay "+cut+": recording: segment 1 stops after "+m[1]+" ticks (up to tick "+m[2]+"): the file ends inside the chunk at byte ") ||
		!strings.Contains(errs, "segment 1 replays up to tick "+m[2]+", where the recording stops") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, errs)
	}
	ticks, _ := strconv.Atoi(m[1])
	if ticks == 0 || ticks >= 1500 {
		t.Fatalf("%d ticks replayed", ticks)
	}
	data, err := os.ReadFile(filepath.Join(out, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	replay := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:]
	var want []string
	for _, row := range live {
		ms, _ := strconv.ParseFloat(row[strings.LastIndexByte(row, ',')+1:], 64)
		// A spike of a tick's last step is stamped at the tick's end
		// (step k's spikes have time (k+1)*dt), so the last replayed
		// tick's spikes may sit exactly at ticks ms.
		if ms <= float64(ticks)+1e-9 {
			want = append(want, row)
		}
	}
	sameRows(t, want, replay)
	t.Logf("%d of 1500 ticks replayed, %d spikes; stderr: %s", ticks, len(replay), errs)
}

// TestSimDuration: --duration overrides the file's duration and must be
// a whole number of steps.
func TestSimDuration(t *testing.T) {
	starter := filepath.Join("..", "..", "examples", "starter.yaml")
	code, out, errs := runCmd(t, "sim", starter, "--out", t.TempDir(), "--quiet", "--duration", "20ms")
	if code != 0 || !strings.Contains(out, "simulated 20 ms (200 steps)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCmd(t, "sim", starter, "--out", t.TempDir(), "--duration", "20.05ms")
	if code != 2 || !strings.Contains(errs, "--duration: must be a whole number of steps of dt 0.1 ms, got 20.05ms") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestBenchLoop runs `spikeloop bench loop` for 200 ms at 1 kHz: the
// last line of stdout is the lateness line, with 200 ticks.
func TestBenchLoop(t *testing.T) {
	code, out, errs := runCmd(t, "bench", "loop", "--rate", "1000", "--duration", "200ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^lateness_us p50=(\d+) p99=(\d+) p999=(\d+) overruns=(\d+) ticks=(\d+)$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	if m[5] != "200" {
		t.Errorf("ticks=%s, want 200 (1000 Hz x 200 ms)", m[5])
	}
	p50, _ := strconv.Atoi(m[1])
	p99, _ := strconv.Atoi(m[2])
	p999, _ := strconv.Atoi(m[3])
	if p50 > p99 || p99 > p999 {
		t.Errorf("quantiles out of order: %s", last)
	}
	if !regexp.MustCompile(`max_lateness_us=\d+ max_step_us=\d+ step_p99_us=\d+ skipped=\d+`).MatchString(errs) {
		t.Errorf("no worst-tick line on stderr: %q", errs)
	}
	// Another rate: 2 kHz for 100 ms is 200 ticks too; spinning and
	// without telemetry.
	code, out, errs = runCmd(t, "bench", "loop", "--rate", "2000", "--duration", "100ms", "--spin", "100us", "--no-telemetry")
	if code != 0 || !strings.HasSuffix(out, " ticks=200\n") {
		t.Errorf("2 kHz: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestBenchLoopFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench"}, 2, `subcommand: must be "bench loop" or "bench engine", got nothing`},
		{[]string{"bench", "tick"}, 2, `subcommand: must be "bench loop" or "bench engine", got "tick"`},
		{[]string{"bench", "loop", "--rate", "0"}, 2, "--rate: must be a finite number of Hz > 0, got 0"},
		{[]string{"bench", "loop", "--rate", "-5"}, 2, "--rate: must be a finite number of Hz > 0, got -5"},
		{[]string{"bench", "loop", "--rate", "NaN"}, 2, "--rate: must be a finite number of Hz > 0, got NaN"},
		{[]string{"bench", "loop", "--rate", "Inf"}, 2, "--rate: must be a finite number of Hz > 0, got +Inf"},
		{[]string{"bench", "loop", "--duration", "0s"}, 2, "--duration: must be > 0, got 0s"},
		{[]string{"bench", "loop", "--duration", "-1s"}, 2, "--duration: must be > 0, got -1s"},
		{[]string{"bench", "loop", "--duration", "500us"}, 2, "--duration: must be at least one tick (1ms at --rate 1000), got 500µs"},
		{[]string{"bench", "loop", "--priority", "100"}, 2, "--priority: must be 1..99 (SCHED_FIFO) or 0 (normal scheduling), got 100"},
		{[]string{"bench", "loop", "--priority", "-1"}, 2, "--priority: must be 1..99 (SCHED_FIFO) or 0 (normal scheduling), got -1"},
		{[]string{"bench", "loop", "--cpu", "-2"}, 2, "--cpu: must be a CPU number 0..1023, or -1 for no pinning, got -2"},
		{[]string{"bench", "loop", "--cpu", "5000"}, 2, "--cpu: must be a CPU number 0..1023, or -1 for no pinning, got 5000"},
		{[]string{"bench", "loop", "--rate", "3000", "--duration", "10ms"}, 2, "--rate: 3000 Hz: a tick of 333.333µs does not fit the demo"},
		{[]string{"bench", "loop", "--rate", "3000"}, 2, "rates that fit: 20, 40, 80, 100, 200, 400, 500, 1000, 2000, 2500, 5000, 10000 Hz"},
		{[]string{"bench", "loop", "--rate", "fast"}, 2, `--rate: must be a number, got "fast"`},
		{[]string{"bench", "loop", "--duration", "60"}, 2, `--duration: must have a unit, e.g. 60ms or 60s, got "60"`},
		{[]string{"bench", "loop", "--spin", "200"}, 2, `--spin: must have a unit, e.g. 200ms or 200s, got "200"`},
		{[]string{"bench", "loop", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"bench", "loop", "--spin", "1ms"}, 2, "--spin: must be less than the tick (1ms), got 1ms"},
		{[]string{"bench", "loop", "--spin", "-1us"}, 2, "--spin: must be >= 0, got -1µs"},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
		// No file of the user's, and the flag itself, is named:
		// the demo's config is built in.
		if strings.Contains(errs, "demo.yaml") || strings.Contains(errs, "realtime.") {
			t.Errorf("%v: stderr %q cites the built-in demo's config", c.args, errs)
		}
	}
}

// TestUsageListsEveryCommand: the usage text names every subcommand,
// and each one it names is one the dispatcher knows.
func TestUsageListsEveryCommand(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			listed[strings.Fields(line)[0]] = true
		}
	}
	for _, cmd := range []string{"run", "sim", "check", "bench", "models", "version"} {
		if !listed[cmd] {
			t.Errorf("usage does not list %q:\n%s", cmd, out)
		}
	}
	for cmd := range listed {
		if _, _, errs := runCmd(t, cmd, "-h"); strings.Contains(errs, "unknown command") {
			t.Errorf("usage lists %q, which is an unknown command", cmd)
		}
	}
	// The bare command prints the same text on stderr, exit 2.
	if code, _, errs := runCmd(t); code != 2 || errs != out {
		t.Errorf("no arguments: exit %d, stderr differs from help", code)
	}
}
