package daemon

import (
	"context"
	"strings"
	"testing"
	"time"
)

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
		if err == nil || !strings.Contains(err.Error(), "realtime.spin: must be 0 <= spin < tick (1ms), got "+shown) {
			t.Errorf("spin %s: %v", spin, err)
		}
	}
	text := strings.Replace(quietDemoText(), "\nlogging:", "\nrealtime: {spin: 200us}\nlogging:", 1)
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil || cfg.Realtime.Spin != 200*time.Microsecond {
		t.Fatalf("spin 200us: %v, %v", err, cfg)
	}
}
