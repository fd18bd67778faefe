// Command spikeloop runs spiking networks: `run` is the daemon (the
// closed loop with the board), `sim` runs a network file offline (or
// replays a recording of `run`) and writes CSVs, `check` validates a
// network file (with --config, a daemon config), `bench loop` measures
// the loop's lateness, `models` lists the model classes, `version`
// prints the build. The work is done by the packages below (daemon,
// models, apu/cpu, apu/offline); main only parses flags and maps errors
// to exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/figure"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/surrogate"
)

const usage = `usage: spikeloop <command> [arguments]

commands:
  run [--config FILE] [--duration D] [--record FILE] [--no-telemetry]
                                    the daemon: the closed loop (no --config: the built-in demo)
  sim FILE --out DIR [--input NAME=FILE]... [--trials N] [--duration D] [--quiet] [--plot]
                                    run a network file, write CSVs to DIR
  sim FILE --out DIR --replay REC [--segment N]
                                    replay a recording of "run --record" on FILE, write CSVs
  plot DIR [--net FILE] [--bin D]   draw sim's output in DIR: raster, rates, traces (PNG, SVG)
  check FILE [--backend NAME]       validate a network file and summarise it
  check --config FILE               validate a daemon config without running it
  bench loop [--rate HZ] [--duration D] [--cpu N] [--priority P] [--spin D] [--no-telemetry] [--page ADDR]
                                    run the demo's loop on the wall clock, print its lateness
  models [CLASS]                    list model classes and parameters
  apu serve --listen unix:PATH|tcp:127.0.0.1:PORT [--flip-requests P] ...
                                    serve an emulated APU on a stream socket
  version                           print the version (also: spikeloop --version)
  help [COMMAND]                    this text, or a command's

"spikeloop COMMAND --help" describes a command: its arguments and flags.
Durations need a unit: 500ms, 1.5s, 2m.
Exit status: 0 success, 1 the work failed, 2 bad usage.
`

// exit codes: 1 the work failed (bad file, run error), 2 bad usage.
func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands are the names run dispatches; "spikeloop help NAME" is
// "spikeloop NAME --help".
var commands = []string{"run", "sim", "plot", "check", "bench", "models", "apu", "version"}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "sim":
		err = cmdSim(args[1:], stdout, stderr)
	case "plot":
		err = cmdPlot(args[1:], stdout)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(args[1:], stdout)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "models":
		err = cmdModels(args[1:], stdout)
	case "apu":
		err = cmdAPU(args[1:], stdout, stderr)
	case "version":
		err = cmdVersion(args[1:], stdout)
	case "--version", "-version", "-v":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "spikeloop: %s takes no arguments, got %q\nsee \"spikeloop --help\"\n", args[0], args[1])
			return 2
		}
		fmt.Fprintln(stdout, "spikeloop", version())
		return 0
	case "help", "-h", "-help", "--help":
		if len(args) == 1 || slices.Contains([]string{"help", "-h", "-help", "--help"}, args[1]) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if !slices.Contains(commands, args[1]) {
			fmt.Fprintf(stderr, "spikeloop help: unknown command %q; commands: %s\n", args[1], strings.Join(commands, ", "))
			return 2
		}
		// "help bench loop" is "bench loop --help".
		return run(append(slices.Clone(args[1:]), "--help"), stdout, stderr)
	default:
		what := fmt.Sprintf("command %q", args[0])
		if strings.HasPrefix(args[0], "-") {
			what = fmt.Sprintf("flag %q (the command comes first)", args[0])
		}
		fmt.Fprintf(stderr, "spikeloop: unknown %s\nsee \"spikeloop --help\"\n", what)
		return 2
	}
	label := args[0]
	if label == "bench" && len(args) > 1 && (args[1] == "loop" || args[1] == "engine") {
		label = "bench " + args[1]
	}
	if label == "apu" && len(args) > 1 && args[1] == "serve" {
		label = "apu serve"
	}
	var (
		ue   usageError
		help helpRequest
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "spikeloop %s: %v\nsee \"spikeloop %s --help\"\n", label, err, label)
		return 2
	default:
		fmt.Fprintf(stderr, "spikeloop %s: %v\n", label, err)
		return 1
	}
}

// helpArg reports whether the positional arguments are the one word
// "help" (for commands that take a FILE: and no file of that name
// exists), which asks for the command's usage as --help does.
func helpArg(pos []string, takesFile bool) bool {
	if len(pos) != 1 || pos[0] != "help" {
		return false
	}
	if takesFile {
		if _, err := os.Stat("help"); err == nil {
			return false
		}
	}
	return true
}

var versionDoc = cmdDoc{
	usage: []string{"version", "--version"},
	text: `Prints the module version and, when the binary was built from a git
checkout, the commit (+dirty when the tree had changes).
`,
}

func cmdVersion(args []string, stdout io.Writer) error {
	fs := newFlags("version")
	pos, err := parseFlags(fs, versionDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, versionDoc)}
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	fmt.Fprintln(stdout, "spikeloop", version())
	return nil
}

// version is the binary's version: see formatVersion.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return formatVersion(bi.Main.Version, bi.Settings)
}

// formatVersion is the module version main (a pseudo-version such as
// v0.0.0-20261204201954-b93d58c12345+dirty when `go build` stamps it
// from git, "(devel)" under go run and go test) followed by the commit
// from the VCS settings when main does not already carry it, with
// "+dirty" for a modified tree.
func formatVersion(main string, settings []debug.BuildSetting) string {
	v := main
	if v == "" {
		v = "(devel)"
	}
	var rev string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" || strings.Contains(v, rev) {
		return v
	}
	v += " " + rev
	if dirty {
		v += "+dirty"
	}
	return v
}

// inputFlags collects repeated --input NAME=FILE.
type inputFlags map[string]string

func (f inputFlags) String() string  { return "" }
func (f inputFlags) argName() string { return "NAME=FILE" }
func (f inputFlags) Set(s string) error {
	name, file, ok := strings.Cut(s, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("must be NAME=FILE, got %q", s)
	}
	if _, dup := f[name]; dup {
		return fmt.Errorf("population %q given twice", name)
	}
	f[name] = file
	return nil
}

var simDoc = cmdDoc{
	usage: []string{
		"sim FILE --out DIR [--input NAME=FILE]... [--trials N] [--duration D] [--quiet] [--plot]",
		"sim FILE --out DIR --replay REC [--segment N] [--quiet]",
	},
	text: `Runs the network file FILE offline, as fast as it can, for the file's
duration (or --duration), and writes CSVs to DIR: spikes.csv (every
spike: population, neuron, time) and one POPULATION.STATE.csv per
recorded state (SYNAPSE.weight.csv for a monitored plastic synapse).

--input feeds an InputTransmitter population from a .csv (row k for
step k) or a .npy of neurai's shapes: (F,) for step 0 only, (T, F), and
a batch, (T, B, F) or with batch_first (B, T, F). A batch runs as B
trials, and --trials N runs N trials with the same inputs: the network
is reset between trials to what a fresh load with the same seed gives,
and trial b writes to DIR/trial_b (b from 1).

With --replay it runs a recording of "spikeloop run --record" on FILE
instead, feeding the recorded sensor values; the spikes are the live
run's.

Before writing, sim removes what an earlier run left in DIR that this
run does not write: spikes.csv and files named NAME.NAME.csv whose first
line is a header sim writes ("time_ms" and neuron or connection
numbers). It removes no other file.

With --threads N, each step runs on N threads: the neurons of LIF and
ExpLIF populations (exact method) and of HH and HHPSC (RKF45) are
divided among them, and so is the delivery of spikes to them; the outputs are the same bit for bit as with one
thread. A network with plastic or zero-delay synapses or SNNSRM neurons
runs on one thread, and sim says why.

With --plot, sim then draws DIR/plot.png and DIR/plot.svg as
"spikeloop plot DIR --net FILE" does.

arguments:
  FILE    the network file (YAML); flags may come before or after it
`,
}

func cmdSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim")
	out := fs.String("out", "", "output folder `DIR` (created; required)")
	inputs := inputFlags{}
	fs.Var(inputs, "input", "feed the InputTransmitter population NAME from FILE (.csv or .npy: (F,), (T, F), a batch (T, B, F) or (B, T, F) with batch_first) (repeatable)")
	trials := fs.Int("trials", 0, "run `N` trials, the network reset between them (default: the inputs' batch, or 1)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	plot := fs.Bool("plot", false, "after the run, draw DIR/plot.png and DIR/plot.svg (see \"spikeloop plot\")")
	duration := durationFlag(fs, "duration", 0, "model time to run, e.g. 500ms (default: the file's duration; with --replay: the recording's length)")
	replay := fs.String("replay", "", "replay `REC`, a recording of \"spikeloop run --record\", instead of running the file's duration")
	segment := fs.Int("segment", 0, "with --replay: replay run `N` of the recording, from 1 (default: the first)")
	threads := fs.Int("threads", 1, "run each step on `N` threads (same outputs as one)")
	backend := fs.String("backend", "cpu", "run the network on backend `NAME` (with --replay: default the one the recording names)")
	pos, err := parseFlags(fs, simDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, true) {
		return helpRequest{helpText(fs, simDoc)}
	}
	if len(pos) != 1 {
		return usageError{"want exactly one network FILE"}
	}
	if *out == "" {
		return usageError{"--out DIR is required"}
	}
	if *duration < 0 {
		return usageError{fmt.Sprintf("--duration: must be >= 0, got %v", *duration)}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *threads < 1 {
		return usageError{fmt.Sprintf("--threads: must be >= 1, got %d", *threads)}
	}
	if given["threads"] && given["replay"] {
		return usageError{"--threads cannot be used with --replay: a replay runs on one thread"}
	}
	if *trials < 0 {
		return usageError{fmt.Sprintf("--trials: must be >= 1 (or left out: the inputs' batch, or 1), got %d", *trials)}
	}
	if !apu.Known(*backend) {
		return usageError{fmt.Sprintf("--backend: %q: %v", *backend, apu.UnknownBackend(*backend))}
	}
	opt := offline.Options{OutDir: *out, Arrays: map[string]offline.Array{}, Trials: *trials}
	if !*quiet {
		opt.Progress = stderr
	}
	if given["replay"] && given["trials"] {
		return usageError{"--trials cannot be used with --replay: a recording is one run"}
	}
	if given["replay"] {
		if err := simReplay(pos[0], *replay, *segment, *backend, given, *duration, inputs, opt, stdout, stderr); err != nil || !*plot {
			return err
		}
		return plotDir(*out, figure.Options{}, stdout)
	}
	if given["segment"] {
		return usageError{fmt.Sprintf("--segment: %d needs --replay REC", *segment)}
	}
	net, err := models.LoadFile(pos[0], models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return err
	}
	if *duration > 0 {
		ms := float64(*duration) / float64(time.Millisecond)
		steps := math.Round(ms / net.Dt)
		if steps < 1 || math.Abs(steps*net.Dt-ms) > 1e-9*max(1, ms) {
			return usageError{fmt.Sprintf("--duration: must be a whole number of steps of dt %g ms, got %v", net.Dt, *duration)}
		}
		net.Duration = ms
	}
	if net.Duration == 0 {
		return fmt.Errorf("%s: duration is 0 or missing; set duration (ms) in the file or give --duration", pos[0])
	}
	for name, file := range inputs {
		a, err := offline.ReadInputArray(file)
		if err != nil {
			return fmt.Errorf("--input %s: %w", name, err)
		}
		opt.Arrays[name] = a
	}
	eng, err := apu.Open(*backend, apu.Options{Threads: *threads})
	if err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	sum, err := offline.Run(net, eng, opt)
	if t, ok := eng.(interface{ ThreadsNote() string }); ok && t.ThreadsNote() != "" {
		fmt.Fprintf(stderr, "--threads %d: running on one thread: %s\n", *threads, t.ThreadsNote())
	}
	if err != nil {
		return err
	}
	printSummary(stdout, net, sum)
	if *plot {
		dirs := []string{*out}
		if sum.Trials > 1 {
			dirs = dirs[:0]
			for b := 1; b <= sum.Trials; b++ {
				dirs = append(dirs, filepath.Join(*out, fmt.Sprintf("trial_%d", b)))
			}
		}
		for _, dir := range dirs {
			if err := plotDir(dir, figure.Options{Populations: plotPopulations(net), Duration: net.Duration}, stdout); err != nil {
				return err
			}
		}
	}
	return nil
}

func printSummary(stdout io.Writer, net *models.Network, sum offline.Summary) {
	if sum.Trials > 1 {
		fmt.Fprintf(stdout, "simulated %d trials of %g ms (%d steps) in %.3f s: %d spikes\n", sum.Trials, float64(sum.Steps)*net.Dt, sum.Steps, sum.Wall.Seconds(), sum.Spikes)
	} else {
		fmt.Fprintf(stdout, "simulated %g ms (%d steps) in %.3f s: %d spikes\n", float64(sum.Steps)*net.Dt, sum.Steps, sum.Wall.Seconds(), sum.Spikes)
	}
	for _, f := range sum.Files {
		fmt.Fprintln(stdout, "wrote", f)
	}
	for _, f := range sum.Removed {
		fmt.Fprintln(stdout, "removed", f, "(an earlier run's output)")
	}
}

var checkDoc = cmdDoc{
	usage: []string{"check FILE", "check --config FILE"},
	text: `Validates the network file FILE without running it and summarises it:
populations, synapses and connections, monitors, and the memory the cpu
engine needs. With --config, validates a daemon config instead (the file
"spikeloop run --config" reads, with its network, board parts and pins,
and telemetry section), opening no hardware output; run it before
starting the service. Exit status: 0 valid, 1 invalid (each problem as
FILE:LINE: field: what is wrong), 2 bad usage.

arguments:
  FILE    the network file (YAML)
`,
}

func cmdCheck(args []string, stdout io.Writer) error {
	fs := newFlags("check")
	config := fs.String("config", "", "validate the daemon config `FILE` instead of a network file")
	backend := fs.String("backend", "cpu", "check FILE against backend `NAME`; fixed prints the APU compiler's quantization report")
	pos, err := parseFlags(fs, checkDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, true) {
		return helpRequest{helpText(fs, checkDoc)}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["config"] {
		switch {
		case *config == "":
			return usageError{"--config needs a FILE"}
		case len(pos) > 0:
			return usageError{fmt.Sprintf("give a network FILE or --config FILE, not both (got %q)", pos[0])}
		case given["backend"]:
			return usageError{"--backend applies to a network FILE; a daemon config names its backend (backend:)"}
		}
		return daemon.CheckConfig(*config, stdout)
	}
	if *backend != compileBackend && !apu.Known(*backend) {
		return usageError{fmt.Sprintf("--backend: %q: %v", *backend, apu.UnknownBackend(*backend))}
	}
	if len(pos) != 1 {
		return usageError{"want exactly one network FILE (or --config FILE for a daemon config)"}
	}
	args = pos
	net, err := models.LoadFile(args[0], models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		if looksLikeConfig(args[0]) {
			return fmt.Errorf("%w\n%s looks like a daemon config, not a network file: \"spikeloop check --config %s\" checks it", err, args[0], args[0])
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: valid network file\n", args[0])
	daemon.NetworkSummary(stdout, net)
	if *backend == compileBackend {
		// The APU's compiler: what it refuses, or its report.
		_, rep, err := compile.Compile(net)
		if err != nil {
			return fmt.Errorf("the fixed backend (APU) cannot run %s:\n%w", args[0], err)
		}
		fmt.Fprintln(stdout)
		return rep.Write(stdout)
	}
	var pr apu.Probe
	if *backend == cpu.Name {
		pr, err = cpu.New().Probe(net)
	} else {
		var b apu.Backend
		if b, err = apu.Open(*backend, apu.Options{}); err == nil {
			pr, err = b.Probe(net)
			err = errors.Join(err, b.Close())
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "memory estimate (%s backend): %s\n", *backend, daemon.ByteSize(pr.Memory))
	return nil
}

// compileBackend is the backend whose check prints the APU compiler's
// quantization report (apu/compile) instead of a probe.
const compileBackend = "fixed"

// looksLikeConfig reports whether the file has the top-level keys of a
// daemon config (board: and network:) rather than of a network file.
func looksLikeConfig(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	keys := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && k != "" && !strings.ContainsAny(k[:1], " \t#-") {
			keys[strings.TrimSpace(k)] = true
		}
	}
	return keys["board"] && keys["network"] && !keys["populations"]
}

var modelsDoc = cmdDoc{
	usage: []string{"models [CLASS]"},
	text: `Lists every model class a network file can use, with its parameters:
unit, default, constraint and meaning, then the surrogate functions of
the stepwise classes. With CLASS, that class only, and the page of the
model reference (docs/models/) that explains it. A parameter neurai has
that changes nothing in spikeloop says "accepted, no effect" and why.

arguments:
  CLASS   a class name, e.g. LIF or ExpLIF (default: all)
`,
}

func cmdModels(args []string, stdout io.Writer) error {
	fs := newFlags("models")
	pos, err := parseFlags(fs, modelsDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, modelsDoc)}
	}
	reg := models.NewRegistry()
	classes := reg.Classes()
	if len(pos) > 1 {
		return usageError{"want at most one CLASS"}
	}
	if len(pos) == 1 {
		c, ok := reg.Lookup(pos[0])
		if !ok {
			return fmt.Errorf("unknown class %q%s; known: %s", pos[0], models.DidYouMean(pos[0], reg.ClassNames()), reg.Names())
		}
		classes = []*models.Class{c}
	}
	for i, c := range classes {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s — %s\n", c.Name, c.Doc)
		if len(c.States) > 0 {
			fmt.Fprintf(stdout, "  states: %s\n", strings.Join(c.States, ", "))
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  parameter\tunit\tdefault\tconstraint\tmeaning")
		for _, p := range c.Params {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, dash(p.Unit), fmtDefault(p.Default), dash(constraint(p)), meaning(p))
		}
		tw.Flush()
		if len(pos) == 1 {
			fmt.Fprintf(stdout, "  reference: %s\n", referencePage(c))
		}
	}
	if len(pos) == 0 {
		printSurrogates(stdout)
	}
	return nil
}

// referencePage is the page of docs/models that explains a class.
func referencePage(c *models.Class) string {
	page := map[string]string{
		"LIF": "lif.md", "ExpLIF": "lif.md", "GLIF3": "glif.md", "GLIF3PSC": "glif.md",
		"HH": "hh.md", "HHPSC": "hh.md", "Izhikevich": "izhikevich.md",
	}[c.Name]
	switch {
	case c.Stepwise:
		page = "stepwise.md"
	case page == "":
		page = "generators.md"
	}
	return "docs/models/" + page + " (porting from neurai: docs/models/neurai.md)"
}

// printSurrogates lists the surrogate functions a stepwise class's
// surrogate_grad_fn takes, with their parameters and defaults.
func printSurrogates(stdout io.Writer) {
	fmt.Fprintln(stdout, "\nsurrogate functions (surrogate_grad_fn of the stepwise classes; the forward is the step function):")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\talso\tdefault\tderivative g'(x)")
	for _, in := range surrogate.Infos() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", in.Name, dash(strings.Join(in.Aliases, ", ")), surrogate.Default(in.Kind), in.Grad)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "  written as a name, a call (Sigmoid(alpha=4)), a qualified name (surrogate.ATan()) or {name: ATan, alpha: 2}")
}

// meaning is the parameter's description; a parameter accepted for
// neurai's sake that changes nothing says so, with the reason.
func meaning(p models.Param) string {
	if p.NoEffect == "" {
		return p.Doc
	}
	return p.Doc + " [accepted, no effect: " + p.NoEffect + "]"
}

func constraint(p models.Param) string {
	if p.Kind == models.Enum {
		return "one of " + strings.Join(p.Choices, ", ")
	}
	return p.Constraint
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtDefault(v any) string {
	switch d := v.(type) {
	case nil:
		return "null"
	case []float64:
		s := make([]string, len(d))
		for i, x := range d {
			s[i] = fmt.Sprint(x)
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	return fmt.Sprint(v)
}
