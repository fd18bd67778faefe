package daemon

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestNotifyReadyAndWatchdog runs the demo in real time with a stall of
// 300 ms: READY=1 comes first, WATCHDOG=1 comes while ticks complete
// and never during the stall, STOPPING=1 comes last.
func TestNotifyReadyAndWatchdog(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	type event struct {
		state string
		at    time.Time
	}
	var mu sync.Mutex
	var events []event
	var stallStart, stallEnd time.Time
	const every = 40 * time.Millisecond
	cfg, _ := quietDemo()
	d, err := New(cfg, Options{Logger: quiet(), Ticks: 400, SummaryEvery: -1, WatchdogEvery: every,
		Notify: func(s string) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, event{s, time.Now()})
		},
		AfterTick: func(d *Daemon, k int64) {
			if k == 100 {
				mu.Lock()
				stallStart = time.Now()
				mu.Unlock()
				time.Sleep(300 * time.Millisecond)
				mu.Lock()
				stallEnd = time.Now()
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) < 3 || events[0].state != "READY=1" || events[len(events)-1].state != "STOPPING=1" {
		t.Fatalf("events %v", events)
	}
	dogs := 0
	for _, e := range events[1 : len(events)-1] {
		if e.state != "WATCHDOG=1" {
			t.Errorf("unexpected state %q", e.state)
		}
		dogs++
		// One keep-alive may still count the ticks just before the
		// stall; none after that until the loop moves again.
		if e.at.After(stallStart.Add(every+10*time.Millisecond)) && e.at.Before(stallEnd) {
			t.Errorf("WATCHDOG=1 at %v into a stall of %v", e.at.Sub(stallStart), stallEnd.Sub(stallStart))
		}
	}
	if dogs < 2 {
		t.Errorf("%d keep-alives, want several", dogs)
	}
	if d.Stats().Overruns == 0 {
		t.Error("the stall should count as an overrun")
	}
}

func TestNoNotifyWithoutHook(t *testing.T) {
	d := demo(t, Options{Ticks: 10, SummaryEvery: -1})
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
