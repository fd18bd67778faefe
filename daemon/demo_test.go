package daemon

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/hal/sim"
)

func quiet() *zerolog.Logger {
	l := zerolog.Nop()
	return &l
}

// TestDemoReachesLight runs the demo config for 30 s of board time on
// the fake clock: the vehicle starts 2 m from the light facing away and
// must end within 0.3 m of it.
func TestDemoReachesLight(t *testing.T) {
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	var track []float64
	opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 30_000,
		AfterTick: func(d *Daemon, k int64) {
			if k%1000 == 0 {
				track = append(track, d.Plant().(*sim.Vehicle).DistanceToLight())
			}
		}}
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := d.Plant().(*sim.Vehicle)
	if start := v.DistanceToLight(); math.Abs(start-2) > 1e-9 {
		t.Fatalf("start distance %v, want 2 m", start)
	}
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := v.DistanceToLight()
	t.Logf("distance every second: %.2f", track)
	t.Logf("end: %.3f m from the light, pose %+v", end, v.Pose())
	if end > 0.3 {
		t.Errorf("the vehicle ends %.3f m from the light, want <= 0.3 m", end)
	}
	st := d.Stats()
	if st.Ticks != 30_000 || st.Overruns != 0 || st.StaleTicks != 0 {
		t.Errorf("stats %d ticks, %d overruns, %d stale; want 30000, 0, 0", st.Ticks, st.Overruns, st.StaleTicks)
	}
	if d.SimBoard().Now() != 29_999*time.Millisecond {
		t.Errorf("board time %v, want 29.999s (the plant advances to each tick's deadline)", d.SimBoard().Now())
	}
}

// TestDemoFilesShipped keeps examples/demo/ byte for byte equal to the
// embedded demo, and checks that the shipped config finds its network
// next to it whatever the working folder.
func TestDemoFilesShipped(t *testing.T) {
	cfg, net := DemoFiles()
	for _, c := range []struct {
		shipped, embedded string
		want              []byte
	}{{"../examples/demo/spikeloop.yaml", "demo.yaml", cfg}, {"../examples/demo/braitenberg.yaml", "braitenberg.yaml", net}} {
		got, err := os.ReadFile(c.shipped)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s differs from the embedded daemon/%s; make them equal", c.shipped, c.embedded)
		}
	}
	abs, err := filepath.Abs("../examples/demo/spikeloop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../examples/demo/spikeloop.yaml", abs} {
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(filepath.Dir(path), "braitenberg.yaml"); c.networkPath() != want || !bytes.Equal(c.netData, net) {
			t.Errorf("%s: loaded network %q, want the demo's %q", path, c.networkPath(), want)
		}
	}
}

// TestDemoBoardIsSimDemo: the demo config's board is hal/sim's
// DemoConfig, the board hal/sim's example and tests drive, so the two
// demos cannot drift apart.
func TestDemoBoardIsSimDemo(t *testing.T) {
	cfg, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	if want := sim.DemoConfig(); !reflect.DeepEqual(cfg.Board, want) {
		t.Errorf("demo.yaml's board\n%+v\nwant hal/sim's DemoConfig\n%+v", cfg.Board, want)
	}
}
