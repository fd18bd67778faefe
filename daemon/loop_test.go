package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/hal/haltest"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/actuator"
	"github.com/spikeloop/spikeloop/io/sensor"
)

// tickAllocs runs warm ticks of d on its fake clock, so that the
// backend's record slices, the windows and the queues reach their steady
// size, and returns the allocations per tick over runs more ticks.
func tickAllocs(t *testing.T, d *Daemon, warm, runs int) float64 {
	t.Helper()
	clock := d.clock.(*FakeClock)
	tick := func() {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	}
	for range warm {
		tick()
	}
	return testing.AllocsPerRun(runs, tick)
}

// demo returns a wired demo daemon with opts (quiet, fake clock unless
// set).
func demo(t *testing.T, opts Options) *Daemon {
	t.Helper()
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Clock == nil {
		opts.Clock = &FakeClock{}
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func duty(t *testing.T, d *Daemon, part string) float64 {
	t.Helper()
	p, err := d.SimBoard().PartPin(part)
	if err != nil {
		t.Fatal(err)
	}
	return p.Duty()
}

func TestZeroAllocationsPerTick(t *testing.T) {
	d := demo(t, Options{})
	d.figs = handoff.New[Figures](8) // no consumer: the queue fills and drops
	if allocs := tickAllocs(t, d, 2000, 2000); allocs != 0 {
		t.Errorf("%v allocations per tick, want 0", allocs)
	}
	if d.stats.Dropped == 0 {
		t.Error("the full figures queue should have dropped figures")
	}
}

func TestOverrunsSkipAndCount(t *testing.T) {
	var clock FakeClock
	d := demo(t, Options{Clock: &clock, Ticks: 100, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) {
			switch k {
			case 10:
				clock.Advance(2500 * time.Microsecond) // ends at 12.5 ms: deadlines 11 and 12 missed
			case 50:
				clock.Advance(1001 * time.Microsecond) // ends just past deadline 51
			}
		}})
	var ticks []int64
	d.opts.Consumer = func(f Figures) { ticks = append(ticks, f.Tick) }
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if st.Overruns != 2 || st.Skipped != 3 || st.Ticks != 100 {
		t.Errorf("overruns %d skipped %d ticks %d; want 2, 3, 100", st.Overruns, st.Skipped, st.Ticks)
	}
	// The tick after an overrun is the next one on the grid, not a
	// catch-up run: 10, 13, ... and 50, 52.
	for i := 1; i < len(ticks); i++ {
		if gap := ticks[i] - ticks[i-1]; gap != 1 && !(ticks[i-1] == 10 && gap == 3) && !(ticks[i-1] == 50 && gap == 2) {
			t.Errorf("tick %d follows tick %d", ticks[i], ticks[i-1])
		}
	}
	if st.MaxStep != 2500*time.Microsecond {
		t.Errorf("max step %v, want 2.5ms", st.MaxStep)
	}
	// Skipped deadlines still pass for the plant: 102 ticks of grid.
	if got := d.SimBoard().Now(); got != 102*time.Millisecond {
		t.Errorf("board time %v, want 102ms", got)
	}
}

func TestStaleInputDrivesOutputsSafe(t *testing.T) {
	var broken *haltest.Source // the right eye's source, breakable
	var dutyDuring, dutyAfter float64
	d := demo(t, Options{Ticks: 400, SummaryEvery: -1})
	d.opts.AfterTick = func(d *Daemon, k int64) {
		switch k {
		case 200:
			broken.Fail(true)
		case 300:
			dutyDuring = duty(t, d, "motor_left")
			broken.Fail(false)
		case 399:
			dutyAfter = duty(t, d, "motor_left")
		}
	}
	// Put a breakable source under the right eye (which drives the left
	// wheel).
	src, err := d.source("light_right")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := d.encoder(1, d.cfg.Inputs[1])
	if err != nil {
		t.Fatal(err)
	}
	broken = haltest.Wrap(src)
	d.inputs[1], _ = sensor.NewInput("right_eye", broken, enc, 0)
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	// stale_ticks is 5: ticks 201..205 are tolerated, 206..300 held safe
	// (the read at tick 300 happens before the hook repairs the source).
	if st.StaleTicks != 95 {
		t.Errorf("stale ticks %d, want 95", st.StaleTicks)
	}
	if dutyDuring != 0 {
		t.Errorf("left wheel duty %v while the input is stale, want the safe 0", dutyDuring)
	}
	if dutyAfter == 0 {
		t.Error("left wheel did not resume after the input came back")
	}
}

func TestStopPutsOutputsSafe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var before float64
	d := demo(t, Options{SummaryEvery: -1, AfterTick: func(d *Daemon, k int64) {
		if k == 500 {
			before = duty(t, d, "motor_left")
			cancel()
		}
	}})
	if err := d.Run(ctx); err != nil {
		t.Fatalf("a stop is not an error: %v", err)
	}
	if before == 0 {
		t.Fatal("the left wheel should turn before the stop (search current)")
	}
	if got := duty(t, d, "motor_left"); got != 0 {
		t.Errorf("left wheel duty %v after stop, want the safe 0", got)
	}
	if d.Stats().Ticks != 501 {
		t.Errorf("%d ticks, want 501", d.Stats().Ticks)
	}
}

func TestFaultStopsAndReturnsError(t *testing.T) {
	errPin := errors.New("pin shorted")
	d := demo(t, Options{Ticks: 1000, SummaryEvery: -1, AfterTick: func(d *Daemon, k int64) {
		if k == 100 {
			p, _ := d.SimBoard().PartPin("motor_left")
			p.Fail(errPin)
		}
	}})
	err := d.Run(context.Background())
	if !errors.Is(err, errPin) || !strings.Contains(err.Error(), "daemon: tick 1") {
		t.Fatalf("got %v, want the pin error at a tick", err)
	}
	// The broken wheel cannot be written; the other one is safe.
	if got := duty(t, d, "motor_right"); got != 0 {
		t.Errorf("right wheel duty %v after the fault, want the safe 0", got)
	}
	if d.Stats().Ticks > 200 {
		t.Errorf("the loop ran %d ticks after a fault", d.Stats().Ticks)
	}
}

func TestSummaryAndConsumer(t *testing.T) {
	var buf strings.Builder
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logging.Format = "json"
	n := 0
	d, err := New(cfg, Options{Clock: &FakeClock{}, Stderr: &buf, Ticks: 3000,
		SummaryEvery: time.Second, Consumer: func(Figures) { n++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lastStats := d.Stats()
	// The fake-clock loop may outrun the consumer: what it misses is
	// dropped and counted, never waited for.
	if d := int(lastStats.Dropped); n+d != 3000 {
		t.Errorf("consumer got %d figures and %d were dropped, want 3000 in all", n, d)
	}
	if c := strings.Count(buf.String(), `"message":"loop"`); c != 3 {
		t.Errorf("%d summary lines, want 3 (one per second of loop time):\n%s", c, buf.String())
	}
	if !strings.Contains(buf.String(), `"message":"loop stopped; outputs safe"`) {
		t.Errorf("no stop line:\n%s", buf.String())
	}
	// Without a terminal the summary is the only view of the machine:
	// it carries the wheels' rates by output name and the vehicle's
	// pose, as the plant has them.
	var last map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "loop" {
			last = m
		}
	}
	rates, _ := last["rates_hz"].(map[string]any)
	if _, ok := rates["left_wheel"]; !ok || len(rates) != 2 {
		t.Errorf("summary rates_hz %v, want left_wheel and right_wheel", last["rates_hz"])
	}
	p := d.Plant().(*sim.Vehicle).Pose()
	if x, ok := last["x_m"].(float64); !ok || math.Abs(x-p.X) > 0.05 {
		t.Errorf("summary x_m %v, the vehicle ends at x %.3f", last["x_m"], p.X)
	}
	if dist, ok := last["light_distance_m"].(float64); !ok || math.Abs(dist-d.Plant().(*sim.Vehicle).DistanceToLight()) > 0.05 {
		t.Errorf("summary light_distance_m %v, the vehicle ends %.3f m from the light", last["light_distance_m"], d.Plant().(*sim.Vehicle).DistanceToLight())
	}
}

func TestConfigUsedOnce(t *testing.T) {
	cfg, _ := quietDemo()
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()}); err == nil || !strings.Contains(err.Error(), "Parse it again") {
		t.Errorf("second New on one Config: %v", err)
	}
}

func TestRealClockShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	cfg, _ := quietDemo()
	d, err := New(cfg, Options{Logger: quiet(), Ticks: 300, SummaryEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	st := d.Stats()
	t.Logf("300 ticks in %v: lateness p50 %v p99 %v max %v; step p99 %v; overruns %d",
		el, st.Lateness.Quantile(0.5), st.Lateness.Quantile(0.99), st.MaxLateness, st.StepTime.Quantile(0.99), st.Overruns)
	// 300 ticks of 1 ms on absolute deadlines: no drift, so the run
	// takes about 300 ms (plus skipped ticks if the machine is busy).
	want := time.Duration(st.Ticks+st.Skipped-1) * time.Millisecond
	if el < want || el > want+time.Second {
		t.Errorf("run took %v, want about %v", el, want)
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Add(time.Duration(i) * time.Microsecond)
	}
	h.Add(time.Second) // a stall: above the linear buckets
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.5, 501 * time.Microsecond}, {0.99, 991 * time.Microsecond}}
	for _, c := range cases {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("q%v = %v, want %v", c.q, got, c.want)
		}
	}
	// The stall reads as a second (within the 1.6% of its bucket, and
	// never above it), not as the 10 ms of a saturated top bucket.
	if got := h.Quantile(1); got > time.Second || got < time.Second*984/1000 {
		t.Errorf("q1 = %v, want about 1s", got)
	}
	if h.Count() != 1001 {
		t.Errorf("count %d", h.Count())
	}
}

// TestHistogramBuckets: every duration lands in a bucket whose lower
// bound is at most it and within 1/64 of it, buckets are in order, and
// durations past the last bucket are counted in it.
func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, us := range []int64{0, 1, 9_999, 10_000, 10_001, 16_383, 16_384, 100_000, 999_999, 1_000_000, 60e6, 1 << 39, 1<<40 - 1} {
		i := histIndex(us)
		lo := histLower(i)
		if i < prev || lo > us || float64(us-lo) > float64(us)/histSub {
			t.Errorf("%d µs: bucket %d (after %d), lower bound %d", us, i, prev, lo)
		}
		prev = i
	}
	if i := histIndex(1 << 50); i != len(Histogram{}.buckets)-1 {
		t.Errorf("2^50 µs in bucket %d, want the last, %d", i, len(Histogram{}.buckets)-1)
	}
	for i := 1; i < len(Histogram{}.buckets); i++ {
		if histLower(i) < histLower(i-1) {
			t.Fatalf("bucket %d starts at %d µs, before bucket %d (%d µs)", i, histLower(i), i-1, histLower(i-1))
		}
	}
	var h Histogram
	if a := testing.AllocsPerRun(100, func() { h.Add(3 * time.Second) }); a != 0 {
		t.Errorf("%v allocations per Add", a)
	}
}

var _ actuator.Decoder = (*actuator.Rate)(nil)

// BenchmarkTick is one tick of the demo (read two ADC channels over the
// emulated SPI, 10 network steps, decode, write two PWMs, step the
// plant), without sleeping.
func BenchmarkTick(b *testing.B) {
	d := quietDaemon(b)
	d.figs = handoff.New[Figures](8)
	clock := d.clock.(*FakeClock)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealtimeLogged: pinning to CPU 0 works anywhere; SCHED_FIFO may be
// refused (no CAP_SYS_NICE): either way the run goes on and the log
// says what happened.
func TestRealtimeLogged(t *testing.T) {
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	cpu := 0
	cfg.Realtime = RealtimeConfig{CPU: &cpu, Priority: 10}
	var logs syncBuffer
	log := zerolog.New(&logs)
	if err := Run(context.Background(), cfg, Options{Clock: &FakeClock{}, Logger: &log, Ticks: 100, SummaryEvery: -1}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "realtime: loop pinned") {
		t.Errorf("no pinning line:\n%s", out)
	}
	if !strings.Contains(out, "realtime: loop on SCHED_FIFO") && !strings.Contains(out, "realtime: SCHED_FIFO refused") {
		t.Errorf("no SCHED_FIFO line:\n%s", out)
	}
}

func TestRealClockSleep(t *testing.T) {
	c := newRealClock(0)
	ctx := context.Background()
	// Absolute deadlines: 20 sleeps of 1 ms end 20 ms after the start,
	// whatever each wake-up's lateness.
	for k := 1; k <= 20; k++ {
		c.SleepUntil(ctx, time.Duration(k)*time.Millisecond)
		if now := c.Now(); now < time.Duration(k)*time.Millisecond {
			t.Fatalf("woke at %v before the deadline %v", now, time.Duration(k)*time.Millisecond)
		}
	}
	allocs := testing.AllocsPerRun(50, func() { c.SleepUntil(ctx, c.Now()+100*time.Microsecond) })
	if allocs != 0 {
		t.Errorf("%v allocations per sleep", allocs)
	}
	// A cancelled context ends a long sleep within maxSleep or so.
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	c.SleepUntil(cctx, c.Now()+10*time.Second)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a cancelled sleep lasted %v", el)
	}
}

// TestTuneRuntime: while loops run on the wall clock GOMAXPROCS is at
// least loopProcs and the GC runs at gcPercent under a memory limit
// above the live heap; all is back where it was after the last loop.
func TestTuneRuntime(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: the daemon leaves the GC alone")
	}
	// Set lower than loopProcs on purpose: the raise shows on any machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	limit0 := debug.SetMemoryLimit(-1)
	r1 := tuneRuntime()
	r2 := tuneRuntime()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if n := runtime.GOMAXPROCS(0); n != loopProcs {
		t.Errorf("two loops: GOMAXPROCS %d, want %d", n, loopProcs)
	}
	if p := debug.SetGCPercent(-1); p != gcPercent {
		t.Errorf("GC percent %d while loops run, want %d", p, gcPercent)
	}
	debug.SetGCPercent(gcPercent)
	if l := debug.SetMemoryLimit(-1); l < int64(ms.HeapAlloc)+gcHeadroom || l == limit0 {
		t.Errorf("memory limit %d while loops run, heap %d; want the live heap twice plus %d", l, ms.HeapAlloc, gcHeadroom)
	}
	// A reload's load and check run with the collector as before.
	retune := relaxGC()
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 100 || l != limit0 {
		t.Errorf("during a reload: GC percent %d, memory limit %d; want 100 and %d", p, l, limit0)
	}
	debug.SetGCPercent(100)
	retune()
	if p := debug.SetGCPercent(-1); p != gcPercent {
		t.Errorf("after a reload: GC percent %d, want %d again", p, gcPercent)
	}
	debug.SetGCPercent(gcPercent)
	r1()
	if n := runtime.GOMAXPROCS(0); n != loopProcs {
		t.Errorf("one loop left: GOMAXPROCS %d, want %d", n, loopProcs)
	}
	r2()
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Errorf("no loop: GOMAXPROCS %d, want 2 again", n)
	}
	if p := debug.SetGCPercent(-1); p != 100 {
		t.Errorf("no loop: GC percent %d, want 100 again", p)
	}
	debug.SetGCPercent(100)
	if l := debug.SetMemoryLimit(-1); l != limit0 {
		t.Errorf("no loop: memory limit %d, want %d again", l, limit0)
	}
}
