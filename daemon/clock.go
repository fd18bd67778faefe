package daemon

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Clock is the loop's time source. Times are durations since an
// arbitrary start, so that deadlines are plain additions (no
// time.Time arithmetic, no allocation).
type Clock interface {
	// Now is the monotonic time.
	Now() time.Duration
	// SleepUntil returns at t or later, or early when ctx is done.
	SleepUntil(ctx context.Context, t time.Duration)
}

// realClock is the monotonic wall clock.
type realClock struct {
	start time.Time
	// base is CLOCK_MONOTONIC at start, in ns, where the OS offers an
	// absolute sleep on it (Linux); 0 means use the Go timer.
	base  int64
	timer *time.Timer
	spin  time.Duration // the last part of each sleep is waited out busy
	// keepP sleeps without handing the goroutine's P back (see
	// sleepAbs), in slices of at most keepPSlice.
	keepP bool
	// yieldEvery: with keepP, the loop gives its P up of its own accord
	// at least this often, right after a tick's work (see SleepUntil).
	yieldEvery time.Duration
	lastYield  time.Duration
}

// keepPSlice bounds one sleep that keeps the P. The garbage collector
// stops the world by taking every P, and a P held in a raw system call
// can only be taken when the call returns: the whole process (never the
// loop) may wait up to this long at each of a GC cycle's two stops.
const keepPSlice = time.Millisecond

// yieldEvery and yieldMargin: the runtime's monitor takes the P from a
// goroutine that ran 10 ms without a pause to let others run, at
// whatever point the goroutine is; getting it back takes tens of µs, up
// to milliseconds under load. The loop rather gives it up itself every
// 5 ms, when its tick is done and the next deadline at least
// yieldMargin away, so the monitor never has to.
const (
	yieldEvery  = 5 * time.Millisecond
	yieldMargin = 500 * time.Microsecond
)

func newRealClock(spin time.Duration, keepP bool) *realClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	c := &realClock{timer: t, spin: spin, keepP: keepP}
	if keepP {
		c.yieldEvery = yieldEvery
	}
	// Start first: the absolute deadlines then fall a fraction of a
	// microsecond late rather than early (early would cost a second
	// sleep per tick).
	c.start = time.Now()
	c.base = monoNow()
	return c
}

func (c *realClock) Now() time.Duration { return time.Since(c.start) }

// maxSleep bounds one uninterrupted sleep, so that a cancelled context
// is seen within that time even with a long tick.
const maxSleep = 10 * time.Millisecond

// SleepUntil blocks the calling thread in an absolute sleep on Linux,
// and uses one reused Go timer elsewhere; neither allocates. With spin
// set, the sleep ends spin before t and the rest is waited out busy,
// reading the clock (vDSO, no system call).
func (c *realClock) SleepUntil(ctx context.Context, t time.Duration) {
	wake := t - c.spin
	if now := c.Now(); c.yieldEvery > 0 && now-c.lastYield >= c.yieldEvery && wake-now >= yieldMargin {
		runtime.Gosched()
		c.lastYield = c.Now()
	}
	for ctx.Err() == nil {
		now := c.Now()
		if now >= wake {
			break
		}
		if c.base != 0 {
			slice := maxSleep
			if c.keepP {
				slice = keepPSlice
			}
			sleepAbs(c.base+int64(min(wake, now+slice)), c.keepP)
			continue
		}
		c.timer.Reset(min(wake-now, maxSleep))
		select {
		case <-c.timer.C:
		case <-ctx.Done():
			c.timer.Stop()
			return
		}
	}
	for c.Now() < t && ctx.Err() == nil {
	}
}

// FakeClock is a Clock for tests: time stands still except when the
// loop sleeps (it jumps to the deadline) or the test calls Advance (for
// instance inside a hook, to make a tick slow on purpose). A run with
// it goes as fast as the machine can and is deterministic.
//
// It is used by the loop's goroutine only.
type FakeClock struct {
	now time.Duration
}

// Now implements Clock.
func (c *FakeClock) Now() time.Duration { return c.now }

// SleepUntil implements Clock: it jumps to t.
func (c *FakeClock) SleepUntil(_ context.Context, t time.Duration) {
	if t > c.now {
		c.now = t
	}
}

// Advance moves time forward by d, as if work took that long.
func (c *FakeClock) Advance(d time.Duration) { c.now += d }

// loopPs counts the running loops that keep their P while they sleep,
// and GOMAXPROCS as it was before the first: it is process-wide state
// because GOMAXPROCS is.
var loopPs struct {
	sync.Mutex
	n, base int
}

// reserveP raises GOMAXPROCS by one for a loop that keeps its P, so
// that the other goroutines keep as many Ps as before; the returned
// function gives it back. Several loops in one process (tests) add one
// each. A GOMAXPROCS set by others while loops run is overwritten.
func reserveP() (release func()) {
	loopPs.Lock()
	defer loopPs.Unlock()
	if loopPs.n == 0 {
		loopPs.base = runtime.GOMAXPROCS(0)
	}
	loopPs.n++
	runtime.GOMAXPROCS(loopPs.base + loopPs.n)
	return func() {
		loopPs.Lock()
		defer loopPs.Unlock()
		loopPs.n--
		runtime.GOMAXPROCS(loopPs.base + loopPs.n)
	}
}
