package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"github.com/spikeloop/spikeloop/internal/cputime"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

var benchEngineDoc = cmdDoc{
	usage: []string{"bench engine [--threads N] [--rounds R] [--seconds S] [--only NAME] [--c-kernel BINARY] [--brian2 SCRIPT [--python PYTHON]]"},
	text: `Runs the engine's benchmark networks (those of "go test -bench ./apu/cpu/")
and prints a table: LIF100k (100,000 LIF neurons, no synapses), CUBA at
4,000, 16,000 and 64,000 neurons (80 synapses per neuron), on one
thread and on --threads, and HH1000 (1,000 HHPSC neurons, RKF45 at dt
0.1 ms on one thread and on --threads, RK4 at 0.05 ms, where it is
stable). Each
case runs --rounds times, the cases taking turns, for --seconds of model
time after one warm-up second; the table gives the median and the range
of the wall-clock seconds per simulated second, the median CPU seconds
per simulated second (the process's user and system time: on a busy
machine it shows what the engine cost when it ran), and the rate.

With --c-kernel, the hand-written C kernel of LIF100k
(apu/cpu/testdata/lif_kernel.c, built as its first line says) runs in
turn with the others, as LIF100k's anchor in the same run.

With --brian2 bench/brian2/cuba.py, the same CUBA network in Brian2's
C++ standalone mode (the script's header says what it runs) runs in
turn with the others as CUBA's anchor, on one and on --threads OpenMP
threads: rows "CUBA N, Brian2 cpp_standalone (anchor)". It needs Python
3 with Brian2 (--python, default /usr/bin/python3; Debian: apt-get
install python3-brian) and g++. Each project is generated and compiled
once, in a temporary folder, before the rounds (some minutes for the
six); the figure is Brian2's own timing of the run after its warm-up
second, without code generation and compilation. Its CPU column stays
empty.

The first lines name the machine: the CPU model, the CPUs and the load
average at the start.

arguments: none
`,
}

type engineCase struct {
	name    string
	src     string
	threads int
	neurons int
	events  bool // report ns per synaptic event
}

func cmdBenchEngine(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench engine")
	threads := fs.Int("threads", 2, "also run CUBA and HH1000 RKF45 on `N` threads (1: one thread only)")
	rounds := fs.Int("rounds", 3, "runs of each case, taking turns")
	seconds := fs.Int("seconds", 1, "model seconds per run (after one warm-up second)")
	only := fs.String("only", "", "run only the cases whose name contains `NAME` (e.g. CUBA, LIF100k, HH1000, Brian2)")
	cKernel := fs.String("c-kernel", "", "the built C LIF kernel `BINARY`, run as LIF100k's anchor")
	brian2 := fs.String("brian2", "", "the Brian2 CUBA `SCRIPT` (bench/brian2/cuba.py), run as CUBA's anchor")
	python := fs.String("python", "/usr/bin/python3", "the `PYTHON` 3 with Brian2 that runs --brian2")
	pos, err := parseFlags(fs, benchEngineDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, benchEngineDoc)}
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	case *threads < 1 || *threads > 64:
		return usageError{fmt.Sprintf("--threads: must be 1..64, got %d", *threads)}
	case *rounds < 1:
		return usageError{fmt.Sprintf("--rounds: must be >= 1, got %d", *rounds)}
	case *seconds < 1:
		return usageError{fmt.Sprintf("--seconds: must be >= 1, got %d", *seconds)}
	}
	var cases []engineCase
	cases = append(cases, engineCase{name: "LIF100k", src: cpu.LIF100kSource(100000), threads: 1, neurons: 100000})
	for _, n := range []int{4000, 16000, 64000} {
		cases = append(cases, engineCase{name: fmt.Sprintf("CUBA %d", n), src: cpu.CUBASource(n), threads: 1, neurons: n, events: true})
		if *threads > 1 {
			cases = append(cases, engineCase{name: fmt.Sprintf("CUBA %d", n), src: cpu.CUBASource(n), threads: *threads, neurons: n, events: true})
		}
	}
	cases = append(cases, engineCase{name: "HH1000 RKF45", src: cpu.HHSource(1000, "RKF45", 0.1), threads: 1, neurons: 1000})
	if *threads > 1 {
		cases = append(cases, engineCase{name: "HH1000 RKF45", src: cpu.HHSource(1000, "RKF45", 0.1), threads: *threads, neurons: 1000})
	}
	cases = append(cases, engineCase{name: "HH1000 RK4 dt 0.05 ms", src: cpu.HHSource(1000, "RK4", 0.05), threads: 1, neurons: 1000})
	cases = slices.DeleteFunc(cases, func(c engineCase) bool { return !strings.Contains(c.name, *only) })
	var bCases []brian2Case
	if *brian2 != "" {
		for _, n := range []int{4000, 16000, 64000} {
			bCases = append(bCases, brian2Case{n: n, threads: 1, seconds: *seconds})
			if *threads > 1 {
				bCases = append(bCases, brian2Case{n: n, threads: *threads, seconds: *seconds})
			}
		}
		bCases = slices.DeleteFunc(bCases, func(c brian2Case) bool { return !strings.Contains(c.name(), *only) })
	}
	if *cKernel == "" && len(cases) == 0 && len(bCases) == 0 {
		return usageError{fmt.Sprintf("--only: no case's name contains %q", *only)}
	}
	var bDir string
	if len(bCases) > 0 {
		if err := checkBrian2(*python, *brian2); err != nil {
			return err
		}
		if bDir, err = os.MkdirTemp("", "spikeloop-brian2-"); err != nil {
			return fmt.Errorf("--brian2: %w", err)
		}
		defer os.RemoveAll(bDir)
		for _, c := range bCases {
			fmt.Fprintf(stderr, "bench engine: generating and compiling %s on %d threads\n", c.name(), c.threads)
			if _, err := runBrian2(*python, *brian2, bDir, c, true); err != nil {
				return fmt.Errorf("--brian2: %w", err)
			}
		}
	}

	fmt.Fprintf(stdout, "machine: %s, %d CPUs (GOMAXPROCS %d), load average %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAverage())
	fmt.Fprintf(stdout, "%d rounds of %d model s after 1 s warm-up; %s\n\n", *rounds, *seconds, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	type result struct {
		wall, cpu []float64 // per model second
		rate, hz  []float64
		note      string
	}
	res := make([]result, len(cases))
	bRes := make([]result, len(bCases))
	var cRates []float64
	for r := 0; r < *rounds; r++ {
		for i, c := range cases {
			wall, cpuT, rate, hz, note, err := runEngineCase(c, *seconds)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			res[i].wall = append(res[i].wall, wall)
			res[i].cpu = append(res[i].cpu, cpuT)
			res[i].rate = append(res[i].rate, rate)
			res[i].hz = append(res[i].hz, hz)
			res[i].note = note
		}
		if *cKernel != "" {
			rate, err := runCKernel(*cKernel)
			if err != nil {
				return fmt.Errorf("--c-kernel: %w", err)
			}
			cRates = append(cRates, rate)
		}
		for i, c := range bCases {
			r, err := runBrian2(*python, *brian2, bDir, c, false)
			if err != nil {
				return fmt.Errorf("--brian2: %w", err)
			}
			bRes[i].wall = append(bRes[i].wall, *r.Wall)
			bRes[i].rate = append(bRes[i].rate, r.nsPerEvent())
			bRes[i].hz = append(bRes[i].hz, r.RateHz)
		}
	}
	fmt.Fprintln(stdout, "| benchmark | threads | wall s/simsec, median (range) | CPU s/simsec | rate |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|")
	for i, c := range cases {
		r := res[i]
		rate := ""
		if c.events {
			rate = fmt.Sprintf("%.1f ns/synaptic event (neuron updates included), %.2f Hz", median(r.rate), median(r.hz))
		} else {
			rate = fmt.Sprintf("%.3g G neuron-updates/s", median(r.rate)/1e9)
		}
		if r.note != "" {
			rate += "; " + r.note
		}
		fmt.Fprintf(stdout, "| %s | %d | %.3f (%.3f-%.3f) | %.3f | %s |\n", c.name, c.threads, median(r.wall), slices.Min(r.wall), slices.Max(r.wall), median(r.cpu), rate)
	}
	if len(cRates) > 0 {
		fmt.Fprintf(stdout, "| LIF100k, C kernel (anchor) | 1 | | | %.3g G neuron-updates/s, median (%.3g-%.3g) |\n",
			median(cRates)/1e9, slices.Min(cRates)/1e9, slices.Max(cRates)/1e9)
	}
	for i, c := range bCases {
		r := bRes[i]
		fmt.Fprintf(stdout, "| %s | %d | %.3f (%.3f-%.3f) | | %.1f ns/synaptic event (neuron updates included), %.2f Hz |\n",
			c.name(), c.threads, median(r.wall), slices.Min(r.wall), slices.Max(r.wall), median(r.rate), median(r.hz))
	}
	return nil
}

// runEngineCase loads c, runs one warm-up second and then seconds model
// seconds, and returns wall and CPU seconds per model second and the
// rate: neuron updates per wall second, or ns per synaptic event, and
// the mean firing rate in Hz.
func runEngineCase(c engineCase, seconds int) (wall, cpuS, rate, hz float64, note string, err error) {
	lim := models.DefaultLimits
	lim.MaxPairs = 0 // CUBA 64000's fixed_prob looks at 2.6e9 pairs
	net, err := models.Load([]byte(c.src), c.name+".yaml", models.NewRegistry(), lim)
	if err != nil {
		return 0, 0, 0, 0, "", err
	}
	e := cpu.New(cpu.WithThreads(c.threads, nil))
	if err := e.Load(net); err != nil {
		return 0, 0, 0, 0, "", err
	}
	defer e.Close()
	if e.Threads() != c.threads {
		note = "ran on one thread: " + e.ThreadsNote()
	}
	steps := int(1000/net.Dt + 0.5)
	var rec apu.Record
	if err := e.Advance(steps); err != nil {
		return 0, 0, 0, 0, "", err
	}
	e.Drain(&rec)
	spikes := 0
	c0, t0 := cputime.Seconds(), time.Now()
	for range seconds {
		if err := e.Advance(steps); err != nil {
			return 0, 0, 0, 0, "", err
		}
		e.Drain(&rec)
		spikes += len(rec.Spikes)
	}
	el := time.Since(t0).Seconds()
	wall, cpuS = el/float64(seconds), (cputime.Seconds()-c0)/float64(seconds)
	hz = float64(spikes) / float64(c.neurons) / float64(seconds)
	if c.events {
		var conns int64
		for _, s := range net.Synapses {
			conns += int64(len(s.Conns))
		}
		events := float64(spikes) * float64(conns) / float64(c.neurons)
		return wall, cpuS, el / events * 1e9, hz, note, nil
	}
	return wall, cpuS, float64(c.neurons) * float64(steps) * float64(seconds) / el, hz, note, nil
}

// runCKernel runs the C LIF kernel once (100,000 neurons, 10,000 steps,
// one thread) and returns its neuron updates per second.
func runCKernel(bin string) (float64, error) {
	cmd := exec.Command(bin, "1", "100000", "10000", "1")
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	if err != nil {
		return 0, err
	}
	var line struct {
		Rate float64 `json:"updates_per_s"`
	}
	if err := json.Unmarshal(out, &line); err != nil || line.Rate <= 0 {
		return 0, fmt.Errorf("%s: no updates_per_s in %q", bin, strings.TrimSpace(string(out)))
	}
	return line.Rate, nil
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuModel is the first "model name" of /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage is the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
