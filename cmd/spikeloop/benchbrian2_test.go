package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
)

func TestParseBrian2Output(t *testing.T) {
	c := brian2Case{n: 4000, threads: 2, seconds: 1}
	run := `{"n": 4000, "threads": 2, "wall_s_per_simsec": 0.25, "spikes": 23000, "rate_hz": 5.75, "seconds": 1.0, "synapses": 320000}`
	r, err := parseBrian2Output([]byte("WARNING something\n"+run+"\n"), c, false)
	if err != nil {
		t.Fatal(err)
	}
	// 23,000 spikes times 80 synapses per neuron: 1.84e6 events in 0.25 s.
	if *r.Wall != 0.25 || *r.Spikes != 23000 || r.RateHz != 5.75 || math.Abs(r.nsPerEvent()-0.25/1.84e6*1e9) > 1e-9 {
		t.Errorf("parsed %+v, %g ns/event", r, r.nsPerEvent())
	}
	if _, err := parseBrian2Output([]byte(`{"n": 4000, "threads": 2, "built": true}`), c, true); err != nil {
		t.Errorf("build line: %v", err)
	}
	for _, tc := range []struct {
		out   string
		build bool
		want  string
	}{
		{"", false, "no result line for n 4000 on 2 threads"},
		{"Traceback ...", false, "no result line for n 4000 on 2 threads"},
		{strings.Replace(run, `"threads": 2`, `"threads": 1`, 1), false, "no result line for n 4000 on 2 threads"},
		{strings.Replace(run, `"n": 4000`, `"n": 16000`, 1), false, "no result line for n 4000 on 2 threads"},
		{"{not json", false, `result line "{not json"`},
		{strings.Replace(run, `"wall_s_per_simsec": 0.25, `, "", 1), false, "wall_s_per_simsec: must be > 0, got nothing"},
		{strings.Replace(run, `0.25`, `0`, 1), false, "wall_s_per_simsec: must be > 0, got 0"},
		{strings.Replace(run, `"spikes": 23000`, `"spikes": 0`, 1), false, "spikes: must be > 0, got 0"},
		{strings.Replace(run, `"synapses": 320000`, `"synapses": 0`, 1), false, "synapses: must be > 0, got 0"},
		{strings.Replace(run, `"seconds": 1.0`, `"seconds": 0`, 1), false, "seconds: must be > 0, got 0"},
		{run, true, `the build line lacks "built": true`},
	} {
		_, err := parseBrian2Output([]byte(tc.out), c, tc.build)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("output %q (build %v): error %v, want one containing %q", tc.out, tc.build, err, tc.want)
		}
	}
}

// writeExe writes an executable shell script into dir.
func writeExe(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A missing interpreter, a Python without brian2 and a missing script
// are named in the error before anything runs.
func TestBenchEngineBrian2Missing(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to stand in for Python:", err)
	}
	dir := t.TempDir()
	script := filepath.Join("..", "..", "bench", "brian2", "cuba.py")
	noBrian := writeExe(t, dir, "python-without-brian2", `echo "ModuleNotFoundError: No module named 'brian2'" >&2; exit 1`+"\n")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--brian2", script, "--python", filepath.Join(dir, "no-such-python3")},
			[]string{"--python: " + filepath.Join(dir, "no-such-python3") + ": not found", "apt-get install python3-brian"}},
		{[]string{"--brian2", script, "--python", noBrian},
			[]string{"--python: " + noBrian + " cannot import brian2", "No module named 'brian2'", "apt-get install python3-brian"}},
		{[]string{"--brian2", filepath.Join(dir, "cuba.py"), "--python", noBrian},
			[]string{"--brian2: the script " + filepath.Join(dir, "cuba.py"), "no such file"}},
	} {
		args := append([]string{"bench", "engine", "--only", "Brian2", "--rounds", "1"}, tc.args...)
		code, out, errs := runCmd(t, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1; stderr %q", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errs, w)
			}
		}
		if strings.Contains(out, "| benchmark |") {
			t.Errorf("%v: printed a table:\n%s", tc.args, out)
		}
	}
}

// The anchor rows come from the script's lines: each case compiled once
// before the rounds, then run once per round, the row giving the median
// and range of its rounds. A shell script stands in for Python and
// Brian2; it answers with the walls 0.3, 0.1, 0.2 in turn per case.
func TestBenchEngineBrian2Rows(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to stand in for Python:", err)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	fake := writeExe(t, dir, "fake-python", `
if [ "$1" = "-c" ]; then exit 0; fi  # the import check
echo "$*" >> `+log+`
shift  # the script
while [ $# -gt 1 ]; do
  case "$1" in
    --dir) d=$2; shift 2;;
    --threads) th=$2; shift 2;;
    --seconds) s=$2; shift 2;;
    --build-only) build=1; shift;;
    *) echo "unexpected $1" >&2; exit 2;;
  esac
done
n=$1
if [ -n "$build" ]; then printf '{"n": %s, "threads": %s, "built": true}\n' $n $th; exit 0; fi
f=$d/count_${n}_$th
k=0; [ -f $f ] && read k < $f; echo $((k+1)) > $f
set -- 0.3 0.1 0.2; shift $k
echo "WARNING    OpenMP code is not yet well tested" >&2
printf '{"n": %s, "threads": %s, "wall_s_per_simsec": %s, "spikes": %s, "rate_hz": 5.75, "seconds": %s, "synapses": %s}\n' $n $th $1 $((n*23/4)) $s $((n*80))
`)
	script := filepath.Join(dir, "cuba.py")
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "bench", "engine", "--only", "CUBA 16000, Brian2", "--rounds", "3", "--threads", "2",
		"--brian2", script, "--python", fake)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// 5.75 spikes per neuron, 80 events each: 0.2 s / (16000 * 460) events.
	for _, row := range []string{
		"| CUBA 16000, Brian2 cpp_standalone (anchor) | 1 | 0.200 (0.100-0.300) | | 27.2 ns/synaptic event (neuron updates included), 5.75 Hz |",
		"| CUBA 16000, Brian2 cpp_standalone (anchor) | 2 | 0.200 (0.100-0.300) | | 27.2 ns/synaptic event (neuron updates included), 5.75 Hz |",
	} {
		if !strings.Contains(out, row) {
			t.Errorf("output lacks\n%s\n%s", row, out)
		}
	}
	if strings.Contains(out, "| CUBA 4000") || strings.Contains(out, "| CUBA 16000 |") {
		t.Errorf("--only ran other cases:\n%s", out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	call := func(threads, build string) string {
		return script + " --dir DIR --threads " + threads + " --seconds 1" + build + " 16000"
	}
	want := []string{call("1", " --build-only"), call("2", " --build-only")}
	for range 3 {
		want = append(want, call("1", ""), call("2", ""))
	}
	projects := ""
	for i := range calls {
		f := strings.Fields(calls[i])
		if len(f) > 2 && f[1] == "--dir" {
			projects = f[2]
			f[2] = "DIR"
		}
		calls[i] = strings.Join(f, " ")
	}
	if _, err := os.Stat(projects); err == nil || projects == "" {
		t.Errorf("the projects' folder %q is left behind", projects)
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
}

// The real script on Brian2 (opt-in: it generates and compiles a C++
// project, about a minute here): its CUBA 4000 fires at spikeloop's rate
// within 15%. Both run the same model with different random draws;
// across Brian2's seeds 1-4 the rate here ranged 5.42-5.96 Hz, and
// spikeloop's is 5.72 Hz. A wrong model (a missing projection, a wrong
// weight or time constant) moves it much further.
func TestBrian2ScriptCUBA(t *testing.T) {
	if os.Getenv("SPIKELOOP_BRIAN2") == "" {
		t.Skip("set SPIKELOOP_BRIAN2=1 to run bench/brian2/cuba.py on Brian2 (needs python3-brian and g++; compiles for about a minute)")
	}
	const python = "/usr/bin/python3"
	script := filepath.Join("..", "..", "bench", "brian2", "cuba.py")
	if err := checkBrian2(python, script); err != nil {
		t.Skip("no Brian2:", err)
	}
	c := brian2Case{n: 4000, threads: 1, seconds: 1}
	dir := t.TempDir()
	if _, err := runBrian2(python, script, dir, c, true); err != nil {
		t.Fatal(err)
	}
	r, err := runBrian2(python, script, dir, c, false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, hz, _, err := runEngineCase(engineCase{name: "CUBA 4000", src: cpu.CUBASource(4000), threads: 1, neurons: 4000, events: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Brian2: %.3f s/simsec, %d spikes, %.2f Hz, %d synapses; spikeloop: %.2f Hz", *r.Wall, *r.Spikes, r.RateHz, r.Synapses, hz)
	if math.Abs(r.RateHz/hz-1) > 0.15 || math.Abs(float64(*r.Spikes)/4000-r.RateHz) > 1e-9 {
		t.Errorf("Brian2 fires at %.3f Hz (%d spikes), spikeloop at %.3f Hz", r.RateHz, *r.Spikes, hz)
	}
	// 80 inputs per neuron on average: 320,000 synapses, give or take
	// a few standard deviations of the binomial draw (about 565).
	if r.Synapses < 317000 || r.Synapses > 323000 {
		t.Errorf("Brian2 made %d synapses, want about 320,000", r.Synapses)
	}
}
