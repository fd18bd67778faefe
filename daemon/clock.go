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
	timer *time.Timer
}

func newRealClock() *realClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &realClock{start: time.Now(), timer: t}
}

func (c *realClock) Now() time.Duration { return time.Since(c.start) }

// SleepUntil uses one reused timer, so that sleeping allocates nothing.
func (c *realClock) SleepUntil(ctx context.Context, t time.Duration) {
	d := t - c.Now()
	if d <= 0 {
		return
	}
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
	case <-ctx.Done():
		c.timer.Stop()
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
