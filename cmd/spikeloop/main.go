// Command spikeloop runs spiking networks: `run` is the daemon (the
// closed loop with the board), `sim` runs a network file offline (or
// replays a recording of `run`) and writes CSVs, `check` validates one,
// `bench loop` measures the loop's lateness, `models` lists the model
// classes, `version` prints the build. The work is done by the packages
// below (daemon, models, apu/cpu, apu/offline); main only parses flags
// and maps errors to exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/models"
)

const usage = `usage: spikeloop <command> [arguments]

commands:
  run [--config FILE] [--duration D] [--record FILE] [--no-telemetry]
                                    the daemon: the closed loop (no --config: the built-in demo)
  sim FILE --out DIR [--input NAME=FILE]... [--duration D]
                                    run a network file, write CSVs
  sim FILE --out DIR --replay REC [--segment N]
                                    replay a recording of "run --record" on FILE, write CSVs
  check FILE                        validate a network file and summarise it
  bench loop [--rate HZ] [--duration D] [--cpu N] [--priority P] [--spin D] [--no-telemetry]
                                    run the demo's loop on the wall clock, print its lateness
  models [CLASS]                    list model classes and parameters
  version                           print the version

"spikeloop <command> -h" lists a command's flags.
`

// exit codes: 1 the work failed (bad file, run error), 2 bad usage.
func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "sim":
		err = cmdSim(args[1:], stdout, stderr)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(args[1:], stdout)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "models":
		err = cmdModels(args[1:], stdout)
	case "version":
		fmt.Fprintln(stdout, "spikeloop", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "spikeloop: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "spikeloop %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "spikeloop %s: %v\n", args[0], err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
		return v
	}
	return "(unknown)"
}

// inputFlags collects repeated --input NAME=FILE.
type inputFlags map[string]string

func (f inputFlags) String() string { return "" }
func (f inputFlags) Set(s string) error {
	name, file, ok := strings.Cut(s, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("want NAME=FILE, got %q", s)
	}
	if _, dup := f[name]; dup {
		return fmt.Errorf("population %q given twice", name)
	}
	f[name] = file
	return nil
}

// parseInterspersed lets flags come after the positional FILE, as the
// README writes `spikeloop sim FILE --out DIR`.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdSim(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output folder (created)")
	inputs := inputFlags{}
	fs.Var(inputs, "input", "NAME=FILE.csv|FILE.npy: feed InputTransmitter NAME, row k for step k (repeatable)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	duration := fs.Duration("duration", 0, "model time to run, e.g. 500ms (default: the file's duration; with --replay: the recording's length)")
	replay := fs.String("replay", "", "replay `REC`, a recording of `spikeloop run --record`, instead of running the file's duration")
	segment := fs.Int("segment", 0, "with --replay: which run of the recording to replay, from 1 (default: the first)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one network FILE"}
	}
	if *out == "" {
		return usageError{"--out DIR is required"}
	}
	if *duration < 0 {
		return usageError{fmt.Sprintf("--duration %v is negative", *duration)}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	opt := offline.Options{OutDir: *out, Inputs: map[string][][]float64{}}
	if !*quiet {
		opt.Progress = stderr
	}
	if given["replay"] {
		return simReplay(pos[0], *replay, *segment, given, *duration, inputs, opt, stdout, stderr)
	}
	if given["segment"] {
		return usageError{fmt.Sprintf("--segment %d needs --replay REC", *segment)}
	}
	net, err := models.LoadFile(pos[0], models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return err
	}
	if *duration > 0 {
		ms := float64(*duration) / float64(time.Millisecond)
		steps := math.Round(ms / net.Dt)
		if steps < 1 || math.Abs(steps*net.Dt-ms) > 1e-9*max(1, ms) {
			return usageError{fmt.Sprintf("--duration %v is not a whole number of steps of dt %g ms", *duration, net.Dt)}
		}
		net.Duration = ms
	}
	if net.Duration == 0 {
		return fmt.Errorf("%s: duration is 0 or missing; set duration (ms) in the file or give --duration", pos[0])
	}
	for name, file := range inputs {
		rows, err := offline.ReadInput(file)
		if err != nil {
			return fmt.Errorf("--input %s: %w", name, err)
		}
		opt.Inputs[name] = rows
	}
	sum, err := offline.Run(net, cpu.New(), opt)
	if err != nil {
		return err
	}
	printSummary(stdout, net, sum)
	return nil
}

func printSummary(stdout io.Writer, net *models.Network, sum offline.Summary) {
	fmt.Fprintf(stdout, "simulated %g ms (%d steps) in %.3f s: %d spikes\n", float64(sum.Steps)*net.Dt, sum.Steps, sum.Wall.Seconds(), sum.Spikes)
	for _, f := range sum.Files {
		fmt.Fprintln(stdout, "wrote", f)
	}
}

func cmdCheck(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"want exactly one network FILE"}
	}
	net, err := models.LoadFile(args[0], models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid network file\n", args[0])
	fmt.Fprintf(stdout, "dt %g ms, duration %g ms (%d steps), seed %d\n\n", net.Dt, net.Duration, net.Steps(), net.Seed)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "population\tmodel\tsize")
	units := 0
	for _, p := range net.Populations {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", p.Name, p.Class.Name, p.Size)
		units += p.Size
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "synapse\tpre -> post\trule\tconnections\tdelays (steps)")
	conns := 0
	for _, s := range net.Synapses {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("#%d", s.Index)
		}
		lo, hi := int32(0), int32(0)
		for i, d := range s.Delays {
			if i == 0 || d < lo {
				lo = d
			}
			hi = max(hi, d)
		}
		fmt.Fprintf(tw, "%s\t%s -> %s\t%s\t%d\t%d..%d\n", name, s.Pre.Name, s.Post.Name, s.Rule.Rule, len(s.Conns), lo, hi)
		conns += len(s.Conns)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d units, %d connections, %d monitors\n", units, conns, len(net.Monitors))
	fmt.Fprintf(stdout, "memory estimate (cpu engine): %s\n", byteSize(cpu.EstimateMemory(net)))
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func cmdModels(args []string, stdout io.Writer) error {
	reg := models.NewRegistry()
	classes := reg.Classes()
	if len(args) > 1 {
		return usageError{"want at most one CLASS"}
	}
	if len(args) == 1 {
		c, ok := reg.Lookup(args[0])
		if !ok {
			return fmt.Errorf("unknown class %q; known: %s", args[0], reg.Names())
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
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, dash(p.Unit), fmtDefault(p.Default), dash(constraint(p)), p.Doc)
		}
		tw.Flush()
	}
	return nil
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
