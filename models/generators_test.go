package models_test

// Tests of the generators of docs/models/generators.md. Expected values are worked out
// by hand from the spec (or from an independent computation such as the
// Poisson CDF via Lgamma), never taken from the code's own output.

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// gtLoad loads a network file (YAML text) written to dir/net.yaml's path;
// dir may be "" for files that reference no other file.
func gtLoad(t *testing.T, dir, text string) (*models.Network, error) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return models.Load([]byte(text), filepath.Join(dir, "net.yaml"), models.NewRegistry(), models.DefaultLimits)
}

// gtGen loads a file with one population "g" and returns it as a Generator.
func gtGen(t *testing.T, dir, text string) models.Generator {
	t.Helper()
	net, err := gtLoad(t, dir, text)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, text)
	}
	p := net.Population("g")
	if p == nil {
		t.Fatalf("no population g")
	}
	g, ok := p.Model.(models.Generator)
	if !ok {
		t.Fatalf("population g is a %T, not a Generator", p.Model)
	}
	return g
}

// gtFile is a network file with one population g of the given model,
// size and params (a YAML flow mapping without braces).
func gtFile(dt, model string, size int, params string) string {
	s := "version: 1\ndt: " + dt + "\npopulations:\n  g:\n    model: " + model + "\n    size: " + strconv.Itoa(size) + "\n"
	if params != "" {
		s += "    params: {" + params + "}\n"
	}
	return s
}

// gtRun emits steps 0..steps-1 and returns a copy of every output.
func gtRun(g models.Generator, steps int) [][]float64 {
	out := make([][]float64, steps)
	for k := range out {
		out[k] = make([]float64, g.Size())
		g.Emit(int64(k), out[k])
	}
	return out
}

func gtEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// gtBuild builds a class directly with a caller-owned random stream, so
// that the test can count the draws.
func gtBuild(t *testing.T, class string, size int, dt float64, vals map[string]models.Value, rng *rand.Rand) models.Generator {
	t.Helper()
	c, ok := models.NewRegistry().Lookup(class)
	if !ok {
		t.Fatalf("no class %s", class)
	}
	p, err := c.Build(&models.Build{Pop: "g", Size: size, Dt: dt, Dir: t.TempDir(), Rand: rng, Values: vals, Class: c})
	if err != nil {
		t.Fatalf("build %s: %v", class, err)
	}
	return p.(models.Generator)
}

func gtList(xs ...float64) models.Value { return models.Value{IsList: true, Nums: xs} }
func gtNum(x float64) models.Value      { return models.Value{Num: x} }

// --- SpikeGenerator -----------------------------------------------------

func TestSpikeGeneratorStamps(t *testing.T) {
	// dt 0.1: t = 0.1 -> step 0, 0.5 (twice) -> step 4 with value 2,
	// 1.2 -> step 11, 100.0 -> step 999. Stamp of step k is (k+1)*dt = t.
	g := gtGen(t, "", gtFile("0.1", "SpikeGenerator", 2, "spike_times: [0.1, 0.5, 0.5, 1.2, 100.0]"))
	want := map[int]float64{0: 1, 4: 2, 11: 1, 999: 1}
	times := map[int]float64{0: 0.1, 4: 0.5, 11: 1.2, 999: 100.0}
	out := gtRun(g, 1200)
	for k, row := range out {
		for u, x := range row {
			if x != want[k] {
				t.Errorf("step %d unit %d: got %g, want %g", k, u, x, want[k])
			}
		}
		if want[k] != 0 {
			if stamp := float64(k+1) * 0.1; math.Abs(stamp-times[k]) > 1e-9 {
				t.Errorf("step %d carries stamp %g, listed time %g", k, stamp, times[k])
			}
		}
	}

	// A time far beyond any run is valid and never emitted (it must not
	// wrap around to a negative step and be rejected as before dt).
	g = gtGen(t, "", gtFile("0.5", "SpikeGenerator", 1, "spike_times: [0.5, 1e20]"))
	out1 := []float64{0}
	for _, k := range []int64{0, 1, 1 << 40, 1 << 62} {
		want := 0.0
		if k == 0 {
			want = 1
		}
		if g.Emit(k, out1); out1[0] != want {
			t.Errorf("spike_times [0.5, 1e20]: step %d: got %g, want %g", k, out1[0], want)
		}
	}

	// A coarser grid: dt 0.25, t = 0.25 -> step 0, 0.75 -> step 2, 2.0 -> step 7.
	g = gtGen(t, "", gtFile("0.25", "SpikeGenerator", 1, "spike_times: [0.25, 0.75, 2.0]"))
	out = gtRun(g, 10)
	for k, row := range out {
		w := 0.0
		if k == 0 || k == 2 || k == 7 {
			w = 1
		}
		if row[0] != w {
			t.Errorf("dt 0.25 step %d: got %g, want %g", k, row[0], w)
		}
	}
}

func TestSpikeGeneratorMultiplicities(t *testing.T) {
	cases := []struct {
		params string
		want   map[int]float64
	}{
		// scalar multiplicity multiplies every spike; equal times add up
		{"spike_times: [0.1, 0.5, 0.5, 1.2], multiplicities: 3", map[int]float64{0: 3, 4: 6, 11: 3}},
		// one multiplicity per time: step 4 gets 2+3
		{"spike_times: [0.1, 0.5, 0.5, 1.2], multiplicities: [1, 2, 3, 4]", map[int]float64{0: 1, 4: 5, 11: 4}},
		// is_spike_binary clips the sum to 1
		{"spike_times: [0.1, 0.5, 0.5, 1.2], multiplicities: [1, 2, 3, 4], is_spike_binary: true", map[int]float64{0: 1, 4: 1, 11: 1}},
	}
	for _, c := range cases {
		g := gtGen(t, "", gtFile("0.1", "SpikeGenerator", 1, c.params))
		for k, row := range gtRun(g, 20) {
			if row[0] != c.want[k] {
				t.Errorf("%s: step %d: got %g, want %g", c.params, k, row[0], c.want[k])
			}
		}
	}
}

func TestSpikeGeneratorPerUnit(t *testing.T) {
	// unit 0: 0.2 twice with multiplicities 1 and 4 -> step 1 value 5;
	// unit 1: 0.3 with multiplicity 2 -> step 2 value 2; unit 2: no spikes.
	g := gtGen(t, "", gtFile("0.1", "SpikeGenerator", 3,
		"spike_times: [[0.2, 0.2], [0.3], []], multiplicities: [[1, 4], [2], []]"))
	want := [][]float64{{0, 0, 0}, {5, 0, 0}, {0, 2, 0}, {0, 0, 0}, {0, 0, 0}}
	for k, row := range gtRun(g, len(want)) {
		if !gtEqual(row, want[k]) {
			t.Errorf("step %d: got %v, want %v", k, row, want[k])
		}
	}
	// per-unit lists without multiplicities
	g = gtGen(t, "", gtFile("0.1", "SpikeGenerator", 2, "spike_times: [[0.1], [0.2, 0.4]]"))
	want = [][]float64{{1, 0}, {0, 1}, {0, 0}, {0, 1}, {0, 0}}
	for k, row := range gtRun(g, len(want)) {
		if !gtEqual(row, want[k]) {
			t.Errorf("per-unit step %d: got %v, want %v", k, row, want[k])
		}
	}
}

func TestSpikeGeneratorRejects(t *testing.T) {
	for _, params := range []string{
		"spike_times: [0.0]",                      // t < dt
		"spike_times: [0.5, 0.3]",                 // unsorted
		"spike_times: [0.15]",                     // off the grid
		"spike_times: [0.1], multiplicities: 0",   // multiplicity < 1
		"spike_times: [0.1], multiplicities: 1.5", // not an integer
		"spike_times: [0.1, 0.2], multiplicities: [1]",
		"spike_times: [[0.1], [0.2], [0.3]]", // 3 lists for size 2
		"spike_times: [0.1], start: 0.0",     // SpikeGenerator has no window
	} {
		if _, err := gtLoad(t, "", gtFile("0.1", "SpikeGenerator", 2, params)); err == nil {
			t.Errorf("%s: accepted, want an error", params)
		}
	}
}

// --- DCGenerator --------------------------------------------------------

func TestDCGeneratorWindow(t *testing.T) {
	// active steps: round(start/h) <= k <= round(stop/h) - 1 (docs/models/generators.md)
	cases := []struct {
		params string
		active func(k int) bool
	}{
		{"amplitude: [2.5, -1.0]", func(k int) bool { return true }},                          // start 0 < dt: active from step 0
		{"amplitude: [2.5, -1.0], start: 0.0, stop: 0.5", func(k int) bool { return k <= 4 }}, // steps 0..4
		{"amplitude: [2.5, -1.0], start: 0.3, stop: 0.7", func(k int) bool { return k >= 3 && k <= 6 }},
		{"amplitude: [2.5, -1.0], start: 0.3, stop: 0.3", func(k int) bool { return false }}, // empty window
		{"amplitude: [2.5, -1.0], start: 1.0, stop: inf", func(k int) bool { return k >= 10 }},
		{"amplitude: [2.5, -1.0], start: 1.0, stop: .inf", func(k int) bool { return k >= 10 }},
	}
	for _, c := range cases {
		g := gtGen(t, "", gtFile("0.1", "DCGenerator", 2, c.params))
		row := make([]float64, 2)
		for k := 0; k < 40; k++ {
			g.Emit(int64(k), row)
			want := []float64{0, 0}
			if c.active(k) {
				want = []float64{2.5, -1.0}
			}
			if !gtEqual(row, want) {
				t.Errorf("%s: step %d: got %v, want %v", c.params, k, row, want)
			}
			if I := g.State("I"); !gtEqual(I, want) {
				t.Errorf("%s: step %d: state I %v, want %v", c.params, k, I, want)
			}
		}
	}

	// dt 0.25: start 0.5 -> first step 2, stop 1.25 -> last step 4.
	g := gtGen(t, "", gtFile("0.25", "DCGenerator", 1, "amplitude: 7, start: 0.5, stop: 1.25"))
	for k, row := range gtRun(g, 8) {
		want := 0.0
		if k >= 2 && k <= 4 {
			want = 7
		}
		if row[0] != want {
			t.Errorf("dt 0.25 step %d: got %g, want %g", k, row[0], want)
		}
	}

	// stop = inf (default) stays active far out; so does a finite stop
	// far beyond any run (it must not wrap around to "never").
	for _, params := range []string{"amplitude: 3", "amplitude: 3, stop: 1e20", "amplitude: 3, stop: 1e300"} {
		g = gtGen(t, "", gtFile("0.5", "DCGenerator", 1, params))
		out := []float64{0}
		for _, k := range []int64{0, 1_000_000, 1 << 40} {
			if g.Emit(k, out); out[0] != 3 {
				t.Errorf("%s: step %d: got %g, want 3", params, k, out[0])
			}
		}
	}
	// a start far beyond any run means never active
	g = gtGen(t, "", gtFile("0.5", "DCGenerator", 1, "amplitude: 3, start: 1e20"))
	out := []float64{0}
	for _, k := range []int64{0, 1_000_000, 1 << 40} {
		if g.Emit(k, out); out[0] != 0 {
			t.Errorf("start 1e20: step %d: got %g, want 0", k, out[0])
		}
	}
}

func TestDCGeneratorRejects(t *testing.T) {
	for _, params := range []string{
		"start: 0.05",                // off grid
		"start: 0.1, stop: 0.25",     // stop off grid
		"start: -0.1",                // negative
		"start: 0.5, stop: 0.3",      // stop < start
		"amplitude: [1.0, 2.0, 3.0]", // wrong length for size 2
		"amplitude: .nan",
		"amplitude: .inf",
	} {
		if _, err := gtLoad(t, "", gtFile("0.1", "DCGenerator", 2, params)); err == nil {
			t.Errorf("%s: accepted, want an error", params)
		}
	}
}

func TestDCGeneratorSetAmplitude(t *testing.T) {
	g := gtGen(t, "", gtFile("0.1", "DCGenerator", 2, "amplitude: [1.0, 2.0]")).(*models.DCGenerator)
	out := make([]float64, 2)
	for _, bad := range [][]float64{{5, 6, 7}, {}, {5, math.NaN()}, {math.Inf(1)}, {5, math.Inf(-1)}} {
		if err := g.SetAmplitude(bad); err == nil {
			t.Errorf("SetAmplitude(%v) accepted", bad)
		}
		if g.Emit(0, out); !gtEqual(out, []float64{1, 2}) {
			t.Fatalf("after rejected SetAmplitude(%v): emits %v, want unchanged [1 2]", bad, out)
		}
	}
	if err := g.SetAmplitude([]float64{-4}); err != nil {
		t.Fatal(err)
	}
	if g.Emit(1, out); !gtEqual(out, []float64{-4, -4}) {
		t.Errorf("scalar amplitude: got %v, want [-4 -4]", out)
	}
	if err := g.SetAmplitude([]float64{3, 9}); err != nil {
		t.Fatal(err)
	}
	if g.Emit(2, out); !gtEqual(out, []float64{3, 9}) {
		t.Errorf("per-unit amplitude: got %v, want [3 9]", out)
	}
}

// --- CustomGenerator ----------------------------------------------------

func gtCheckRows(t *testing.T, what string, g models.Generator, want [][]float64) {
	t.Helper()
	for k, row := range gtRun(g, len(want)) {
		if !gtEqual(row, want[k]) {
			t.Errorf("%s: step %d: got %v, want %v", what, k, row, want[k])
		}
	}
}

func TestCustomGeneratorInline(t *testing.T) {
	// 1-D: every unit emits data[k]; silent from step T on (no repetition).
	g := gtGen(t, "", gtFile("0.1", "CustomGenerator", 3, "data: [1, 0, 2.5]"))
	gtCheckRows(t, "1-D", g, [][]float64{{1, 1, 1}, {0, 0, 0}, {2.5, 2.5, 2.5}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}})

	// 2-D: s_i(k) = data[k][i]
	g = gtGen(t, "", gtFile("0.1", "CustomGenerator", 2, "data: [[1, 0], [0, 2], [3, 0.5]]"))
	gtCheckRows(t, "2-D", g, [][]float64{{1, 0}, {0, 2}, {3, 0.5}, {0, 0}, {0, 0}})

	// width 1 is read as 1-D
	g = gtGen(t, "", gtFile("0.1", "CustomGenerator", 3, "data: [[4], [0], [6]]"))
	gtCheckRows(t, "width 1", g, [][]float64{{4, 4, 4}, {0, 0, 0}, {6, 6, 6}, {0, 0, 0}})

	// rows count from start, as in neurai: start 0.1, stop 0.3 makes
	// steps 1 and 2 active, which emit rows 0 and 1.
	g = gtGen(t, "", gtFile("0.1", "CustomGenerator", 2, "data: [[1, 0], [0, 2], [3, 0.5], [7, 7]], start: 0.1, stop: 0.3"))
	gtCheckRows(t, "window", g, [][]float64{{0, 0}, {1, 0}, {0, 2}, {0, 0}, {0, 0}})

	// is_spike_binary: nonzero -> 1
	g = gtGen(t, "", gtFile("0.1", "CustomGenerator", 2, "data: [[0.5, 0], [0, 3]], is_spike_binary: true"))
	gtCheckRows(t, "binary", g, [][]float64{{1, 0}, {0, 1}, {0, 0}})
}

func TestCustomGeneratorRejects(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.dat"), []byte("1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, params := range []string{
		"",                               // neither data nor datapath
		"data: [1, 2], datapath: ok.dat", // both
		"data: [[1, 2], [3]]",            // unequal rows
		"data: [[1, 2, 3], [4, 5, 6]]",   // width 3 for size 2
		"data: [1, -2]",                  // negative
		"data: [1, .nan]",                // not finite
		"data: [1], start: 0.05",         // window off grid
	} {
		if _, err := gtLoad(t, dir, gtFile("0.1", "CustomGenerator", 2, params)); err == nil {
			t.Errorf("%s: accepted, want an error", params)
		}
	}
}

func TestCustomGeneratorDat(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// comments, blank lines, and all three separators
	write("in.dat", "# header\n1 2 3\n\n   \n  # indented comment\n4\t5\t6\n7,8,9\n0.5\t0  2e-1\n")
	g := gtGen(t, dir, gtFile("0.1", "CustomGenerator", 3, "datapath: in.dat"))
	gtCheckRows(t, "in.dat", g, [][]float64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {0.5, 0, 0.2}, {0, 0, 0}, {0, 0, 0}})

	// one value per row: 1-D
	write("one.dat", "3\n# c\n0\n1.25\n")
	g = gtGen(t, dir, gtFile("0.1", "CustomGenerator", 2, "datapath: one.dat"))
	gtCheckRows(t, "one.dat", g, [][]float64{{3, 3}, {0, 0}, {1.25, 1.25}, {0, 0}})

	// a path in a subfolder, relative to the network file's folder
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("sub/x.dat", "0 1\n1 0\n")
	g = gtGen(t, dir, gtFile("0.1", "CustomGenerator", 2, "datapath: sub/x.dat, is_spike_binary: true"))
	gtCheckRows(t, "sub/x.dat", g, [][]float64{{0, 1}, {1, 0}, {0, 0}})

	write("unequal.dat", "1 2\n3\n")
	write("wide.dat", "1 2 3\n")
	write("neg.dat", "1 -2\n")
	write("word.dat", "1 x\n")
	write("in.txt", "1 2\n")
	for _, name := range []string{"unequal.dat", "wide.dat", "neg.dat", "word.dat", "in.txt", "missing.dat"} {
		if _, err := gtLoad(t, dir, gtFile("0.1", "CustomGenerator", 2, "datapath: "+name)); err == nil {
			t.Errorf("%s: accepted, want an error", name)
		}
	}
}

func TestCustomGeneratorSetData(t *testing.T) {
	g := gtGen(t, "", gtFile("0.1", "CustomGenerator", 2, "data: [1, 2, 3, 4, 5, 6]")).(*models.CustomGenerator)
	out := make([]float64, 2)
	for k := int64(0); k < 3; k++ {
		if g.Emit(k, out); out[0] != float64(k+1) {
			t.Fatalf("step %d: got %v, want %g", k, out, float64(k+1))
		}
	}
	// installed before step 3: row j in step 3+j, nothing of the old array remains
	if err := g.SetData([][]float64{{9, 8}, {0, 7}}, 3); err != nil {
		t.Fatal(err)
	}
	want := map[int64][]float64{3: {9, 8}, 4: {0, 7}, 5: {0, 0}, 6: {0, 0}, 7: {0, 0}}
	for k := int64(3); k < 8; k++ {
		if g.Emit(k, out); !gtEqual(out, want[k]) {
			t.Errorf("after SetData: step %d: got %v, want %v", k, out, want[k])
		}
	}
	// a rejected array leaves the installed one in place
	if err := g.SetData([][]float64{{1, 1}}, 8); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][][]float64{{{1, -1}}, {{1, 2}, {3}}, {{1, 2, 3}}, {{math.NaN()}}} {
		if err := g.SetData(bad, 9); err == nil {
			t.Errorf("SetData(%v) accepted", bad)
		}
	}
	if g.Emit(8, out); !gtEqual(out, []float64{1, 1}) {
		t.Errorf("after rejected SetData: step 8 got %v, want [1 1]", out)
	}

	// the window still gates a run-time array: stop 0.5 ends at step 4
	g = gtGen(t, "", gtFile("0.1", "CustomGenerator", 1, "data: [1], stop: 0.5")).(*models.CustomGenerator)
	if err := g.SetData([][]float64{{2}, {2}, {2}, {2}}, 3); err != nil {
		t.Fatal(err)
	}
	for k, row := range gtRun(g, 8) {
		want := 0.0
		if k == 3 || k == 4 {
			want = 2
		}
		if row[0] != want {
			t.Errorf("windowed SetData: step %d: got %g, want %g", k, row[0], want)
		}
	}
}

// --- InputTransmitter ---------------------------------------------------

func gtInput(t *testing.T, params string) *models.InputTransmitter {
	t.Helper()
	return gtGen(t, "", gtFile("0.1", "InputTransmitter", 3, params)).(*models.InputTransmitter)
}

func TestInputTransmitterSetNext(t *testing.T) {
	in := gtInput(t, "")
	out := make([]float64, 3)
	if err := in.SetNext([]float64{1, 0, 2.5}); err != nil {
		t.Fatal(err)
	}
	if in.Emit(0, out); !gtEqual(out, []float64{1, 0, 2.5}) {
		t.Errorf("step 0: got %v", out)
	}
	for k := int64(1); k < 4; k++ {
		if in.Emit(k, out); !gtEqual(out, []float64{0, 0, 0}) {
			t.Errorf("step %d: got %v, want zeros (values are not held)", k, out)
		}
	}
	for _, bad := range [][]float64{{1, 2}, {1, 2, 3, 4}, {1, math.NaN(), 3}, {math.Inf(1), 0, 0}} {
		if err := in.SetNext(bad); err == nil {
			t.Errorf("SetNext(%v) accepted", bad)
		}
	}
	if in.Emit(4, out); !gtEqual(out, []float64{0, 0, 0}) {
		t.Errorf("a rejected SetNext leaked into step 4: %v", out)
	}

	// binary spike mode
	in = gtInput(t, "is_spike_binary: true")
	if err := in.SetNext([]float64{0.5, 0, 2}); err != nil {
		t.Fatal(err)
	}
	if in.Emit(0, out); !gtEqual(out, []float64{1, 0, 1}) {
		t.Errorf("binary: got %v, want [1 0 1]", out)
	}

	// current mode: state I is the value emitted for the step
	in = gtInput(t, "inputs_type: current")
	if !in.Current() {
		t.Fatal("inputs_type current: Current() is false")
	}
	if err := in.SetNext([]float64{-3, 0.25, 7}); err != nil {
		t.Fatal(err)
	}
	in.Emit(0, out)
	if !gtEqual(out, []float64{-3, 0.25, 7}) || !gtEqual(in.State("I"), []float64{-3, 0.25, 7}) {
		t.Errorf("current: out %v, I %v, want [-3 0.25 7]", out, in.State("I"))
	}
	in.Emit(1, out)
	if !gtEqual(out, []float64{0, 0, 0}) || !gtEqual(in.State("I"), []float64{0, 0, 0}) {
		t.Errorf("current step 1: out %v, I %v, want zeros", out, in.State("I"))
	}
	if _, err := gtLoad(t, "", gtFile("0.1", "InputTransmitter", 3, "inputs_type: current, is_spike_binary: true")); err == nil {
		t.Error("is_spike_binary in current mode accepted")
	}
}

func TestInputTransmitterSetSeries(t *testing.T) {
	in := gtInput(t, "")
	if err := in.SetSeries([][]float64{{1, 2, 3}, {4, 5, 6}}, 2); err != nil {
		t.Fatal(err)
	}
	gtCheckRows(t, "series", in, [][]float64{{0, 0, 0}, {0, 0, 0}, {1, 2, 3}, {4, 5, 6}, {0, 0, 0}, {0, 0, 0}})
	if err := in.SetSeries([][]float64{{1, 2, 3}, {4, 5}}, 0); err == nil {
		t.Error("a short row accepted")
	}
}

func TestInputTransmitterSetArray(t *testing.T) {
	data6 := []float64{1, 2, 3, 4, 5, 6}
	cases := []struct {
		params string
		shape  []int
		data   []float64
		want   [][]float64 // steps 0..len-1; nil: rejected
	}{
		{"", []int{3}, []float64{1, 2, 3}, [][]float64{{1, 2, 3}, {0, 0, 0}}},
		{"", []int{1, 3}, []float64{1, 2, 3}, [][]float64{{1, 2, 3}, {0, 0, 0}}},
		{"", []int{2, 3}, data6, [][]float64{{1, 2, 3}, {4, 5, 6}, {0, 0, 0}}},                     // (T, F)
		{"", []int{2, 1, 3}, data6, [][]float64{{1, 2, 3}, {4, 5, 6}, {0, 0, 0}}},                  // (T, B, F)
		{"", []int{1, 2, 3}, data6, nil},                                                           // (T=1, B=2, F)
		{"batch_first: true", []int{1, 2, 3}, data6, [][]float64{{1, 2, 3}, {4, 5, 6}, {0, 0, 0}}}, // (B, T, F)
		{"batch_first: true", []int{2, 1, 3}, data6, nil},                                          // B = 2
		{"batch_first: false", []int{2, 1, 3}, data6, [][]float64{{1, 2, 3}, {4, 5, 6}, {0, 0, 0}}},
		{"", []int{2}, []float64{1, 2}, nil},             // last dimension != size
		{"", []int{3, 2}, data6, nil},                    // last dimension != size
		{"", []int{2, 1, 3}, []float64{1, 2, 3}, nil},    // shape does not match data
		{"", []int{1, 1, 1, 3}, []float64{1, 2, 3}, nil}, // rank 4
		{"", []int{}, []float64{}, nil},
	}
	for _, c := range cases {
		in := gtInput(t, c.params)
		err := in.SetArray(c.shape, c.data, 0)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s shape %v: accepted, want an error", c.params, c.shape)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s shape %v: %v", c.params, c.shape, err)
			continue
		}
		gtCheckRows(t, c.params+" "+strconv.Itoa(len(c.shape)), in, c.want)
	}
	// k0 shifts the series
	in := gtInput(t, "")
	if err := in.SetArray([]int{2, 1, 3}, data6, 3); err != nil {
		t.Fatal(err)
	}
	gtCheckRows(t, "k0 = 3", in, [][]float64{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {1, 2, 3}, {4, 5, 6}, {0, 0, 0}})
}

// --- Poisson and Bernoulli: statistics ------------------------------------

// gtMoments returns the sample mean and the (n-1) sample variance of
// column u over all rows of the run.
func gtMoments(g models.Generator, steps int, u int) (mean, variance float64, maxv float64) {
	out := make([]float64, g.Size())
	var s, s2 float64
	for k := 0; k < steps; k++ {
		g.Emit(int64(k), out)
		x := out[u]
		s += x
		s2 += x * x
		maxv = math.Max(maxv, x)
	}
	n := float64(steps)
	mean = s / n
	variance = (s2 - n*mean*mean) / (n - 1)
	return
}

func TestPoissonStatistics(t *testing.T) {
	const N = 1_000_000
	// dt 0.1: rate 3000 Hz -> lambda 0.3; rate 40000 Hz -> lambda 4.
	g := gtGen(t, "", "version: 1\ndt: 0.1\nseed: 12345\npopulations:\n  g: {model: PoissonGenerator, size: 2, params: {rate: [3000.0, 40000.0]}}\n")
	out := make([]float64, 2)
	var s, s2 [2]float64
	for k := 0; k < N; k++ {
		g.Emit(int64(k), out)
		for u, x := range out {
			if x != math.Trunc(x) || x < 0 {
				t.Fatalf("step %d unit %d: count %g is not a whole number >= 0", k, u, x)
			}
			s[u] += x
			s2[u] += x * x
		}
	}
	for u, lam := range []float64{0.3, 4} {
		mean := s[u] / N
		variance := (s2[u] - N*mean*mean) / (N - 1)
		// sigma of the sample mean of N Poisson(lam) counts: sqrt(lam/N).
		sigMean := math.Sqrt(lam / N)
		if math.Abs(mean-lam) > 4*sigMean {
			t.Errorf("lambda %g: mean count %g, want within 4 sigma (%g) of %g", lam, mean, 4*sigMean, lam)
		}
		// Fano factor F = s^2/mean. Delta method with the Poisson central
		// moments mu2 = lam, mu3 = lam, mu4 = lam + 3 lam^2:
		// Var(s^2) = (mu4 - mu2^2)/N = (lam + 2 lam^2)/N, Cov(s^2, mean) = mu3/N,
		// Var(mean) = lam/N, so Var(F) = (Var(s^2) - 2 Cov + Var(mean))/lam^2 = 2/N.
		sigFano := math.Sqrt(2.0 / N)
		if fano := variance / mean; math.Abs(fano-1) > 4*sigFano {
			t.Errorf("lambda %g: Fano factor %g, want within 4 sigma (%g) of 1", lam, fano, 4*sigFano)
		}
	}
}

func TestPoissonBinaryClips(t *testing.T) {
	const N = 200_000
	// lambda 1.5: without clipping the mean would be 1.5; with it, it is
	// P(n >= 1) = 1 - exp(-1.5).
	g := gtGen(t, "", "version: 1\ndt: 0.1\nseed: 99\npopulations:\n  g: {model: PoissonGenerator, size: 1, params: {rate: 15000.0, is_spike_binary: true}}\n")
	mean, _, maxv := gtMoments(g, N, 0)
	q := 1 - math.Exp(-1.5)
	if maxv != 1 {
		t.Errorf("is_spike_binary: max value %g, want 1", maxv)
	}
	if sig := math.Sqrt(q * (1 - q) / N); math.Abs(mean-q) > 4*sig {
		t.Errorf("is_spike_binary: mean %g, want within 4 sigma (%g) of 1-exp(-1.5) = %g", mean, 4*sig, q)
	}
	// and without it, counts above 1 do occur (multiplicity passes through)
	g = gtGen(t, "", "version: 1\ndt: 0.1\nseed: 99\npopulations:\n  g: {model: PoissonGenerator, size: 1, params: {rate: 15000.0}}\n")
	if _, _, maxv = gtMoments(g, 10_000, 0); maxv < 2 {
		t.Errorf("is_spike_binary false: max count %g over 10^4 steps of lambda 1.5, want >= 2", maxv)
	}
}

func TestBernoulliStatistics(t *testing.T) {
	const N = 1_000_000
	const p = 0.3
	g := gtGen(t, "", "version: 1\ndt: 0.1\nseed: 4242\npopulations:\n  g: {model: BernoulliGenerator, size: 1, params: {prob: 0.3}}\n")
	mean, variance, maxv := gtMoments(g, N, 0)
	if maxv != 1 {
		t.Errorf("max value %g, want 1", maxv)
	}
	if sig := math.Sqrt(p * (1 - p) / N); math.Abs(mean-p) > 4*sig {
		t.Errorf("mean %g, want within 4 sigma (%g) of %g", mean, 4*sig, p)
	}
	// Var(s^2) ~ (mu4 - sigma^4)/N with the Bernoulli central moment
	// mu4 = p(1-p)(1 - 3p + 3p^2).
	v := p * (1 - p)
	mu4 := v * (1 - 3*p + 3*p*p)
	if sig := math.Sqrt((mu4 - v*v) / N); math.Abs(variance-v) > 4*sig {
		t.Errorf("variance %g, want within 4 sigma (%g) of p(1-p) = %g", variance, 4*sig, v)
	}
}

// --- Poisson and Bernoulli: the random stream ---------------------------

// gtPoissonCount inverts the Poisson(lam) CDF, computed independently of
// the generator from Lgamma, at u. ok is false when u lies within 1e-12
// of a CDF step, where rounding could legitimately decide either way.
func gtPoissonCount(lam, u float64) (n float64, ok bool) {
	if lam == 0 {
		return 0, true
	}
	cdf := 0.0
	for k := 0; k < 1000; k++ {
		lg, _ := math.Lgamma(float64(k + 1))
		cdf += math.Exp(-lam + float64(k)*math.Log(lam) - lg)
		if math.Abs(u-cdf) < 1e-12 {
			return 0, false
		}
		if u < cdf {
			return float64(k), true
		}
	}
	return 0, false
}

func TestPoissonStream(t *testing.T) {
	// rates 0, 5000 and 30000 Hz at dt 0.1: lambda 0, 0.5, 3. The unit with
	// rate 0 must still consume its uniform. Window 10 ms .. 210 ms: active
	// steps 100..2099; the run goes to step 2299.
	const seed1, seed2 = 77, 1234
	rng := rand.New(rand.NewPCG(seed1, seed2))
	manual := rand.New(rand.NewPCG(seed1, seed2))
	g := gtBuild(t, "PoissonGenerator", 3, 0.1, map[string]models.Value{
		"rate": gtList(0, 5000, 30000), "start": gtNum(10), "stop": gtNum(210)}, rng)
	lams := []float64{0, 0.5, 3}
	out := make([]float64, 3)
	checked := 0
	for k := 0; k < 2300; k++ {
		g.Emit(int64(k), out)
		active := k >= 100 && k <= 2099
		for u := range out {
			want := 0.0
			if active {
				var ok bool
				if want, ok = gtPoissonCount(lams[u], manual.Float64()); !ok {
					continue
				}
				checked++
			}
			if out[u] != want {
				t.Fatalf("step %d unit %d: count %g, the manual stream gives %g", k, u, out[u], want)
			}
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d active draws checked", checked)
	}
	// Exactly one uniform per unit per active step, none in inactive steps:
	// the generator's stream and the manual one are at the same position.
	if a, b := rng.Uint64(), manual.Uint64(); a != b {
		t.Errorf("stream position differs after the run: the generator drew a different number of uniforms")
	}
}

func TestBernoulliStream(t *testing.T) {
	// probs 0, 0.5, 1 (the extreme units still consume a uniform); window
	// 0.5 ms .. 100.5 ms at dt 0.1: active steps 5..1004; run to 1099.
	const seed1, seed2 = 5, 6
	rng := rand.New(rand.NewPCG(seed1, seed2))
	manual := rand.New(rand.NewPCG(seed1, seed2))
	g := gtBuild(t, "BernoulliGenerator", 3, 0.1, map[string]models.Value{
		"prob": gtList(0, 0.5, 1), "start": gtNum(0.5), "stop": gtNum(100.5)}, rng)
	probs := []float64{0, 0.5, 1}
	out := make([]float64, 3)
	for k := 0; k < 1100; k++ {
		g.Emit(int64(k), out)
		active := k >= 5 && k <= 1004
		for u := range out {
			want := 0.0
			if active && manual.Float64() < probs[u] {
				want = 1
			}
			if out[u] != want {
				t.Fatalf("step %d unit %d: got %g, the manual stream gives %g", k, u, out[u], want)
			}
		}
	}
	if rng.Uint64() != manual.Uint64() {
		t.Errorf("stream position differs after the run: the generator drew a different number of uniforms")
	}
}

func TestRandomGeneratorStreamFromFile(t *testing.T) {
	// Through a network file the population draws from PCG(seed,
	// 1<<32 | population index) (network.go's stream layout); here the
	// Bernoulli population is the second one (index 1).
	const seed = 31337
	text := "version: 1\ndt: 0.1\nseed: 31337\npopulations:\n" +
		"  d: {model: DCGenerator, size: 1}\n" +
		"  g: {model: BernoulliGenerator, size: 2, params: {prob: [0.5, 0.25]}}\n"
	g := gtGen(t, "", text)
	manual := rand.New(rand.NewPCG(seed, 1<<32|1))
	out := make([]float64, 2)
	for k := 0; k < 500; k++ {
		g.Emit(int64(k), out)
		for u, p := range []float64{0.5, 0.25} {
			want := 0.0
			if manual.Float64() < p {
				want = 1
			}
			if out[u] != want {
				t.Fatalf("step %d unit %d: got %g, PCG(seed, 1<<32|1) gives %g", k, u, out[u], want)
			}
		}
	}
}

func TestRandomGeneratorsReproducible(t *testing.T) {
	for _, model := range []string{"PoissonGenerator", "BernoulliGenerator"} {
		file := func(seed string) string {
			return "version: 1\ndt: 0.1\nseed: " + seed + "\npopulations:\n  g: {model: " + model + ", size: 4}\n"
		}
		a := gtRun(gtGen(t, "", file("7")), 2000)
		b := gtRun(gtGen(t, "", file("7")), 2000)
		c := gtRun(gtGen(t, "", file("8")), 2000)
		same, differ := true, false
		for k := range a {
			same = same && gtEqual(a[k], b[k])
			differ = differ || !gtEqual(a[k], c[k])
		}
		if !same {
			t.Errorf("%s: the same seed twice gave different output", model)
		}
		if !differ {
			t.Errorf("%s: seeds 7 and 8 gave identical output over 2000 steps", model)
		}
	}
}

// --- run-time validation ------------------------------------------------

func TestSetRateValidation(t *testing.T) {
	// rate 0 everywhere: any accepted part of a rejected SetRate would show
	// up as spikes (5e6 Hz at dt 0.1 is lambda 500).
	g := gtGen(t, "", gtFile("0.1", "PoissonGenerator", 2, "rate: 0.0")).(*models.PoissonGenerator)
	for _, bad := range [][]float64{
		{5e6, 5e6, 5e6},    // wrong length
		{},                 // empty
		{5e6, -1},          // negative
		{5e6, math.NaN()},  // NaN
		{5e6, math.Inf(1)}, // inf
		{5e6, 8e6},         // rate*dt/1000 = 800 > 700
	} {
		if err := g.SetRate(bad); err == nil {
			t.Errorf("SetRate(%v) accepted", bad)
		}
	}
	out := make([]float64, 2)
	for k := 0; k < 20; k++ {
		if g.Emit(int64(k), out); !gtEqual(out, []float64{0, 0}) {
			t.Fatalf("after rejected SetRate calls: step %d emitted %v, want zeros", k, out)
		}
	}
	// a valid change applies from the next step on
	if err := g.SetRate([]float64{0, 5e6}); err != nil {
		t.Fatal(err)
	}
	if g.Emit(20, out); out[0] != 0 || out[1] < 400 {
		t.Errorf("after SetRate([0 5e6]): got %v, want [0, ~500]", out)
	}
	if _, err := gtLoad(t, "", gtFile("0.1", "PoissonGenerator", 2, "rate: -1.0")); err == nil {
		t.Error("rate -1 accepted in a file")
	}
	if _, err := gtLoad(t, "", gtFile("0.1", "PoissonGenerator", 2, "rate: 8000000.0")); err == nil {
		t.Error("rate*dt/1000 = 800 accepted in a file")
	}
}

func TestSetProbValidation(t *testing.T) {
	g := gtGen(t, "", gtFile("0.1", "BernoulliGenerator", 2, "prob: 1.0")).(*models.BernoulliGenerator)
	for _, bad := range [][]float64{{0, 0, 0}, {}, {0, 1.5}, {0, -0.1}, {0, math.NaN()}} {
		if err := g.SetProb(bad); err == nil {
			t.Errorf("SetProb(%v) accepted", bad)
		}
	}
	out := make([]float64, 2)
	for k := 0; k < 20; k++ {
		if g.Emit(int64(k), out); !gtEqual(out, []float64{1, 1}) {
			t.Fatalf("after rejected SetProb calls: step %d emitted %v, want [1 1]", k, out)
		}
	}
	if err := g.SetProb([]float64{0}); err != nil {
		t.Fatal(err)
	}
	if g.Emit(20, out); !gtEqual(out, []float64{0, 0}) {
		t.Errorf("after SetProb([0]): got %v, want zeros", out)
	}
	for _, params := range []string{"prob: 1.5", "prob: -0.5", "prob: [0.5, 0.5, 0.5]"} {
		if _, err := gtLoad(t, "", gtFile("0.1", "BernoulliGenerator", 2, params)); err == nil {
			t.Errorf("%s accepted in a file", params)
		}
	}
}

// TestGeneratorsEmitReportsActivity checks the bool result of Emit, which
// lets the engine skip routing: true iff some value is nonzero.
func TestGeneratorsEmitReportsActivity(t *testing.T) {
	g := gtGen(t, "", gtFile("0.1", "CustomGenerator", 2, "data: [[0, 0], [0, 1]]"))
	out := make([]float64, 2)
	if g.Emit(0, out) {
		t.Error("CustomGenerator: Emit reported activity for a zero row")
	}
	if !g.Emit(1, out) {
		t.Error("CustomGenerator: Emit reported no activity for a nonzero row")
	}
	s := gtGen(t, "", gtFile("0.1", "SpikeGenerator", 1, "spike_times: [0.2]"))
	if s.Emit(0, out[:1]) || !s.Emit(1, out[:1]) {
		t.Error("SpikeGenerator: Emit's activity flag is wrong")
	}
}

func TestPoissonAtRateLimit(t *testing.T) {
	// dt 0.5 makes the limit exact: rate 1.4e6 Hz is lambda = 700, the
	// largest allowed; exp(-700) is still a normal float, so the inversion
	// must produce Poisson(700) counts (mean 700, Fano factor 1).
	g := gtGen(t, "", "version: 1\ndt: 0.5\nseed: 3\npopulations:\n  g: {model: PoissonGenerator, size: 1, params: {rate: 1400000.0}}\n")
	const N = 4000
	mean, variance, _ := gtMoments(g, N, 0)
	if sig := math.Sqrt(700.0 / N); math.Abs(mean-700) > 4*sig {
		t.Errorf("lambda 700: mean %g, want within 4 sigma (%g) of 700", mean, 4*sig)
	}
	if sig := math.Sqrt(2.0 / N); math.Abs(variance/mean-1) > 4*sig {
		t.Errorf("lambda 700: Fano factor %g, want within 4 sigma (%g) of 1", variance/mean, 4*sig)
	}
	if _, err := gtLoad(t, "", "version: 1\ndt: 0.5\npopulations:\n  g: {model: PoissonGenerator, size: 1, params: {rate: 1400002.0}}\n"); err == nil {
		t.Error("rate*dt/1000 = 700.001 accepted")
	}
}

// Per-unit spike_times with one flat multiplicities list is ambiguous (one
// per unit or one per time?) and rejected; a list of lists is accepted.
func TestSpikeGeneratorPerUnitMultiplicities(t *testing.T) {
	src := `version: 1
populations:
  g: {model: SpikeGenerator, size: 2, params: {spike_times: [[0.1, 0.2], [0.3, 0.4]], multiplicities: MULT}}
`
	_, err := models.Load([]byte(strings.Replace(src, "MULT", "[2, 3]", 1)), "m.yaml", models.NewRegistry(), models.DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "give multiplicities per unit too") {
		t.Errorf("flat list: err = %v", err)
	}
	net, err := models.Load([]byte(strings.Replace(src, "MULT", "[[2, 3], [4, 5]]", 1)), "m.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	g := net.Populations[0].Model.(models.Generator)
	out := make([]float64, 2)
	var got []float64
	for k := int64(0); k < 4; k++ {
		g.Emit(k, out)
		got = append(got, out...)
	}
	want := []float64{2, 0, 3, 0, 0, 4, 0, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("emitted %v, want %v", got, want)
		}
	}
}
