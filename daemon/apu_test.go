package daemon

import (
	"context"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/internal/handoff"
)

func init() {
	apu.Register(remote.Name, remote.Opener)
}

// The demo on the APU: `--backend apu` runs the demo config unchanged
// with its network on the emulated chip that the demo's board carries on
// SPI0.1 (every byte through the emulated SPI wire); the vehicle reaches
// the light as on the cpu backend (within 0.3 m after 30 s), one RUN and
// one response a tick, no link fault.
func TestDemoOnAPU(t *testing.T) {
	cfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	const ticks = 30_000
	d, err := New(cfg, Options{Backend: "apu", Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Emulator() == nil || d.SimBoard().Port("SPI0.1").Chip() != d.Emulator() {
		t.Fatal("the demo's board carries no emulated APU on SPI0.1")
	}
	before := d.Emulator().Stats()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := d.Plant().(*sim.Vehicle)
	end := v.DistanceToLight()
	t.Logf("end: %.3f m from the light", end)
	if end > 0.3 {
		t.Errorf("on the APU the vehicle ends %.3f m from the light, want <= 0.3 m", end)
	}
	st := d.Stats()
	es := d.Emulator().Stats()
	t.Logf("link: %+v", st.Link)
	t.Logf("emulator: %+v", es)
	if st.Ticks != ticks || st.LinkFaults != 0 || st.Link.CRCErrors != 0 || st.Link.Retries != 0 || st.Link.Timeouts != 0 {
		t.Errorf("%d ticks, %d link faults, link %+v; want %d ticks and a clean link", st.Ticks, st.LinkFaults, st.Link, ticks)
	}
	if runs := es.Requests - before.Requests; runs != ticks {
		t.Errorf("the chip handled %d requests during the run, want %d (one RUN a tick)", runs, ticks)
	}
	if st.Link.FramesOut < ticks || st.Link.FramesIn < ticks {
		t.Errorf("link frames out %d, in %d; want at least one each a tick", st.Link.FramesOut, st.Link.FramesIn)
	}
}

// The loop allocates nothing per tick on the host with the network on
// the emulated APU (the remote backend, its SPI transport and the
// emulated board included).
func TestZeroAllocationsPerTickAPU(t *testing.T) {
	d := demo(t, Options{Backend: "apu"})
	d.figs = handoff.New[Figures](8)
	clock := d.clock.(*FakeClock)
	for i := 0; i < 2000; i++ {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per tick on the APU", allocs)
	}
}
