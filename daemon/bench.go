package daemon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// BenchLoop runs the demo (network, emulated board, vehicle) on the wall
// clock at rate ticks per second for d, and returns the run's figures.
// The tick 1/rate must be a whole number of the demo network's steps
// (0.1 ms). rt asks for pinning and SCHED_FIFO as the config's realtime
// section does. The demo's telemetry runs too, on an embedded broker on
// a free port (noTelemetry: without it, the loop alone).
// `Stats.LatenessLine` formats the result.
func BenchLoop(ctx context.Context, rate float64, d time.Duration, rt RealtimeConfig, noTelemetry bool, log *zerolog.Logger) (Stats, error) {
	if !(rate > 0) || math.IsInf(rate, 0) || d <= 0 {
		return Stats{}, fmt.Errorf("daemon: bench: rate %v Hz and duration %v must be finite and > 0", rate, d)
	}
	tick := time.Duration(float64(time.Second)/rate + 0.5)
	if tick <= 0 || d < tick {
		// Options.Ticks 0 would mean "run until cancelled".
		return Stats{}, fmt.Errorf("daemon: bench: duration %v is shorter than one tick (%v at %v Hz)", d, tick, rate)
	}
	text := strings.Replace(string(demoConfig), "tick: 1ms", "tick: "+tick.String(), 1)
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		return Stats{}, fmt.Errorf("daemon: bench at %v Hz: %w", rate, err)
	}
	var errs []error
	rt.check(tick, func(field string, sentinel error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), sentinel))
	})
	if len(errs) > 0 {
		return Stats{}, fmt.Errorf("daemon: bench: %w", errors.Join(errs...))
	}
	cfg.Realtime = rt
	if noTelemetry {
		cfg.Telemetry = nil
	}
	if t := cfg.Telemetry; t != nil {
		// The loop is measured as it runs on a board, publishing; the
		// broker takes a free port and the store a folder of its own,
		// so that a bench never meets a running daemon's.
		store, err := os.MkdirTemp("", "spikeloop-bench-")
		if err != nil {
			return Stats{}, fmt.Errorf("daemon: bench: %w", err)
		}
		defer os.RemoveAll(store)
		t.StoreDir, t.Embedded.Listen, t.Metrics.Listen = store, "127.0.0.1:0", ""
	}
	if log == nil {
		nop := zerolog.Nop()
		log = &nop
	}
	dm, err := New(cfg, Options{Logger: log, Ticks: int64(d / tick), SummaryEvery: -1})
	if err != nil {
		return Stats{}, err
	}
	err = dm.Run(ctx)
	if cerr := dm.Close(); err == nil {
		err = cerr
	}
	return dm.Stats(), err
}

// LatenessLine is the one-line summary of a run's wake-up lateness:
// "lateness_us p50=X p99=Y p999=Z overruns=N ticks=M".
func (s *Stats) LatenessLine() string {
	q := func(x float64) int64 { return s.Lateness.Quantile(x).Microseconds() }
	return fmt.Sprintf("lateness_us p50=%d p99=%d p999=%d overruns=%d ticks=%d", q(0.5), q(0.99), q(0.999), s.Overruns, s.Ticks)
}
