package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/npy"
	"github.com/spikeloop/spikeloop/recording"
)

// fileNet is a network with an InputTransmitter "in" of two units in
// spike mode driving two LIF neurons, and Poisson noise (so that the
// network's seed matters too); dt 0.1 ms, so a 1 ms tick is 10 steps.
const fileNet = `version: 1
dt: 0.1
duration: 6.0
seed: 4
populations:
  in: {model: InputTransmitter, size: 2, params: {batch_first: %v}}
  noise: {model: PoissonGenerator, size: 2, params: {rate: 2000.0}}
  x: {model: LIF, size: 2, params: {tau_ref: null, V_reset: null}}
synapses:
  - {pre: in, post: x, conn: {rule: one_to_one}, weight: 9.0}
  - {pre: noise, post: x, conn: {rule: one_to_one}, weight: 4.0}
monitors:
  - {population: x, record: [spikes]}
`

// fileConfig is a daemon config feeding "in" from FILE.
const fileConfig = `board:
  driver: sim
network: net.yaml
tick: 1ms
inputs:
  - name: stim
    population: in
    encoder: file
    file: FILE
`

// fileRowsData is an input of T = 25 steps (not a whole number of
// 10-step ticks) and F = 2: a spike pattern that differs per unit.
func fileRowsData() []float64 {
	x := make([]float64, 25*2)
	for k := range 25 {
		if k%3 == 0 {
			x[2*k] = 1
		}
		if k%4 == 1 {
			x[2*k+1] = 1
		}
	}
	return x
}

func writeNpy64(t *testing.T, path string, shape []int, data []float64) {
	t.Helper()
	var b bytes.Buffer
	if err := npy.Write64(&b, shape, data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fileSetup writes the network (batch_first as given), the input file
// name with content (npy shape and data, or the csv text when shape is
// nil) and the config with extra appended to the input; it returns the
// config's path.
func fileSetup(t *testing.T, batchFirst bool, name string, shape []int, data []float64, csv, extra string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "net.yaml", fmt.Appendf(nil, fileNet, batchFirst))
	if shape != nil {
		writeNpy64(t, filepath.Join(dir, name), shape, data)
	} else {
		write(t, dir, name, []byte(csv))
	}
	return write(t, dir, "spikeloop.yaml", []byte(strings.Replace(fileConfig, "FILE", name, 1)+extra))
}

// runFileDaemon runs the config at path on the fake clock for ticks
// (0: until it stops by itself), recording it when rec is not nil, and
// returns the spikes of every tick and the number of ticks run.
func runFileDaemon(t *testing.T, path string, ticks int64, rec *bytes.Buffer) ([]apu.Spike, int64) {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var spikes []apu.Spike
	opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) { spikes = append(spikes, d.TickSpikes()...) }}
	if rec != nil {
		opts.Record = rec
	}
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return spikes, d.Stats().Ticks
}

// spikeCatcher is the cpu engine keeping every spike offline.Run drains.
type spikeCatcher struct {
	*cpu.Engine
	spikes []apu.Spike
}

func (c *spikeCatcher) Drain(r *apu.Record) {
	c.Engine.Drain(r)
	c.spikes = append(c.spikes, r.Spikes...)
}

// simSpikes runs the network of the config at path through offline.Run
// (what spikeloop sim runs) for steps, with in fed from the array: the
// spikes spikeloop sim --input writes.
func simSpikes(t *testing.T, path string, a models.InputArray, steps int) []apu.Spike {
	t.Helper()
	dir := filepath.Dir(path)
	data, err := os.ReadFile(filepath.Join(dir, "net.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := models.Load(data, filepath.Join(dir, "net.yaml"), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	net.Duration = float64(steps) * net.Dt
	b := &spikeCatcher{Engine: cpu.New()}
	_, err = offline.Run(net, b, offline.Options{OutDir: t.TempDir(), Arrays: map[string]offline.Array{"in": a}})
	if err != nil {
		t.Fatal(err)
	}
	return b.spikes
}

func sameSpikeLists(t *testing.T, what string, got, want []apu.Spike) {
	t.Helper()
	if len(want) < 5 {
		t.Fatalf("%s: sim gives %d spikes: too few to compare", what, len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: the daemon gives %d spikes, sim %d:\n%v\nwant\n%v", what, len(got), len(want), got, want)
	}
}

// TestFileInputMatchesSim: a daemon run with a file input gives the
// spikes of spikeloop sim with the same file on the same network, for
// the shapes (T, F) in .npy and .csv, (T, B, F) and (B, T, F) with
// batch_index, and (F,); and each at_end choice does what it says.
func TestFileInputMatchesSim(t *testing.T) {
	x := fileRowsData()
	tf := models.InputArray{Shape: []int{25, 2}, Data: x}

	// at_end stop (the default): the loop stops by itself before the
	// tick that would start past row 25: ticks 0..2, the last with 5
	// rows and 5 steps of nothing.
	path := fileSetup(t, false, "in.npy", []int{25, 2}, x, "", "")
	got, ticks := runFileDaemon(t, path, 0, nil)
	if ticks != 3 {
		t.Errorf("at_end stop: %d ticks ran, want 3 (25 rows of 10-step ticks)", ticks)
	}
	want := simSpikes(t, path, tf, 30)
	sameSpikeLists(t, "npy (T, F), at_end stop", got, want)

	// The same rows in a .csv.
	var csv strings.Builder
	for k := range 25 {
		fmt.Fprintf(&csv, "%g,%g\n", x[2*k], x[2*k+1])
	}
	path = fileSetup(t, false, "in.csv", nil, nil, csv.String(), "    at_end: stop\n")
	got, _ = runFileDaemon(t, path, 0, nil)
	sameSpikeLists(t, "csv (T, F)", got, want)

	// at_end zeros: the loop runs on with no input, as sim past the
	// file's last row.
	path = fileSetup(t, false, "in.npy", []int{25, 2}, x, "", "    at_end: zeros\n")
	got, ticks = runFileDaemon(t, path, 6, nil)
	if ticks != 6 {
		t.Errorf("at_end zeros: %d ticks, want 6", ticks)
	}
	wantZeros := simSpikes(t, path, tf, 60)
	sameSpikeLists(t, "at_end zeros", got, wantZeros)
	// Past row 25 only the noise drives x: fewer spikes than with the
	// file repeated.

	// at_end repeat: row k mod 25, which sim gives with the file
	// written out four times.
	path = fileSetup(t, false, "in.npy", []int{25, 2}, x, "", "    at_end: repeat\n")
	got, _ = runFileDaemon(t, path, 6, nil)
	tiled := slices.Concat(x, x, x)
	wantRepeat := simSpikes(t, path, models.InputArray{Shape: []int{75, 2}, Data: tiled}, 60)
	sameSpikeLists(t, "at_end repeat", got, wantRepeat)
	if slices.Equal(wantRepeat, wantZeros) {
		t.Error("repeat and zeros give the same spikes: the test cannot tell them apart")
	}

	// A batch of 3, (T, B, F): batch_index 1 feeds element 1, which is
	// what sim's trial 2 gets.
	var tbf, btf []float64
	elem := func(b, k, f int) float64 { // element b is x shifted by b steps
		return x[((k+b)%25)*2+f]
	}
	for k := range 25 {
		for b := range 3 {
			tbf = append(tbf, elem(b, k, 0), elem(b, k, 1))
		}
	}
	for b := range 3 {
		for k := range 25 {
			btf = append(btf, elem(b, k, 0), elem(b, k, 1))
		}
	}
	var one []float64
	for k := range 25 {
		one = append(one, elem(1, k, 0), elem(1, k, 1))
	}
	wantOne := simSpikes(t, path, models.InputArray{Shape: []int{25, 2}, Data: one}, 30)
	path = fileSetup(t, false, "in.npy", []int{25, 3, 2}, tbf, "", "    batch_index: 1\n")
	got, _ = runFileDaemon(t, path, 0, nil)
	sameSpikeLists(t, "(T, B, F) batch_index 1", got, wantOne)
	path = fileSetup(t, true, "in.npy", []int{3, 25, 2}, btf, "", "    batch_index: 1\n")
	got, _ = runFileDaemon(t, path, 0, nil)
	sameSpikeLists(t, "(B, T, F) batch_index 1", got, wantOne)
	if slices.Equal(wantOne, want) {
		t.Error("batch elements 0 and 1 give the same spikes: the test cannot tell them apart")
	}

	// (F,): step 0 only; at_end zeros runs on.
	path = fileSetup(t, false, "in.npy", []int{2}, []float64{1, 1}, "", "    at_end: zeros\n")
	got, _ = runFileDaemon(t, path, 6, nil)
	sameSpikeLists(t, "(F,)", got, simSpikes(t, path, models.InputArray{Shape: []int{2}, Data: []float64{1, 1}}, 60))
}

// TestFileInputReplays: a recorded run with a file input replays to the
// live spikes without the input file (its rows are in the recording's
// header, the tick's first step is each tick's value).
func TestFileInputReplays(t *testing.T) {
	path := fileSetup(t, false, "in.npy", []int{25, 2}, fileRowsData(), "", "    at_end: repeat\n")
	var rec bytes.Buffer
	live, _ := runFileDaemon(t, path, 7, &rec)
	netData, err := os.ReadFile(filepath.Join(filepath.Dir(path), "net.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(path), "in.npy")); err != nil {
		t.Fatal(err)
	}
	replay, err := Replay(netData, "net.yaml", bytes.NewReader(rec.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
	segs, err := recording.Scan(bytes.NewReader(rec.Bytes()))
	if err != nil || len(segs) != 1 || segs[0].Ticks != 7 {
		t.Errorf("scan: %+v, %v; want one segment of 7 ticks", segs, err)
	}
}

// TestFileInputReset: the reset command takes the network back to
// t = 0, and the file input with it: the ticks after a reset give the
// spikes of the first ticks.
func TestFileInputReset(t *testing.T) {
	path := fileSetup(t, false, "in.npy", []int{25, 2}, fileRowsData(), "", "    at_end: zeros\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var ticks [][]apu.Spike
	opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 7, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) {
			ticks = append(ticks, slices.Clone(d.TickSpikes()))
			if k == 3 {
				if err := d.resetNetwork(); err != nil {
					t.Error(err)
				}
			}
		}}
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Ticks 4, 5, 6 run steps 0..29 again.
	sameSpikeLists(t, "after reset", slices.Concat(ticks[4:7]...), slices.Concat(ticks[0:3]...))
}

// TestFileInputConfigErrors: each problem of a file input is reported
// with the config's file and line, the field, and what to do.
func TestFileInputConfigErrors(t *testing.T) {
	x := fileRowsData()
	cases := []struct {
		name       string
		batchFirst bool
		file       string
		shape      []int
		data       []float64
		csv        string
		extra      string // appended to the input
		edit       func(string) string
		want       []string
		sentinel   error
	}{
		{name: "missing file", file: "in.npy", shape: []int{25, 2}, data: x,
			edit: func(s string) string { return strings.Replace(s, "file: in.npy", "file: nothere.npy", 1) },
			want: []string{`:9: inputs[0].file: "nothere.npy": no such file (looked for `}, sentinel: ErrNotFound},
		{name: "no file", file: "in.npy", shape: []int{25, 2}, data: x,
			edit: func(s string) string { return strings.Replace(s, "    file: in.npy\n", "", 1) },
			want: []string{`:6: inputs[0].file: must be the path of a .npy or .csv file with encoder file, got nothing`}, sentinel: ErrRequired},
		{name: "features differ from size", file: "in.npy", shape: []int{10, 5}, data: make([]float64, 50),
			want: []string{`:9: inputs[0].file: "in.npy" for population "in" of 2 units: input shape [10 5]: the last dimension is the features and must equal size 2`}, sentinel: ErrMismatch},
		{name: "rank 4", file: "in.npy", shape: []int{2, 2, 2, 2}, data: make([]float64, 16),
			want: []string{`inputs[0].file: "in.npy" for population "in" of 2 units: input shape: must be (F,), (T, F), (T, B, F) or with batch_first (B, T, F), got [2 2 2 2]`}, sentinel: ErrMismatch},
		{name: "batch of 3", file: "in.npy", shape: []int{25, 3, 2}, data: make([]float64, 150),
			want: []string{`:9: inputs[0].file: "in.npy" has shape [25 3 2], read as (T, B, F) since batch_first is false: a batch of 3; the daemon runs one network: set batch_index (0..2) to feed one element, or run the whole batch offline with spikeloop sim --input in=FILE (one trial per element)`}, sentinel: ErrMismatch},
		{name: "batch first", batchFirst: true, file: "in.npy", shape: []int{4, 25, 2}, data: make([]float64, 200),
			want: []string{`"in.npy" has shape [4 25 2], read as (B, T, F) since batch_first is true: a batch of 4;`}, sentinel: ErrMismatch},
		{name: "batch_index out of range", file: "in.npy", shape: []int{25, 3, 2}, data: make([]float64, 150), extra: "    batch_index: 3\n",
			want: []string{`:10: inputs[0].batch_index: must be 0..2 ("in.npy", shape [25 3 2], holds a batch of 3), got 3`}, sentinel: ErrRange},
		{name: "batch_index of an unbatched file", file: "in.npy", shape: []int{25, 2}, data: x, extra: "    batch_index: 1\n",
			want: []string{`inputs[0].batch_index: must be 0..0 ("in.npy", shape [25 2], holds a batch of 1), got 1`}, sentinel: ErrRange},
		{name: "no rows", file: "in.npy", shape: []int{0, 2}, data: nil,
			want: []string{`inputs[0].file: must have at least one row (step), got "in.npy" of shape [0 2]`}, sentinel: ErrInvalid},
		{name: "csv not a number", file: "in.csv", csv: "1,0\n0,x\n",
			want: []string{`:9: inputs[0].file: `, `in.csv:2: column 2: must be a number, got "x"`}, sentinel: ErrInvalid},
		{name: "csv ragged", file: "in.csv", csv: "1,0\n0\n",
			want: []string{`in.csv:2: 1 columns, earlier rows have 2`}, sentinel: ErrInvalid},
		{name: "unknown format", file: "in.txt", csv: "1,0\n",
			want: []string{`in.txt: extension: must be .csv or .npy (the input format), got ".txt"`}, sentinel: ErrInvalid},
		{name: "bad at_end", file: "in.npy", shape: []int{25, 2}, data: x, extra: "    at_end: loop\n",
			want: []string{`:10: inputs[0].at_end: must be "stop" (default), "repeat" or "zeros", got "loop"`}, sentinel: ErrInvalid},
		{name: "a part", file: "in.npy", shape: []int{25, 2}, data: x, extra: "    part: light_left\n",
			want: []string{`:10: inputs[0].part: "light_left"; encoder file reads no board part: leave part out`}, sentinel: ErrInvalid},
		{name: "a gain", file: "in.npy", shape: []int{25, 2}, data: x, extra: "    gain: 2\n",
			want: []string{`:10: inputs[0].gain: set with encoder file, which feeds the file's values as they are (as spikeloop sim --input does); leave gain out`}, sentinel: ErrInvalid},
		{name: "not an InputTransmitter", file: "in.npy", shape: []int{25, 2}, data: x,
			edit: func(s string) string { return strings.Replace(s, "population: in", "population: x", 1) },
			want: []string{`:7: inputs[0].population: must be an InputTransmitter for encoder file, got "x" (class LIF)`}, sentinel: ErrMismatch},
		{name: "file with another encoder", file: "in.npy", shape: []int{25, 2}, data: x,
			edit: func(s string) string {
				return strings.Replace(s, "encoder: file", "encoder: current\n    part: button", 1)
			},
			want: []string{`inputs[0].file: set with encoder "current"; file, at_end and batch_index belong to encoder file`}, sentinel: ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := fileSetup(t, c.batchFirst, c.file, c.shape, c.data, c.csv, c.extra)
			if c.shape != nil && c.data == nil {
				writeNpy64(t, filepath.Join(filepath.Dir(path), c.file), c.shape, []float64{})
			}
			if c.edit != nil {
				b, _ := os.ReadFile(path)
				write(t, filepath.Dir(path), "spikeloop.yaml", []byte(c.edit(string(b))))
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in\n%v", w, err)
				}
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("the message does not start with the config's path %s:\n%v", path, err)
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("not %v: %v", c.sentinel, err)
			}
		})
	}
}

// TestCheckConfigFileInput: spikeloop check --config shows the file
// input with its rows and what happens at the end.
func TestCheckConfigFileInput(t *testing.T) {
	path := fileSetup(t, false, "in.npy", []int{25, 3, 2}, make([]float64, 150), "", "    batch_index: 2\n    at_end: repeat\n")
	var out bytes.Buffer
	if err := CheckConfig(path, &out); err != nil {
		t.Fatal(err)
	}
	want := "stim  in.npy -> in  file: 25 rows of 2 values, one per network step (2.5 ms), batch element 2; then again from row 0"
	if !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, out.String())
	}
}

// TestFileInputAllocatesNothingPerTick: the file encoder keeps the
// loop's promise of no allocation per tick.
func TestFileInputAllocatesNothingPerTick(t *testing.T) {
	path := fileSetup(t, false, "in.npy", []int{25, 2}, fileRowsData(), "", "    at_end: repeat\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.figs = handoff.New[Figures](8)
	clock := d.clock.(*FakeClock)
	tick := func() {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	}
	for range 500 {
		tick()
	}
	if allocs := testing.AllocsPerRun(500, tick); allocs != 0 {
		t.Errorf("%v allocations per tick, want 0", allocs)
	}
}
