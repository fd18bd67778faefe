package daemon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
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
// backend names the backend the network runs on ("": the demo's, cpu).
// `Stats.LatenessLine` formats the result.
func BenchLoop(ctx context.Context, rate float64, d time.Duration, rt RealtimeConfig, backend string, noTelemetry bool, log *zerolog.Logger) (Stats, error) {
	return benchLoop(ctx, rate, d, rt, backend, 0, noTelemetry, "", "", log)
}

// BenchLoopHz is BenchLoop with the demo's emulated APU link clocked at
// hz (0: the demo's 10 MHz), for `bench loop --backend apu --hz`.
func BenchLoopHz(ctx context.Context, rate float64, d time.Duration, rt RealtimeConfig, backend string, hz int64, noTelemetry bool, log *zerolog.Logger) (Stats, error) {
	return benchLoop(ctx, rate, d, rt, backend, hz, noTelemetry, "", "", log)
}

// BenchLoopPage is BenchLoop with the demo's telemetry and its live page
// served at page (host:port, loopback), the broker's WebSocket listener
// at ws (empty: a free port): the loop measured while browsers watch it.
// Pages left open from an earlier run with the same addresses reconnect.
func BenchLoopPage(ctx context.Context, rate float64, d time.Duration, rt RealtimeConfig, backend, page, ws string, log *zerolog.Logger) (Stats, error) {
	if page == "" {
		return Stats{}, errors.New("daemon: bench: no address for the live page")
	}
	if ws == "" {
		ws = "127.0.0.1:0"
	}
	return benchLoop(ctx, rate, d, rt, backend, 0, false, page, ws, log)
}

func benchLoop(ctx context.Context, rate float64, d time.Duration, rt RealtimeConfig, backend string, hz int64, noTelemetry bool, page, ws string, log *zerolog.Logger) (Stats, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return Stats{}, fmt.Errorf("daemon: bench: rate: must be a finite number of Hz > 0, got %v", rate)
	}
	if d <= 0 {
		return Stats{}, fmt.Errorf("daemon: bench: duration: must be > 0, got %v", d)
	}
	tick, cfg, err := benchConfig(rate)
	if err != nil {
		return Stats{}, fmt.Errorf("daemon: bench: %w", err)
	}
	if d < tick {
		// Options.Ticks 0 would mean "run until cancelled".
		return Stats{}, fmt.Errorf("daemon: bench: duration: must be at least one tick (%v at %v Hz), got %v", tick, rate, d)
	}
	var errs []error
	rt.check(tick, func(field string, sentinel error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", field, &problem{fmt.Sprintf(format, args...), sentinel}))
	})
	if len(errs) > 0 {
		return Stats{}, fmt.Errorf("daemon: bench: %w", errors.Join(errs...))
	}
	cfg.Realtime = rt
	if hz != 0 {
		if hz < 0 || hz > maxLinkHz {
			return Stats{}, fmt.Errorf("daemon: bench: hz: must be 1..%d, got %d", maxLinkHz, hz)
		}
		cfg.Backend.Hz = hz
	}
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
		t.Embedded.WebSocketListen = "" // the live page: only with BenchLoopPage
		if page != "" {
			t.Metrics.Listen, t.Embedded.WebSocketListen = page, ws
		}
	}
	if log == nil {
		nop := zerolog.Nop()
		log = &nop
	}
	dm, err := New(cfg, Options{Logger: log, Backend: backend, Ticks: int64(d / tick), SummaryEvery: -1})
	if err != nil {
		return Stats{}, err
	}
	err = dm.Run(ctx)
	if cerr := dm.Close(); err == nil {
		err = cerr
	}
	return dm.Stats(), err
}

// BenchTick returns the tick of BenchLoop at rate ticks per second, or
// an error, wrapping ErrMismatch, that says why the demo cannot run at
// that rate and lists the whole-number rates it can run at. It names no
// file: the demo's config is built in.
func BenchTick(rate float64) (time.Duration, error) {
	tick, _, err := benchConfig(rate)
	return tick, err
}

// benchConfig is the demo's config with a tick of 1/rate.
func benchConfig(rate float64) (time.Duration, *Config, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return 0, nil, fmt.Errorf("%w: rate: must be a finite number of Hz > 0, got %v", ErrRange, rate)
	}
	tick := time.Duration(float64(time.Second)/rate + 0.5)
	if tick <= 0 {
		return 0, nil, fmt.Errorf("%v Hz: the tick rounds to 0: %w", rate, ErrRange)
	}
	cfg, err := demoAtTick(tick)
	if err != nil {
		var fit []string
		for r := 1; r <= 10000; r++ {
			if time.Second%time.Duration(r) != 0 {
				continue
			}
			if _, err := demoAtTick(time.Second / time.Duration(r)); err == nil {
				fit = append(fit, strconv.Itoa(r))
			}
		}
		// ErrMismatch reads "does not fit".
		return 0, nil, fmt.Errorf("a tick of %v %w the demo (its network's steps, output windows "+
			"and telemetry period must be whole numbers of ticks); whole-number rates that fit: %s Hz",
			tick, ErrMismatch, strings.Join(fit, ", "))
	}
	return tick, cfg, nil
}

func demoAtTick(tick time.Duration) (*Config, error) {
	text := strings.Replace(string(demoConfig), "tick: 1ms", "tick: "+tick.String(), 1)
	return Parse([]byte(text), "demo.yaml", demoNetwork)
}

// LinkLine is the one-line summary of the time a run's ticks spent on
// the backend's link, "" without a link: "link_us_per_tick p50=X
// p99=Y p999=Z frames=N bytes=N crc_errors=N retries=N timeouts=N",
// and with the emulated APU its wire time per tick at the SPI clock.
func (s *Stats) LinkLine() string {
	if s.LinkTime.Count() == 0 {
		return ""
	}
	q := func(x float64) float64 { return float64(s.LinkTime.Quantile(x)) / float64(time.Microsecond) }
	l := s.Link
	line := fmt.Sprintf("link_us_per_tick p50=%.0f p99=%.0f p999=%.0f frames=%d bytes=%d crc_errors=%d retries=%d timeouts=%d",
		q(0.5), q(0.99), q(0.999), l.FramesIn+l.FramesOut, l.BytesIn+l.BytesOut, l.CRCErrors, l.Retries, l.Timeouts)
	if s.EmulatedWire > 0 && s.Ticks > 0 {
		line += fmt.Sprintf(" wire_us_per_tick=%.1f", float64(s.EmulatedWire)/float64(s.Ticks)/float64(time.Microsecond))
	}
	return line
}

// LatenessLine is the one-line summary of a run's wake-up lateness:
// "lateness_us p50=X p99=Y p999=Z overruns=N ticks=M".
func (s *Stats) LatenessLine() string {
	q := func(x float64) int64 { return s.Lateness.Quantile(x).Microseconds() }
	return fmt.Sprintf("lateness_us p50=%d p99=%d p999=%d overruns=%d ticks=%d", q(0.5), q(0.99), q(0.999), s.Overruns, s.Ticks)
}
