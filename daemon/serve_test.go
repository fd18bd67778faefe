package daemon

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// syncBuffer is a log sink shared by the loop and the reload watcher.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveReloads runs the demo under Serve and asks for a reload at tick
// 100 of the first run and then on every tick from 5000 on until load
// has been called want times; load(n) gives the n-th config (from 1).
// It returns the number of runs started, Serve's error and the log.
func serveReloads(t *testing.T, want int32, load func(n int32) (*Config, error)) (int, string, error) {
	t.Helper()
	return serveReloadsWith(t, want, Options{}, load)
}

// serveReloadsWith is serveReloads with opts' test hooks.
func serveReloadsWith(t *testing.T, want int32, opts Options, load func(n int32) (*Config, error)) (int, string, error) {
	t.Helper()
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := zerolog.New(&logs)
	reload := make(chan struct{}) // unbuffered: a poke lands only while the watcher waits
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	var loads atomic.Int32
	counted := func() (*Config, error) { return load(loads.Add(1)) }
	poke := func() {
		select {
		case reload <- struct{}{}:
		default:
		}
	}
	opts.Clock, opts.Logger, opts.SummaryEvery = &FakeClock{}, &log, -1
	opts.AfterTick = func(d *Daemon, k int64) {
		switch {
		case k == 0:
			runs++
		case k > 2_000_000 || runs >= 2 && k == 10:
			cancel()
		case k%1000 == 0 && loads.Load() >= want && strings.Count(logs.String(), "keeping the running one") >= int(want):
			cancel() // every reload was refused: nothing more will happen
		case runs == 1 && (k == 100 || k >= 5000 && loads.Load() < want):
			poke()
		}
	}
	err = Serve(ctx, cfg, opts, reload, counted)
	return runs, logs.String(), err
}

func TestServeReloadKeepsOldOnInvalid(t *testing.T) {
	runs, logs, err := serveReloads(t, 2, func(n int32) (*Config, error) {
		if n == 1 {
			return nil, errors.New(`test.yaml:3: tick: "1 ms": invalid value`)
		}
		return quietDemo()
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("%d runs, want 2 (the first reload is invalid, the second restarts)", runs)
	}
	for _, want := range []string{`"message":"reload: the new config is invalid; keeping the running one"`, `tick: \"1 ms\": invalid value`,
		`"message":"reload: new config checked; restarting the loop"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestServeRefusesAReloadThatCannotStart: a new config whose run
// cannot be built (here its board fails to open in the reload's dry
// run) is refused before the running loop is stopped: one run, no
// safe-state stop in between.
func TestServeRefusesAReloadThatCannotStart(t *testing.T) {
	var preflights atomic.Int32
	runs, logs, err := serveReloadsWith(t, 1, Options{openBoard: func(*Config) error {
		if preflights.Add(1) == 2 { // 1: the first run; 2: the reload's dry run
			return errors.New("GPIO12: device or resource busy")
		}
		return nil
	}}, func(int32) (*Config, error) { return quietDemo() })
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || !strings.Contains(logs, "reload: the new config cannot start; keeping the running one") ||
		!strings.Contains(logs, "device or resource busy") || strings.Contains(logs, "restarting the loop") {
		t.Errorf("%d runs, want 1 (the reload refused); log:\n%s", runs, logs)
	}
	if n := strings.Count(logs, "loop stopped; outputs safe"); n != 1 {
		t.Errorf("the loop stopped %d times, want once (at the end)", n)
	}
}

// TestServeReloadBadPinKeepsTheLoop: SIGHUP with a config whose pin
// the board does not have is refused (by the load's checks or by the
// dry run) and the running loop is never stopped.
func TestServeReloadBadPinKeepsTheLoop(t *testing.T) {
	runs, logs, err := serveReloads(t, 1, func(int32) (*Config, error) {
		text := strings.Replace(quietDemoText(), "pin: GPIO12", "pin: GPIO99", 1)
		return Parse([]byte(text), "demo.yaml", demoNetwork)
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || !strings.Contains(logs, "keeping the running one") || !strings.Contains(logs, "GPIO99") {
		t.Errorf("%d runs, want 1; log:\n%s", runs, logs)
	}
	if n := strings.Count(logs, "loop stopped; outputs safe"); n != 1 {
		t.Errorf("the loop stopped %d times, want once (at the end)", n)
	}
}

// TestServeFallsBackWhenNewConfigFailsToStart: a board that passes the
// reload's checks and then fails to open (possible with a real board
// only) makes Serve start the previous config again.
func TestServeFallsBackWhenNewConfigFailsToStart(t *testing.T) {
	var opens atomic.Int32
	runs, logs, err := serveReloadsWith(t, 1, Options{openBoard: func(*Config) error {
		if opens.Add(1) == 3 { // 1: the first run; 2: the reload's dry run; 3: its start
			return errors.New("GPIO12: device or resource busy")
		}
		return nil
	}}, func(int32) (*Config, error) { return quietDemo() })
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || !strings.Contains(logs, "running the previous one again") || !strings.Contains(logs, "device or resource busy") {
		t.Errorf("%d runs; log:\n%s", runs, logs)
	}
}

// TestReloadKeepsThePlant: after a reload the emulated vehicle goes on
// from where it was, unless the new config moves plant.vehicle.start.
func TestReloadKeepsThePlant(t *testing.T) {
	for _, moved := range []bool{false, true} {
		first, err := quietDemo()
		if err != nil {
			t.Fatal(err)
		}
		reload := make(chan struct{}, 1)
		loaded := make(chan struct{})
		load := func() (*Config, error) {
			defer close(loaded)
			text := quietDemoText()
			if moved {
				text = strings.Replace(text, "start: {x: -1.0, y: -1.0,", "start: {x: 0.5, y: -1.0,", 1)
			}
			return Parse([]byte(text), "demo.yaml", demoNetwork)
		}
		var runs []*Daemon
		var last, second sim.Pose
		total := 0
		opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 3000, SummaryEvery: -1,
			AfterTick: func(d *Daemon, k int64) {
				total++
				if len(runs) == 0 || runs[len(runs)-1] != d {
					runs = append(runs, d)
					if len(runs) == 2 {
						second = d.Plant().(*sim.Vehicle).Pose()
					}
				}
				if len(runs) == 1 {
					last = d.Plant().(*sim.Vehicle).Pose()
					if k == 2000 {
						reload <- struct{}{}
						<-loaded
						time.Sleep(50 * time.Millisecond) // Serve stops this run meanwhile
					}
				}
			}}
		if err := Serve(context.Background(), first, opts, reload, load); err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Fatalf("%d runs, want 2", len(runs))
		}
		if total != 3000 {
			t.Errorf("%d ticks in both runs, want opts.Ticks = 3000 in all", total)
		}
		start := sim.Pose{X: -1, Y: -1, Heading: -2.356194490192345}
		switch {
		case !moved && second != last:
			t.Fatalf("the reloaded run starts at %+v, the vehicle was at %+v", second, last)
		case !moved && math.Hypot(last.X-start.X, last.Y-start.Y) < 0.05 && math.Abs(last.Heading-start.Heading) < 0.5:
			t.Fatalf("the vehicle did not move in the first run: %+v", last)
		case moved && second != sim.Pose{X: 0.5, Y: -1, Heading: start.Heading}:
			t.Fatalf("with a new start the reloaded run starts at %+v", second)
		}
	}
}
