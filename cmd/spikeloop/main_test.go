package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/npy"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The README's first command works as written and writes what it says.
func TestSimStarter(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCmd(t, "sim", filepath.Join("..", "..", "examples", "starter.yaml"), "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "simulated 100 ms (1000 steps)") {
		t.Errorf("summary: %q", out)
	}
	spikes, err := os.ReadFile(filepath.Join(dir, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(spikes)), "\n")
	if lines[0] != "population,neuron,time_ms" || len(lines) < 10 {
		t.Fatalf("spikes.csv: header %q, %d lines", lines[0], len(lines))
	}
	v, err := os.ReadFile(filepath.Join(dir, "cells.V.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(v)), "\n")
	if rows[0] != "time_ms,0,1,2,3,4" || rows[1] != "0,-70,-67,-64,-61,-58" || len(rows) != 1002 {
		t.Errorf("cells.V.csv: header %q, first row %q, %d rows (want 1 + 1001)", rows[0], rows[1], len(rows))
	}
}

func TestSimInputCSV(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net.yaml")
	os.WriteFile(net, []byte(`version: 1
duration: 1.0
populations:
  in: {model: InputTransmitter, size: 2}
  cells: {model: LIF, size: 2, params: {V_th: 100.0}}
synapses:
  - {pre: in, post: cells, conn: {rule: one_to_one}, weight: 1.0}
monitors:
  - {population: in, record: [spikes]}
  - {population: cells, record: [V]}
`), 0o644)
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("0,1\n2,0\n0,0\n"), 0o644)
	code, _, errs := runCmd(t, "sim", net, "--out", dir, "--input", "in="+in, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spikes, _ := os.ReadFile(filepath.Join(dir, "spikes.csv"))
	want := "population,neuron,time_ms\nin,1,0.1\nin,0,0.2\n"
	if string(spikes) != want {
		t.Errorf("spikes.csv:\n%s\nwant:\n%s", spikes, want)
	}
	// The value 2 of row 1 (step 1, stamp 0.2) reaches neuron 0 one step later.
	v, _ := os.ReadFile(filepath.Join(dir, "cells.V.csv"))
	rows := strings.Split(string(v), "\n")
	if !strings.HasPrefix(rows[4], "0.3,-68,") {
		t.Errorf("cells.V.csv row at 0.3 ms = %q, want V0 = -70 + 2", rows[4])
	}
}

func TestUsageAndErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"sim", "x.yaml"}, 2, "--out DIR is required"},
		{[]string{"sim", "--out", "/tmp/x"}, 2, "exactly one network FILE"},
		{[]string{"sim", "nonexistent.yaml", "--out", t.TempDir()}, 1, "no such file"},
		{[]string{"sim", "a.yaml", "--out", "d", "--input", "bad"}, 2, `--input: must be NAME=FILE, got "bad"`},
		{[]string{"check"}, 2, "exactly one network FILE"},
		{[]string{"models", "Nope"}, 1, `unknown class "Nope"`},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

func TestCheckAndModels(t *testing.T) {
	code, out, errs := runCmd(t, "check", filepath.Join("..", "..", "examples", "cuba.yaml"))
	if code != 0 {
		t.Fatalf("check: exit %d: %s", code, errs)
	}
	// The memory figure is the backend's Probe, the one count.
	net, err := models.LoadFile(filepath.Join("..", "..", "examples", "cuba.yaml"), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := cpu.New().Probe(net)
	if err != nil {
		t.Fatal(err)
	}
	mem := "memory estimate (cpu backend): " + daemon.ByteSize(pr.Memory) + "\n"
	for _, want := range []string{"exc", "ExpLIF", "3200", "4000 units", mem} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, "models")
	if code != 0 {
		t.Fatal("models failed")
	}
	for _, want := range []string{"LIF", "ExpLIF", "Izhikevich", "PoissonGenerator", "tau_syn", "EXP_EULER"} {
		if !strings.Contains(out, want) {
			t.Errorf("models output lacks %q", want)
		}
	}
}

// An .npy input of shape (T, size) feeds the same rows as the CSV.
func TestSimInputNpy(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net.yaml")
	os.WriteFile(net, []byte(`version: 1
duration: 0.5
populations:
  in: {model: InputTransmitter, size: 2}
monitors:
  - {population: in, record: [spikes]}
`), 0o644)
	in := filepath.Join(dir, "in.npy")
	writeNpy(t, in, []int{3, 2}, []float64{0, 1, 2, 0, 0, 3})
	code, _, errs := runCmd(t, "sim", net, "--out", dir, "--input", "in="+in, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spikes, _ := os.ReadFile(filepath.Join(dir, "spikes.csv"))
	want := "population,neuron,time_ms\nin,1,0.1\nin,0,0.2\nin,1,0.3\n"
	if string(spikes) != want {
		t.Errorf("spikes.csv:\n%s\nwant:\n%s", spikes, want)
	}
	bad := filepath.Join(dir, "bad.npy")
	writeNpy(t, bad, []int{6}, []float64{0, 1, 2, 0, 0, 3})
	if code, _, errs := runCmd(t, "sim", net, "--out", dir, "--input", "in="+bad); code != 1 || !strings.Contains(errs, "must equal size 2") {
		t.Errorf("1-D input: exit %d, %q", code, errs)
	}
}

func writeNpy(t *testing.T, path string, shape []int, data []float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := npy.Write64(f, shape, data); err != nil {
		t.Fatal(err)
	}
}

// TestSimStaleOutput: sim into a folder that holds another network's
// outputs removes them, says so, and keeps the user's files.
func TestSimStaleOutput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "exc.V.csv"), []byte("time_ms,0,1\n0,-60,-60\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "results.final.csv"), []byte("neuron,rate\n0,12\n"), 0o644)
	code, out, errs := runCmd(t, "sim", filepath.Join("..", "..", "examples", "starter.yaml"), "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := "removed " + filepath.Join(dir, "exc.V.csv") + " (an earlier run's output)\n"; !strings.Contains(out, want) {
		t.Errorf("stdout %q lacks %q", out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "exc.V.csv")); !os.IsNotExist(err) {
		t.Errorf("exc.V.csv: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.final.csv")); err != nil {
		t.Errorf("the user's file: %v", err)
	}
}

// TestModelsReference: `models CLASS` names a reference page that exists
// in the repository for every class, and the full listing ends with the
// surrogate functions.
func TestModelsReference(t *testing.T) {
	for _, c := range models.NewRegistry().Classes() {
		code, out, errs := runCmd(t, "models", c.Name)
		if code != 0 {
			t.Fatalf("models %s: exit %d: %s", c.Name, code, errs)
		}
		_, ref, ok := strings.Cut(out, "reference: ")
		if !ok {
			t.Errorf("models %s names no reference page:\n%s", c.Name, out)
			continue
		}
		page, _, _ := strings.Cut(ref, " ")
		if _, err := os.Stat(filepath.Join("..", "..", page)); err != nil {
			t.Errorf("models %s: reference %s: %v", c.Name, page, err)
		}
	}
	_, out, _ := runCmd(t, "models")
	for _, want := range []string{"surrogate functions", "Sigmoid(alpha=4)", "MultiGaussian(sigma=0.5"} {
		if !strings.Contains(out, want) {
			t.Errorf("models lacks %q", want)
		}
	}
	if code, _, errs := runCmd(t, "models", "lif"); code == 0 || !strings.Contains(errs, `did you mean "LIF"`) {
		t.Errorf("models lif: exit %d, %s", code, errs)
	}
}

// TestSimInputShapes: the same input in neurai's shapes gives the same
// spikes, and a batch of 3 gives three trials, each equal to a run of
// its element alone.
func TestSimInputShapes(t *testing.T) {
	dir := t.TempDir()
	netFile := func(batchFirst bool) string {
		path := filepath.Join(dir, fmt.Sprintf("net_%v.yaml", batchFirst))
		os.WriteFile(path, []byte(fmt.Sprintf(`version: 1
duration: 1.0
seed: 4
populations:
  in: {model: InputTransmitter, size: 2, params: {batch_first: %v}}
  noise: {model: PoissonGenerator, size: 2, params: {rate: 3000.0}}
  x: {model: LIF, size: 2, params: {tau_ref: null, V_reset: null}}
synapses:
  - {pre: in, post: x, conn: {rule: one_to_one}, weight: 9.0}
  - {pre: noise, post: x, conn: {rule: one_to_one}, weight: 4.0}
monitors:
  - {population: x, record: [spikes, V]}
`, batchFirst)), 0o644)
		return path
	}
	sim := func(net, in string, shape []int, data []float64, extra ...string) string {
		t.Helper()
		npyPath := filepath.Join(dir, in+".npy")
		writeNpy(t, npyPath, shape, data)
		out := filepath.Join(dir, in)
		args := append([]string{"sim", net, "--out", out, "--input", "in=" + npyPath, "--quiet"}, extra...)
		if code, _, errs := runCmd(t, args...); code != 0 {
			t.Fatalf("%s %v: exit %d: %s", in, shape, code, errs)
		}
		return out
	}
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	x := []float64{1, 0, 0, 2, 2, 2, 0, 1} // T = 4, F = 2
	plain, bf := netFile(false), netFile(true)
	want := read(filepath.Join(sim(plain, "tf", []int{4, 2}, x), "spikes.csv"))
	wantV := read(filepath.Join(dir, "tf", "x.V.csv"))
	if strings.Count(want, "\n") < 3 {
		t.Fatalf("too few spikes to compare:\n%s", want)
	}
	for _, c := range []struct {
		name, net string
		shape     []int
	}{
		{"tbf", plain, []int{4, 1, 2}},
		{"btf", bf, []int{1, 4, 2}},
	} {
		out := sim(c.net, c.name, c.shape, x)
		if got := read(filepath.Join(out, "spikes.csv")); got != want {
			t.Errorf("%v: spikes differ from (T, F):\n%s\nwant\n%s", c.shape, got, want)
		}
		if got := read(filepath.Join(out, "x.V.csv")); got != wantV {
			t.Errorf("%v: V differs from (T, F)", c.shape)
		}
	}
	// (F,): step 0 only, as a (1, F) array.
	one := read(filepath.Join(sim(plain, "f", []int{2}, x[:2]), "x.V.csv"))
	if got := read(filepath.Join(sim(plain, "onef", []int{1, 2}, x[:2]), "x.V.csv")); got != one {
		t.Errorf("(F,) differs from (1, F)")
	}

	// A batch of 3, (B, T, F): trial b equals the run of element b alone.
	batch := []float64{}
	elems := [][]float64{x, {0, 0, 3, 3, 0, 0, 1, 1}, {2, 0, 0, 0, 0, 2, 2, 2}}
	for _, e := range elems {
		batch = append(batch, e...)
	}
	out := sim(bf, "batch", []int{3, 4, 2}, batch)
	for b, e := range elems {
		single := sim(plain, fmt.Sprintf("single%d", b), []int{4, 2}, e)
		for _, f := range []string{"spikes.csv", "x.V.csv"} {
			got := read(filepath.Join(out, fmt.Sprintf("trial_%d", b+1), f))
			if w := read(filepath.Join(single, f)); got != w {
				t.Errorf("batch element %d: %s differs from its single run:\n%s\nwant\n%s", b, f, got, w)
			}
		}
	}
	// (T, B, F) with batch_first false: the same three trials.
	tbf := make([]float64, 0, len(batch))
	for k := range 4 {
		for b := range 3 {
			tbf = append(tbf, elems[b][2*k:2*k+2]...)
		}
	}
	out2 := sim(plain, "batch_tbf", []int{4, 3, 2}, tbf)
	for b := 1; b <= 3; b++ {
		f := filepath.Join(fmt.Sprintf("trial_%d", b), "spikes.csv")
		if read(filepath.Join(out2, f)) != read(filepath.Join(out, f)) {
			t.Errorf("(T, B, F) trial %d differs from (B, T, F)", b)
		}
	}
	// --trials N repeats an unbatched input; a wrong count is refused.
	rep := sim(plain, "repeat", []int{4, 2}, x, "--trials", "2")
	for b := 1; b <= 2; b++ {
		if got := read(filepath.Join(rep, fmt.Sprintf("trial_%d", b), "spikes.csv")); got != want {
			t.Errorf("--trials 2: trial %d differs from the single run", b)
		}
	}
	npyPath := filepath.Join(dir, "b.npy")
	writeNpy(t, npyPath, []int{3, 4, 2}, batch)
	if code, _, errs := runCmd(t, "sim", bf, "--out", dir, "--input", "in="+npyPath, "--trials", "2"); code != 1 || !strings.Contains(errs, "batch of 3") {
		t.Errorf("--trials 2 with a batch of 3: exit %d, %q", code, errs)
	}
}

// sim --threads 2 writes the same spikes as one thread (CUBA), and a bad
// count is refused with the flag named.
func TestSimThreads(t *testing.T) {
	cuba := filepath.Join("..", "..", "examples", "cuba.yaml")
	var spikes [2]string
	for i, n := range []string{"1", "2"} {
		dir := t.TempDir()
		code, _, errs := runCmd(t, "sim", cuba, "--out", dir, "--quiet", "--duration", "200ms", "--threads", n)
		if code != 0 {
			t.Fatalf("--threads %s: exit %d: %s", n, code, errs)
		}
		b, err := os.ReadFile(filepath.Join(dir, "spikes.csv"))
		if err != nil {
			t.Fatal(err)
		}
		spikes[i] = string(b)
	}
	if strings.Count(spikes[0], "\n") < 100 || spikes[0] != spikes[1] {
		t.Errorf("spikes.csv: %d lines with one thread, %d with two, equal %v", strings.Count(spikes[0], "\n"), strings.Count(spikes[1], "\n"), spikes[0] == spikes[1])
	}
	code, _, errs := runCmd(t, "sim", cuba, "--out", t.TempDir(), "--threads", "0")
	if code == 0 || !strings.Contains(errs, "--threads: must be >= 1, got 0") {
		t.Errorf("--threads 0: exit %d, %q", code, errs)
	}
}

// bench engine prints the machine line and a table row per case run.
func TestBenchEngineTable(t *testing.T) {
	code, out, errs := runCmd(t, "bench", "engine", "--only", "CUBA 4000", "--rounds", "1", "--threads", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"machine: ", "| benchmark | threads |", "| CUBA 4000 | 1 | ", "| CUBA 4000 | 2 | ", "ns/synaptic event"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ran on one thread") {
		t.Errorf("CUBA did not run on two threads:\n%s", out)
	}
}
