package daemon

import (
	"context"
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
}

var _ Clock = (*realClock)(nil)

func newRealClock(spin time.Duration) *realClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	c := &realClock{timer: t, spin: spin}
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
	for ctx.Err() == nil {
		now := c.Now()
		if now >= wake {
			break
		}
		if c.base != 0 {
			sleepAbs(c.base + int64(min(wake, now+maxSleep)))
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

var _ Clock = (*FakeClock)(nil)

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
