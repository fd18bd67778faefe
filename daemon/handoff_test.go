package daemon

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHandoff: values come out in order, a full queue refuses the new
// value (the ones queued stay), and a producer and a consumer on two
// goroutines lose nothing they did not refuse (run with -race too).
func TestHandoff(t *testing.T) {
	q := newHandoff[int](3)
	for i := 1; i <= 3; i++ {
		if !q.push(&i) {
			t.Fatalf("push %d refused with room", i)
		}
	}
	four := 4
	if q.push(&four) {
		t.Fatal("a full queue took a value")
	}
	var v int
	for want := 1; want <= 3; want++ {
		if !q.pop(&v) || v != want {
			t.Fatalf("pop gave %d, want %d", v, want)
		}
	}
	if q.pop(&v) {
		t.Fatal("pop from an empty queue")
	}

	q = newHandoff[int](64)
	const n = 200_000
	var refused []int
	var wg sync.WaitGroup
	var done atomic.Bool
	wg.Go(func() {
		for i := 0; i < n; i++ {
			if !q.push(&i) {
				refused = append(refused, i)
			}
		}
		done.Store(true)
	})
	var got []int
	for !done.Load() {
		if q.pop(&v) {
			got = append(got, v)
		}
	}
	wg.Wait()
	for q.pop(&v) {
		got = append(got, v)
	}
	if len(got)+len(refused) != n {
		t.Fatalf("%d received + %d refused, want %d", len(got), len(refused), n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %d after %d", got[i], got[i-1])
		}
	}
	t.Logf("%d received, %d refused", len(got), len(refused))
}

// TestSpinSleep: with spin the clock still never returns before the
// deadline, whether the deadline is within the spin (all busy) or
// beyond it (sleep, then busy); a cancelled context ends the wait.
func TestSpinSleep(t *testing.T) {
	c := newRealClock(300 * time.Microsecond)
	ctx := context.Background()
	for k := 1; k <= 20; k++ {
		d := time.Duration(k) * 700 * time.Microsecond
		c.SleepUntil(ctx, d)
		if now := c.Now(); now < d {
			t.Fatalf("woke at %v, before the deadline %v", now, d)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := c.Now()
	c.SleepUntil(cctx, start+time.Hour)
	if c.Now()-start > time.Second {
		t.Fatal("a cancelled context did not end the sleep")
	}
}

func TestSpinConfig(t *testing.T) {
	for spin, shown := range map[string]string{"-1us": "-1µs", "1ms": "1ms"} {
		text := strings.Replace(quietDemoText(), "\nlogging:", "\nrealtime: {spin: "+spin+"}\nlogging:", 1)
		_, err := Parse([]byte(text), "demo.yaml", demoNetwork)
		if err == nil || !strings.Contains(err.Error(), "realtime.spin: "+shown+"; want 0 <= spin < tick (1ms)") {
			t.Errorf("spin %s: %v", spin, err)
		}
	}
	text := strings.Replace(quietDemoText(), "\nlogging:", "\nrealtime: {spin: 200us}\nlogging:", 1)
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil || cfg.Realtime.Spin != 200*time.Microsecond {
		t.Fatalf("spin 200us: %v, %v", err, cfg)
	}
}
