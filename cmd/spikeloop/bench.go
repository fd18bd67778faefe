package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/daemon"
)

// cmdBench is `spikeloop bench loop [--rate HZ] [--duration D] [--cpu N]
// [--priority P] [--spin D] [--no-telemetry]`: the daemon's real loop with the demo
// network on the emulated board, on the wall clock, publishing telemetry
// to an embedded broker on a free port unless --no-telemetry. Its last line on stdout is
// "lateness_us p50=X p99=Y p999=Z overruns=N ticks=M"; warnings (a
// refused SCHED_FIFO, for instance) go to stderr. SIGINT stops it early
// and still prints the line for the ticks run.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "loop" {
		what := "nothing"
		if len(args) > 0 {
			what = fmt.Sprintf("%q", args[0])
		}
		return usageError{fmt.Sprintf("want `bench loop`, got %s (the engine's benchmarks are `go test -bench . ./apu/cpu/`)", what)}
	}
	fs := flag.NewFlagSet("bench loop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rate := fs.Float64("rate", 1000, "ticks per second; 1/rate must be a whole number of the demo network's 0.1 ms steps")
	duration := fs.Duration("duration", 10*time.Second, "wall-clock time to run")
	cpu := fs.Int("cpu", -1, "pin the loop's thread to this CPU (-1: no pinning)")
	priority := fs.Int("priority", 0, "1..99: run the loop's thread under SCHED_FIFO at this priority (0: normal scheduling)")
	spin := fs.Duration("spin", 0, "end each sleep this much before the deadline and wait the rest busy, e.g. 200us (0: sleep only)")
	noTelemetry := fs.Bool("no-telemetry", false, "measure the loop alone: no embedded broker, no publisher, no sampler")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	switch {
	case math.IsNaN(*rate) || math.IsInf(*rate, 0) || *rate <= 0:
		return usageError{fmt.Sprintf("--rate %v: want a finite number of Hz > 0", *rate)}
	case *duration <= 0:
		return usageError{fmt.Sprintf("--duration %v: want > 0", *duration)}
	case *cpu < -1 || *cpu >= 1024:
		return usageError{fmt.Sprintf("--cpu %d: want a CPU number 0..1023, or -1 for no pinning", *cpu)}
	case *spin < 0 || *spin >= time.Duration(float64(time.Second) / *rate + 0.5):
		return usageError{fmt.Sprintf("--spin %v: want 0 <= spin < one tick (1/--rate)", *spin)}
	case *priority < 0 || *priority > 99:
		return usageError{fmt.Sprintf("--priority %d: want 1..99 (SCHED_FIFO) or 0 (normal scheduling)", *priority)}
	}
	tick := time.Duration(float64(time.Second) / *rate + 0.5)
	if tick <= 0 || *duration < tick {
		return usageError{fmt.Sprintf("--duration %v is shorter than one tick (%v at --rate %v)", *duration, tick, *rate)}
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
	st, err := daemon.BenchLoop(ctx, *rate, *duration, rt, *noTelemetry, &log)
	if err != nil {
		return fmt.Errorf("--rate %v --duration %v: %w", *rate, *duration, err)
	}
	// The worst tick, on stderr: whether overruns came from late
	// wake-ups or from slow work.
	fmt.Fprintf(stderr, "max_lateness_us=%d max_step_us=%d step_p99_us=%d skipped=%d\n", st.MaxLateness.Microseconds(),
		st.MaxStep.Microseconds(), st.StepTime.Quantile(0.99).Microseconds(), st.Skipped)
	fmt.Fprintln(stdout, st.LatenessLine())
	return nil
}
