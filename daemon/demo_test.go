package daemon

import (
	"bytes"
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func quiet() *zerolog.Logger {
	l := zerolog.Nop()
	return &l
}

// TestDemoReachesLight runs the demo config for 30 s of board time on
// the fake clock: the vehicle starts 2 m from the light facing away and
// must end within 0.3 m of it.
func TestDemoReachesLight(t *testing.T) {
	cfg, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	var track []float64
	opts := Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 30_000,
		AfterTick: func(d *Daemon, k int64) {
			if k%1000 == 0 {
				track = append(track, d.Vehicle().DistanceToLight())
			}
		}}
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := d.Vehicle()
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

// TestDemoFilesShipped keeps examples/ equal to the embedded demo.
func TestDemoFilesShipped(t *testing.T) {
	cfg, net := DemoFiles()
	for file, want := range map[string][]byte{"../examples/demo.yaml": cfg, "../examples/braitenberg.yaml": net} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the embedded demo file; copy daemon/%s over it", file, file[len("../examples/"):])
		}
	}
	// The shipped copy loads from disk with its relative network path.
	if _, err := LoadConfig("../examples/demo.yaml"); err != nil {
		t.Error(err)
	}
}
