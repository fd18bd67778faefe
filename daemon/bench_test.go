package daemon

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/hal/sim"
)

// TestDemoRealTime runs the demo for 5 s on the wall clock: the loop
// keeps its grid (every deadline is run or counted as skipped), the
// plant follows the wall clock.
func TestDemoRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("5 s of real time")
	}
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	lastTick := int64(-1) // the grid number of the last tick run
	d, err := New(cfg, Options{Logger: quiet(), SummaryEvery: -1, AfterTick: func(_ *Daemon, k int64) { lastTick = k }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	st := d.Stats()
	t.Logf("%v: %s; step p99 %v; skipped %d; distance %.2f m", el, st.LatenessLine(), st.StepTime.Quantile(0.99), st.Skipped, d.Plant().(*sim.Vehicle).DistanceToLight())
	// The plant advances to each tick's deadline, so the board's time is
	// exactly the deadline of the last tick run. Ticks skipped by an
	// overrun of that last tick are counted, yet never run, so
	// Ticks+Skipped may end past it (a loaded machine does that).
	grid := time.Duration(lastTick) * time.Millisecond
	if d.SimBoard().Now() != grid {
		t.Errorf("board time %v, want the last tick's deadline %v (tick %d)", d.SimBoard().Now(), grid, lastTick)
	}
	if n := st.Ticks + st.Skipped - 1; lastTick > n || lastTick < st.Ticks-1 || st.LastTick != lastTick {
		t.Errorf("last tick %d (Stats.LastTick %d), want between ticks-1 = %d and ticks+skipped-1 = %d", lastTick, st.LastTick, st.Ticks-1, n)
	}
	// No drift: the last deadline run is close to the time elapsed (the
	// margin covers a loaded machine's stall at the very end).
	if el < grid || el-grid > 2*time.Second {
		t.Errorf("the run took %v for %v of deadlines", el, grid)
	}
	// How far the vehicle got depends on how much CPU the loop got (on
	// an idle machine about 1.7 m, as on the fake clock; on a loaded
	// one ticks are skipped and steering lags), so it is logged only.
	if st.Ticks == 0 {
		t.Error("no tick ran")
	}
}

func TestBenchLoopLine(t *testing.T) {
	st, err := BenchLoop(context.Background(), 2000, 100*time.Millisecond, RealtimeConfig{}, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := st.LatenessLine()
	if !regexp.MustCompile(`^lateness_us p50=\d+ p99=\d+ p999=\d+ overruns=\d+ ticks=200$`).MatchString(line) {
		t.Errorf("line %q", line)
	}
	if _, err := BenchLoop(context.Background(), 3000, time.Second, RealtimeConfig{}, "", false, nil); err == nil {
		t.Error("3 kHz is 3.33 steps of 0.1 ms; want an error")
	}
}

// A duration shorter than one tick would be Options.Ticks 0, a run
// without end: it is an error, as are a rate that is not a finite
// positive number and a duration <= 0.
func TestBenchLoopBadArguments(t *testing.T) {
	for _, c := range []struct {
		rate float64
		d    time.Duration
	}{{1000, 500 * time.Microsecond}, {math.Inf(1), time.Second}, {math.NaN(), time.Second}, {-1, time.Second}, {1000, 0}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := BenchLoop(ctx, c.rate, c.d, RealtimeConfig{}, "", false, nil)
		cancel()
		if err == nil {
			t.Errorf("rate %v, duration %v: no error", c.rate, c.d)
		}
	}
}

// The realtime settings are checked as the config's realtime section is.
func TestBenchLoopBadRealtime(t *testing.T) {
	cpu := -2
	for _, c := range []struct {
		rt   RealtimeConfig
		want string
	}{
		{RealtimeConfig{Spin: time.Millisecond}, "realtime.spin: must be 0 <= spin < tick (1ms), got 1ms"},
		{RealtimeConfig{Priority: 100}, "realtime.priority: must be 1..99 for SCHED_FIFO, or 0, got 100"},
		{RealtimeConfig{CPU: &cpu}, "realtime.cpu: must be a CPU number 0..1023, got -2"},
	} {
		_, err := BenchLoop(context.Background(), 1000, time.Second, c.rt, "", true, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRange) {
			t.Errorf("%+v: %v, want %q", c.rt, err, c.want)
		}
	}
}

// BenchTick's error names no file (the demo's config is built in) and
// lists the rates that fit; BenchLoop returns the same.
func TestBenchTick(t *testing.T) {
	for rate, want := range map[float64]time.Duration{1000: time.Millisecond, 2500: 400 * time.Microsecond, 10000: 100 * time.Microsecond, 20: 50 * time.Millisecond} {
		if tick, err := BenchTick(rate); err != nil || tick != want {
			t.Errorf("BenchTick(%v) = %v, %v; want %v", rate, tick, err, want)
		}
	}
	const fit = "whole-number rates that fit: 20, 40, 80, 100, 200, 400, 500, 1000, 2000, 2500, 5000, 10000 Hz"
	for _, rate := range []float64{3000, 100000, 1.5, 300} {
		_, err := BenchTick(rate)
		if err == nil || !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "does not fit the demo") ||
			!strings.Contains(err.Error(), fit) || strings.Contains(err.Error(), "demo.yaml") {
			t.Errorf("BenchTick(%v): %v", rate, err)
		}
		_, err = BenchLoop(context.Background(), rate, time.Second, RealtimeConfig{}, "", true, nil)
		if err == nil || !strings.Contains(err.Error(), fit) || strings.Contains(err.Error(), "demo.yaml") {
			t.Errorf("BenchLoop(%v): %v", rate, err)
		}
	}
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := BenchTick(rate); !errors.Is(err, ErrRange) {
			t.Errorf("BenchTick(%v): %v, want ErrRange", rate, err)
		}
	}
}
