package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// brian2Install is what the errors about a missing Brian2 tell the user.
const brian2Install = "install it (Debian: apt-get install python3-brian) or name the Python that has it with --python"

// brian2Case is one CUBA anchor: the Brian2 script at n neurons on
// threads OpenMP threads, timing seconds model seconds after one
// warm-up second.
type brian2Case struct {
	n, threads, seconds int
}

func (c brian2Case) name() string {
	return fmt.Sprintf("CUBA %d, Brian2 cpp_standalone (anchor)", c.n)
}

// brian2Result is one line of the script's output (bench/brian2/cuba.py).
type brian2Result struct {
	N        int      `json:"n"`
	Threads  int      `json:"threads"`
	Wall     *float64 `json:"wall_s_per_simsec"`
	Spikes   *int64   `json:"spikes"`
	RateHz   float64  `json:"rate_hz"`
	Seconds  float64  `json:"seconds"`
	Synapses int64    `json:"synapses"`
	Built    bool     `json:"built"`
}

// nsPerEvent is the wall time per synaptic event, counted as spikeloop's
// CUBA rows count it: spikes times the mean fan-out, synapses / n.
func (r brian2Result) nsPerEvent() float64 {
	events := float64(*r.Spikes) * float64(r.Synapses) / float64(r.N)
	return *r.Wall * r.Seconds / events * 1e9
}

// parseBrian2Output finds the script's JSON line for case c in its
// standard output (other lines, if any, are skipped) and checks that it
// answers c: a build line when build is set, else a timed run.
func parseBrian2Output(out []byte, c brian2Case, build bool) (brian2Result, error) {
	var r brian2Result
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var x brian2Result
		if err := json.Unmarshal(line, &x); err != nil {
			return r, fmt.Errorf("result line %q: %w", line, err)
		}
		if x.N == c.n && x.Threads == c.threads {
			r, found = x, true
		}
	}
	switch {
	case !found:
		return r, fmt.Errorf("no result line for n %d on %d threads in its output %q", c.n, c.threads, clip(out))
	case build && !r.Built:
		return r, fmt.Errorf("n %d on %d threads: the build line lacks \"built\": true", c.n, c.threads)
	case build:
		return r, nil
	case r.Wall == nil || !(*r.Wall > 0):
		return r, fmt.Errorf("n %d on %d threads: wall_s_per_simsec: must be > 0, got %s", c.n, c.threads, optFloat(r.Wall))
	case r.Spikes == nil || *r.Spikes <= 0:
		return r, fmt.Errorf("n %d on %d threads: spikes: must be > 0, got %s", c.n, c.threads, optInt(r.Spikes))
	case r.Synapses <= 0:
		return r, fmt.Errorf("n %d on %d threads: synapses: must be > 0, got %d", c.n, c.threads, r.Synapses)
	case !(r.Seconds > 0):
		return r, fmt.Errorf("n %d on %d threads: seconds: must be > 0, got %g", c.n, c.threads, r.Seconds)
	}
	return r, nil
}

func optFloat(x *float64) string {
	if x == nil {
		return "nothing"
	}
	return strconv.FormatFloat(*x, 'g', -1, 64)
}

func optInt(x *int64) string {
	if x == nil {
		return "nothing"
	}
	return strconv.FormatInt(*x, 10)
}

// clip is the last 400 bytes of b, for error messages.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return s
}

// checkBrian2 tells whether python exists and imports brian2, and
// whether the script exists, before anything runs.
func checkBrian2(python, script string) error {
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Errorf("--python: %s: not found (%v); Brian2 needs Python 3: %s", python, err, brian2Install)
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("--brian2: the script %s: %w (it is bench/brian2/cuba.py in the repository)", script, err)
	}
	out, err := exec.Command(python, "-c", "import brian2").CombinedOutput()
	if err != nil {
		return fmt.Errorf("--python: %s cannot import brian2 (%v: %s); %s", python, err, clip(out), brian2Install)
	}
	return nil
}

// runBrian2 runs the script for case c in the project folder dir: with
// build set it only generates and compiles the project (once per case,
// before the rounds); else it runs the compiled project and returns the
// timed run's figures (Brian2's own timing of the simulation, without
// code generation and compilation).
func runBrian2(python, script, dir string, c brian2Case, build bool) (brian2Result, error) {
	args := []string{script, "--dir", dir, "--threads", strconv.Itoa(c.threads), "--seconds", strconv.Itoa(c.seconds)}
	if build {
		args = append(args, "--build-only")
	}
	args = append(args, strconv.Itoa(c.n))
	cmd := exec.Command(python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return brian2Result{}, fmt.Errorf("%s %s: %v: %s", python, strings.Join(args, " "), err, clip(stderr.Bytes()))
		}
		return brian2Result{}, fmt.Errorf("%s: %w", python, err)
	}
	return parseBrian2Output(out, c, build)
}
