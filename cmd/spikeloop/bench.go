package main

import (
	"context"
	"fmt"
	"github.com/spikeloop/spikeloop/apu"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/daemon"
)

var benchDoc = cmdDoc{
	usage: []string{
		"bench loop [--rate HZ] [--duration D] [--cpu N] [--priority P] [--spin D] [--no-telemetry] [--page ADDR [--page-warmup D]] [--backend NAME [--hz HZ]]",
		"bench engine [--threads N] [--rounds R] [--seconds S] [--only NAME] [--c-kernel BINARY] [--brian2 SCRIPT [--python PYTHON]]",
	},
	text: `Benchmarks. "bench loop" times the daemon's loop on the wall clock;
"bench engine" runs the engine's benchmark networks and prints a table
(the same networks as "go test -run XXX -bench . ./apu/cpu/").

"spikeloop bench loop --help" and "spikeloop bench engine --help" list
their flags.
`,
}

var benchLoopDoc = cmdDoc{
	usage: []string{"bench loop [--rate HZ] [--duration D] [--cpu N] [--priority P] [--spin D] [--no-telemetry] [--page ADDR [--page-warmup D]] [--backend NAME [--hz HZ]]"},
	text: `Runs the daemon's real loop with the demo (network, emulated board,
vehicle) on the wall clock, publishing telemetry to an embedded broker
on a free port unless --no-telemetry, and prints how late the loop woke,
on stdout:
  lateness_us p50=X p99=Y p999=Z overruns=N ticks=M
and the worst tick to stderr. With --backend apu the network runs on the
emulated APU the demo's board carries, and a second line gives the time
per tick on its link (host wall time) and on its wire (the bytes at the
SPI clock, --hz):
  link_us_per_tick p50=X p99=Y p999=Z frames=N bytes=N crc_errors=N retries=N timeouts=N wire_us_per_tick=W SIGINT stops it early and still
prints the line for the ticks run. With --page ADDR the live page is
served at http://ADDR/ during the run (stderr says when), to measure
the loop while browsers watch it; --page-warmup D serves it for D
first, unmeasured, so that the pages are open, not loading, when the
measured run starts.

arguments: none
`,
}

// cmdBench is `spikeloop bench loop [--rate HZ] [--duration D] [--cpu N]
// [--priority P] [--spin D] [--no-telemetry]`: the daemon's real loop with the demo
// network on the emulated board, on the wall clock, publishing telemetry
// to an embedded broker on a free port unless --no-telemetry. Its last line on stdout is
// "lateness_us p50=X p99=Y p999=Z overruns=N ticks=M"; warnings (a
// refused SCHED_FIFO, for instance) go to stderr. SIGINT stops it early
// and still prints the line for the ticks run.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			return helpRequest{helpText(newFlags("bench"), benchDoc)}
		case "loop":
			return cmdBenchLoop(args[1:], stdout, stderr)
		case "engine":
			return cmdBenchEngine(args[1:], stdout, stderr)
		}
	}
	what := "nothing"
	if len(args) > 0 {
		what = fmt.Sprintf("%q", args[0])
	}
	return usageError{fmt.Sprintf("subcommand: must be \"bench loop\" or \"bench engine\", got %s", what)}
}

func cmdBenchLoop(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench loop")
	rate := fs.Float64("rate", 1000, "the loop's rate in `HZ`, ticks per second; the tick 1/rate must fit the demo's 0.1 ms network steps and 50 ms windows: e.g. 500, 1000, 2000, 2500, 5000")
	duration := durationFlag(fs, "duration", 10*time.Second, "wall-clock time to run, e.g. 60s")
	cpu := fs.Int("cpu", -1, "pin the loop's thread to CPU `N` (-1: no pinning)")
	priority := fs.Int("priority", 0, "run the loop's thread under SCHED_FIFO at priority `P`, 1..99 (0: normal scheduling)")
	spin := durationFlag(fs, "spin", 0, "end each sleep this much before the deadline and wait the rest busy, e.g. 200us (0: sleep only)")
	noTelemetry := fs.Bool("no-telemetry", false, "measure the loop alone: no embedded broker, no publisher, no sampler")
	page := fs.String("page", "", "serve the live page at `ADDR` (loopback host:port, e.g. 127.0.0.1:9464) during the run")
	backend := fs.String("backend", "", "run the demo's network on backend `NAME` (default cpu; apu: on the emulated APU the demo's board carries on SPI0.1)")
	hz := fs.Int64("hz", 0, "with --backend apu: the SPI clock of the emulated APU's link in `HZ`, 1..20000000 (default the demo's 10000000)")
	warmup := durationFlag(fs, "page-warmup", 0, "with --page: serve the page this long before the measured run (time to open pages; they stay connected), e.g. 20s")
	pos, err := parseFlags(fs, benchLoopDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, benchLoopDoc)}
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if math.IsNaN(*rate) || math.IsInf(*rate, 0) || *rate <= 0 {
		return usageError{fmt.Sprintf("--rate: must be a finite number of Hz > 0, got %v", *rate)}
	}
	tick, err := daemon.BenchTick(*rate)
	if err != nil {
		return usageError{fmt.Sprintf("--rate: %v Hz: %v", *rate, err)}
	}
	switch {
	case *duration <= 0:
		return usageError{fmt.Sprintf("--duration: must be > 0, got %v", *duration)}
	case *duration < tick:
		return usageError{fmt.Sprintf("--duration: must be at least one tick (%v at --rate %v), got %v", tick, *rate, *duration)}
	case *cpu < -1 || *cpu >= 1024:
		return usageError{fmt.Sprintf("--cpu: must be a CPU number 0..1023, or -1 for no pinning, got %d", *cpu)}
	case *spin < 0:
		return usageError{fmt.Sprintf("--spin: must be >= 0, got %v", *spin)}
	case *spin >= tick:
		return usageError{fmt.Sprintf("--spin: must be less than the tick (%v), got %v", tick, *spin)}
	case *priority < 0 || *priority > 99:
		return usageError{fmt.Sprintf("--priority: must be 1..99 (SCHED_FIFO) or 0 (normal scheduling), got %d", *priority)}
	case *backend != "" && !apu.Known(*backend):
		return usageError{fmt.Sprintf("--backend: %q: %v", *backend, apu.UnknownBackend(*backend))}
	case *hz < 0 || *hz > 20_000_000:
		return usageError{fmt.Sprintf("--hz: must be 1..20000000 (the emulated APU's fastest clock), or 0 for the demo's, got %d", *hz)}
	case *hz != 0 && *backend != "apu":
		return usageError{fmt.Sprintf("--hz: only with --backend apu, got --backend %q", *backend)}
	}
	var rt daemon.RealtimeConfig
	if *cpu >= 0 {
		rt.CPU = cpu
	}
	rt.Priority = *priority
	rt.Spin = *spin
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).Level(zerolog.WarnLevel).With().Timestamp().Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var st daemon.Stats
	switch {
	case *page != "" && *noTelemetry:
		return usageError{"--page needs the telemetry that --no-telemetry turns off"}
	case *warmup < 0 || (*warmup > 0 && *page == ""):
		return usageError{fmt.Sprintf("--page-warmup: must be a duration > 0 with --page, got %v", *warmup)}
	case *page != "":
		// One WebSocket address for both runs, so that pages opened in
		// the warm-up reconnect to the measured run without reloading.
		ws, err := freeLoopback()
		if err != nil {
			return err
		}
		if *warmup > 0 {
			fmt.Fprintf(stderr, "live page: http://%s/ (warm-up %v, not measured)\n", *page, *warmup)
			if _, err := daemon.BenchLoopPage(ctx, *rate, *warmup, rt, *backend, *page, ws, &log); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "live page: http://%s/, measuring %v\n", *page, *duration)
		st, err = daemon.BenchLoopPage(ctx, *rate, *duration, rt, *backend, *page, ws, &log)
		if err != nil {
			return err
		}
	default:
		st, err = daemon.BenchLoopHz(ctx, *rate, *duration, rt, *backend, *hz, *noTelemetry, &log)
	}
	if err != nil {
		return err
	}
	// The worst tick, on stderr: whether overruns came from late
	// wake-ups or from slow work.
	fmt.Fprintf(stderr, "max_lateness_us=%d max_step_us=%d step_p99_us=%d skipped=%d\n", st.MaxLateness.Microseconds(),
		st.MaxStep.Microseconds(), st.StepTime.Quantile(0.99).Microseconds(), st.Skipped)
	fmt.Fprintln(stdout, st.LatenessLine())
	if l := st.LinkLine(); l != "" {
		fmt.Fprintln(stdout, l)
	}
	return nil
}

// freeLoopback is a loopback host:port free a moment ago.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench: a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
