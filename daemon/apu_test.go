package daemon

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/fixed"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/telemetry"
)

// The chip's backend and its stand-in, as cmd/spikeloop registers them.
func init() {
	apu.Register(remote.Name, remote.Opener)
	apu.Register(fixed.Name, fixed.Open)
	apu.RegisterStandIn(remote.Name, fixed.Name)
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
	// The wire time is every byte clocked during the run at the demo's
	// 10 MHz: 800 ns a byte.
	if n := st.LinkTime.Count(); n != ticks {
		t.Errorf("link time of %d ticks recorded, want %d", n, ticks)
	}
	bytesClocked := es.BytesIn - before.BytesIn
	if want := time.Duration(bytesClocked) * 800 * time.Nanosecond; st.EmulatedWire != want {
		t.Errorf("emulated wire time %v, want %v (%d bytes at 10 MHz)", st.EmulatedWire, want, bytesClocked)
	}
	if l := st.LinkLine(); !strings.HasPrefix(l, "link_us_per_tick p50=") || !strings.Contains(l, fmt.Sprintf(" wire_us_per_tick=%.1f", float64(st.EmulatedWire)/ticks/1e3)) {
		t.Errorf("link line %q", l)
	}
}

// The loop allocates nothing per tick on the host with the network on
// the emulated APU (the remote backend, its SPI transport and the
// emulated board included).
func TestZeroAllocationsPerTickAPU(t *testing.T) {
	d := demo(t, Options{Backend: "apu"})
	d.figs = handoff.New[Figures](8)
	if allocs := tickAllocs(t, d, 2000, 1000); allocs != 0 {
		t.Errorf("%v allocations per tick on the APU", allocs)
	}
}

// The emulated chip resets itself mid-run (image and state lost) with
// on_fault: reload: the wheels are safe at the end of that tick, the
// chip is reloaded (the image uploaded again) and the network runs on
// from t = 0, the log and the figures say so, and the vehicle still
// reaches the light.
func TestAPUChipResetReloads(t *testing.T) {
	text, _ := withBackend("backend: {kind: apu, spi: SPI0.1, data_ready: GPIO25, reset: GPIO24, on_fault: reload}")
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	const fault = linkFailAt / 10 // the RUN of tick 300 takes the chip past step 3005
	var atFault [2]float64
	var nowAtFault, nowAfter int64 = -1, -1
	var figs Figures
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: &log, Ticks: 30_000, SummaryEvery: -1,
		emulator: func(c *emulator.Config) { c.Faults.ResetAtStep = linkFailAt },
		Consumer: func(f Figures) {
			if f.Tick == fault {
				figs = f
			}
		},
		AfterTick: func(d *Daemon, k int64) {
			switch k {
			case fault:
				atFault = [2]float64{duty(t, d, "motor_left"), duty(t, d, "motor_right")}
				nowAtFault = d.backend.Now()
			case fault + 1:
				nowAfter = d.backend.Now()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatalf("a reloaded chip reset is not the loop's end: %v", err)
	}
	if atFault != [2]float64{} {
		t.Errorf("wheel duties %v at the end of the chip reset's tick; want both safe (0)", atFault)
	}
	if nowAtFault != 0 || nowAfter != 10 {
		t.Errorf("network step %d after the reset's tick, %d one tick later; want 0 and 10 (from t = 0)", nowAtFault, nowAfter)
	}
	st, es := d.Stats(), d.Emulator().Stats()
	t.Logf("link %+v", st.Link)
	if es.SelfResets != 1 || st.LinkFaults != 1 || st.Reloads != 1 || st.Link.ChipResets < 1 {
		t.Errorf("chip self-resets %d, link faults %d, reloads %d, chip resets seen %d; want 1, 1, 1, >= 1", es.SelfResets, st.LinkFaults, st.Reloads, st.Link.ChipResets)
	}
	if !figs.Link.HasLink || figs.Link.Reloads != 1 || figs.Link.Faults != 1 {
		t.Errorf("figures of the reset's tick: link %+v; want 1 fault, 1 reload", figs.Link)
	}
	for _, want := range []string{`"link":"spi SPI0.1"`, "backend link failed: outputs safe; reloading the chip (on_fault: reload)", "chip reloaded: the network runs on from t = 0"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if end := d.Plant().(*sim.Vehicle).DistanceToLight(); end > 0.3 {
		t.Errorf("after the reload the vehicle ends %.3f m from the light, want <= 0.3 m", end)
	}
}

// A recording made with the network on the emulated APU names backend
// apu and replays, with no chip, on its stand-in, the fixed backend:
// the same spikes bit for bit.
func TestAPURecordingReplaysOnFixed(t *testing.T) {
	rec, h, live := recordOn(t, "apu", 2000)
	if h.Backend != "apu" {
		t.Fatalf("header backend %q, want apu", h.Backend)
	}
	if len(live) < 100 {
		t.Fatalf("%d spikes live: too few to compare", len(live))
	}
	rp, err := NewReplayer(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Backend() != "fixed" {
		t.Errorf("the replay runs on %q, want fixed (apu's stand-in)", rp.Backend())
	}
	rp.Close()
	replay, err := Replay(demoNetwork, "braitenberg.yaml", bytes.NewReader(rec))
	if err != nil {
		t.Fatal(err)
	}
	sameSpikes(t, live, replay)
	t.Logf("%d spikes live on the APU, the same on fixed", len(live))
}

// One corrupted frame in about 1,000 for 60 s of the demo on the APU,
// either way: every one detected and resent within its tick (no link
// fault, no output made safe), the link's CRC errors and retries equal
// to the flips the emulator injected, and the run's spikes the same, bit
// for bit, as a run on a clean link.
func TestAPUCorruptedFramesInLoop(t *testing.T) {
	const ticks = 60_000
	run := func(faults emulator.Faults) (Stats, emulator.Stats, uint64) {
		cfg, err := quietDemo()
		if err != nil {
			t.Fatal(err)
		}
		var digest uint64 = 14695981039346656037 // FNV-1a over every spike
		d, err := New(cfg, Options{Backend: "apu", Clock: &FakeClock{}, Logger: quiet(), Ticks: ticks, SummaryEvery: -1,
			emulator: func(c *emulator.Config) { c.Faults = faults },
			AfterTick: func(d *Daemon, k int64) {
				for _, s := range d.TickSpikes() {
					for _, v := range [...]int64{int64(s.Pop), int64(s.Neuron), s.Stamp} {
						digest = (digest ^ uint64(v)) * 1099511628211
					}
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return d.Stats(), d.Emulator().Stats(), digest
	}
	clean, _, want := run(emulator.Faults{})
	st, es, got := run(emulator.Faults{Seed: 7, RequestFlip: 0.0005, ResponseFlip: 0.0005})
	flips := es.RequestFlips + es.ResponseFlips
	t.Logf("%d request and %d response flips in %d frames; link %+v", es.RequestFlips, es.ResponseFlips, st.Link.FramesIn+st.Link.FramesOut, st.Link)
	if es.RequestFlips == 0 || es.ResponseFlips == 0 {
		t.Fatal("no flips injected: the test would check nothing")
	}
	if st.Link.CRCErrors != flips || st.Link.Retries != flips {
		t.Errorf("link CRC errors %d, retries %d; want both %d (the flips injected)", st.Link.CRCErrors, st.Link.Retries, flips)
	}
	if st.LinkFaults != 0 || st.StaleTicks != 0 || st.Ticks != ticks {
		t.Errorf("%d link faults, %d stale ticks, %d ticks; want 0, 0, %d", st.LinkFaults, st.StaleTicks, st.Ticks, ticks)
	}
	if got != want || clean.Link.CRCErrors != 0 {
		t.Errorf("spike digest %x with corrupted frames, %x clean (clean CRC errors %d); want equal", got, want, clean.Link.CRCErrors)
	}
}

// --backend apu with a config that names no link, or a stream nobody
// serves: New says what is missing, and nothing stays open.
func TestAPUWithoutLink(t *testing.T) {
	cfg := demoWithBackend(t, "backend: cpu")
	_, err := New(cfg, Options{Backend: "apu", Clock: &FakeClock{}, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "daemon: backend apu: link: must be backend.spi (with data_ready, reset) or backend.stream, got neither in the config's backend section") {
		t.Errorf("no link: %v", err)
	}
	sock := t.TempDir() + "/none.sock"
	cfg = demoWithBackend(t, "backend: {kind: apu, stream: unix:"+sock+"}")
	_, err = New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), sock) {
		t.Errorf("a stream nobody serves: %v", err)
	}
	t.Logf("%v", err)
}

// With telemetry on and the network on the APU, every sample carries the
// link's figures (the backend's counts, the mean time per tick on the
// link) and the loop still allocates nothing per tick.
func TestAPUTelemetryLink(t *testing.T) {
	text, _ := withBackend("backend: {kind: apu, spi: SPI0.1, data_ready: GPIO25, reset: GPIO24}")
	text += fmt.Sprintf(telSection, "apu", t.TempDir(), "")
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	q, err := telemetry.NewQueue(4)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := telemetry.NewSpikeQueue(4)
	if err != nil {
		t.Fatal(err)
	}
	d.smp = newSampler(d, &telemetryService{q: q, sq: sq})
	d.figs = handoff.New[Figures](8)
	if allocs := tickAllocs(t, d, 1000, 1000); allocs != 0 {
		t.Errorf("%v allocations per tick with telemetry on the APU", allocs)
	}
	var s, last telemetry.Telemetry
	for q.Pop(&s) {
		last = s
	}
	l, st := last.Link, d.Stats().Link
	t.Logf("last sample (tick %d): link %+v", last.Tick, l)
	if l.Frames == 0 || l.Bytes == 0 || l.TransferUs <= 0 || l.CRCErrors != 0 || l.Faults != 0 || l.Reloads != 0 {
		t.Errorf("sample's link %+v; want frames, bytes and a transfer time, no errors", l)
	}
	if l.Frames > st.FramesIn+st.FramesOut || l.Frames < 2*uint64(last.Tick) {
		t.Errorf("sample of tick %d counts %d frames; the run has %d, two a tick at least", last.Tick, l.Frames, st.FramesIn+st.FramesOut)
	}
}
