package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/recording"
)

// linkOnce is the cpu engine whose link fails once, in the Run that
// would take it past step failAt, as a remote backend reports a chip that
// reset itself; after a Reset it runs on. It counts its Resets.
type linkOnce struct {
	apu.Backend
	failAt int64
	failed bool
	resets int
}

var errChipReset = fmt.Errorf("apu link spi SPI0.1: RUN: the chip reset itself (boot counter 1 -> 2): %w", apu.ErrLink)

func (f *linkOnce) Run(n int, feeds []apu.Feed) error {
	if !f.failed && f.Now()+int64(n) > f.failAt {
		f.failed = true
		return errChipReset
	}
	return f.Backend.Run(n, feeds)
}

func (f *linkOnce) Reset() error {
	f.resets++
	return f.Backend.Reset()
}

// linkFailAt is the step linkOnce fails at: tick 300 of the demo
// (10 steps a tick), when the wheels turn.
const linkFailAt = 3005

func init() {
	apu.Register("link-once", func(o apu.Options) (apu.Backend, error) {
		b, err := cpu.Open(o)
		return &linkOnce{Backend: b, failAt: linkFailAt}, err
	})
}

// withBackend is the quiet demo's text with its backend section
// replaced by section, and the section's line.
func withBackend(section string) (string, int) {
	s := quietDemoText()
	i := strings.Index(s, "\nbackend:\n")
	j := strings.Index(s, "\nnetwork: ")
	if i < 0 || j < i {
		panic("the demo config has no backend section before its network")
	}
	return s[:i+1] + section + "\n" + s[j:], strings.Count(s[:i+1], "\n") + 1
}

// demoWithBackend is the quiet demo with a backend section.
func demoWithBackend(t *testing.T, section string) *Config {
	t.Helper()
	text, _ := withBackend(section)
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// safeAtMessage is a log hook that, when the daemon logs msg, reads both
// wheels' duty: what the actuators hold at that moment, in the tick.
type safeAtMessage struct {
	d      **Daemon
	msg    string
	seen   int
	duties []float64
}

func (h *safeAtMessage) Run(_ *zerolog.Event, _ zerolog.Level, msg string) {
	if !strings.HasPrefix(msg, h.msg) || *h.d == nil {
		return
	}
	h.seen++
	for _, part := range []string{"motor_left", "motor_right"} {
		p, err := (*h.d).SimBoard().PartPin(part)
		if err == nil {
			h.duties = append(h.duties, p.Duty())
		}
	}
}

// A link fault with on_fault: stop: the wheels are safe when the fault is
// logged, in the tick of the fault (before the loop returns), and the
// loop ends with an error that names the link and is of the link's class.
func TestLinkFaultStops(t *testing.T) {
	cfg := demoWithBackend(t, "backend: {kind: cpu, spi: SPI0.1, data_ready: GPIO25, reset: GPIO24, on_fault: stop}")
	var d *Daemon
	hook := &safeAtMessage{d: &d, msg: "backend link failed"}
	log := zerolog.New(&bytes.Buffer{}).Hook(hook)
	var before [2]float64
	d, err := New(cfg, Options{Backend: "link-once", Clock: &FakeClock{}, Logger: &log, Ticks: 1000, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) {
			if k == linkFailAt/10-1 {
				before = [2]float64{duty(t, d, "motor_left"), duty(t, d, "motor_right")}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Run(context.Background())
	if !errors.Is(err, apu.ErrLink) || !strings.Contains(err.Error(), "daemon: tick 300: backend link-once: apu link spi SPI0.1: RUN") {
		t.Fatalf("loop ended with %v; want the link's error at tick 300, naming the link", err)
	}
	if before[0] == 0 && before[1] == 0 {
		t.Fatal("the wheels should turn before the fault (the test would not see them go safe)")
	}
	if hook.seen != 1 || len(hook.duties) != 2 || hook.duties[0] != 0 || hook.duties[1] != 0 {
		t.Errorf("at the fault's log line (in its tick): %d lines, wheel duties %v; want 1 line, both 0", hook.seen, hook.duties)
	}
	st := d.Stats()
	if st.Ticks != 300 || st.LinkFaults != 1 || st.Reloads != 0 {
		t.Errorf("ticks %d, link faults %d, reloads %d; want 300, 1, 0", st.Ticks, st.LinkFaults, st.Reloads)
	}
}

// A link fault with on_fault: reload: the wheels are safe at the end of
// the fault's tick, the chip is reloaded (Reset), the network runs on
// from t = 0 and the wheels turn again; the loop ends normally.
func TestLinkFaultReloads(t *testing.T) {
	cfg := demoWithBackend(t, "backend:\n  kind: cpu\n  spi: SPI0.1\n  on_fault: reload")
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	const fault = linkFailAt / 10
	var atFault [2]float64
	var nowAtFault, nowAfter int64 = -1, -1
	turnsAgain := false
	d, err := New(cfg, Options{Backend: "link-once", Clock: &FakeClock{}, Logger: &log, Ticks: 1500, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) {
			switch {
			case k == fault:
				atFault = [2]float64{duty(t, d, "motor_left"), duty(t, d, "motor_right")}
				nowAtFault = d.backend.Now()
			case k == fault+1:
				nowAfter = d.backend.Now()
			case k > fault+1 && duty(t, d, "motor_left")+duty(t, d, "motor_right") > 0:
				turnsAgain = true
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatalf("a reloaded link fault is not the loop's end: %v", err)
	}
	if atFault != [2]float64{} {
		t.Errorf("wheel duties %v at the end of the fault's tick; want both safe (0)", atFault)
	}
	if nowAtFault != 0 || nowAfter != 10 {
		t.Errorf("network step %d after the fault's tick and %d one tick later; want 0 and 10 (from t = 0)", nowAtFault, nowAfter)
	}
	if !turnsAgain {
		t.Error("the wheels never turned again after the reload")
	}
	st := d.Stats()
	if st.Ticks != 1500 || st.LinkFaults != 1 || st.Reloads != 1 {
		t.Errorf("ticks %d, link faults %d, reloads %d; want 1500, 1, 1", st.Ticks, st.LinkFaults, st.Reloads)
	}
	if b := d.backend.(*linkOnce); b.resets != 1 {
		t.Errorf("backend reset %d times, want 1", b.resets)
	}
	for _, want := range []string{`"link":"spi SPI0.1"`, "reloading the chip (on_fault: reload)", "chip reloaded: the network runs on from t = 0"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// The backend section: the plain name and the mapping; bad values are
// refused at their line, naming the field and the value.
func TestBackendSection(t *testing.T) {
	cfg := demoWithBackend(t, "backend: cpu")
	if cfg.backendName() != "cpu" || cfg.Backend.reload() || cfg.Backend.hasLink() {
		t.Errorf("plain name: %+v", cfg.Backend)
	}
	cfg = demoWithBackend(t, "backend: {kind: cpu, spi: /dev/spidev0.1, data_ready: GPIO25, reset: GPIO24, hz: 20000000, retries: 0, on_fault: reload}")
	b := cfg.Backend
	if cfg.backendName() != "cpu" || !b.reload() || b.hz() != 20_000_000 || b.retries() != 0 || b.linkName() != "spi /dev/spidev0.1" {
		t.Errorf("mapping: %+v", b)
	}
	if b := demoWithBackend(t, "backend: {kind: cpu, spi: SPI0.1}").Backend; b.hz() != defaultLinkHz || b.retries() != defaultRetries || b.reload() {
		t.Errorf("defaults: hz %d, retries %d, reload %v", b.hz(), b.retries(), b.reload())
	}
	for _, c := range []struct{ section, want string }{
		{"backend: {kind: cpu, on_fault: restart}", `demo.yaml:32: backend.on_fault: must be "stop" or "reload", got "restart"`},
		{"backend: {kind: cpu, spi: SPI0.1, hz: -5}", "demo.yaml:32: backend.hz: must be 1..50000000 (the SPI clock in Hz; 0 or absent: 10000000), got -5"},
		{"backend: {kind: cpu, spi: SPI0.1, retries: 99}", "demo.yaml:32: backend.retries: must be 0..16, got 99"},
		{"backend: {kind: cpu, spi: SPI0.1, timeout: 0s}", `demo.yaml:32: backend.timeout: must be a duration above 0 and at most 10s, such as "2ms", got "0s"`},
		{"backend: {kind: cpu, spi: SPI0.1, hz: 25000000}", "demo.yaml:32: backend.hz: must be at most 20000000 on the emulated board (the emulated APU's fastest clock), got 25000000"},
		{"backend: {kind: gpu}", `demo.yaml:32: backend.kind: "gpu": not a backend`},
		{"backend: gpu", `demo.yaml:32: backend: "gpu": not a backend`},
		{"backend: {kind: cpu, spi: SPI0.0}", `demo.yaml:32: backend.spi: must be a port no board part uses, got "SPI0.0" (board.adcs[0].port)`},
		{"backend: {kind: cpu, spi: SPI7.0}", `demo.yaml:32: backend.spi: must be an SPI port of the emulated board (SPI0.0, SPI0.1, SPI1.0, SPI1.1, SPI1.2), got "SPI7.0"`},
		{"backend: {kind: cpu, spi: SPI0.1, data_ready: GPIO12}", `demo.yaml:32: backend.data_ready: must be a pin no board part uses, got "GPIO12" (board.pwm[0].pin)`},
		{"backend: {kind: cpu, spi: SPI0.1, reset: GPIO99}", `demo.yaml:32: backend.reset: must be a pin of the emulated board (GPIO0..GPIO27), got "GPIO99"`},
		{"backend: {kind: cpu, spi: SPI0.1, data_ready: GPIO5, reset: GPIO5}", `backend.reset: must differ from backend.data_ready, got "GPIO5" for both`},
		{"backend: {kind: cpu, stream: http://x}", `backend.stream: must be "unix:PATH" or "tcp:HOST:PORT", got "http://x"`},
		{"backend: {kind: cpu, stream: unix:/tmp/a, reset: GPIO5}", `backend.reset: must be left out with backend.stream (a socket has no lines), got "GPIO5"`},
		{"backend: {kind: cpu, spi: SPI0.1, stream: unix:/tmp/a}", `backend.stream: must be left out when backend.spi is set (one link), got "unix:/tmp/a"`},
		{"backend: {kind: cpu, sip: SPI0.1}", `backend.sip: unknown field; did you mean "spi"?`},
		{"backend: {kind: cpu, hz: fast}", `backend.hz: must be a whole number, got "fast"`},
	} {
		text, line := withBackend(c.section)
		want := strings.Replace(c.want, "demo.yaml:32:", fmt.Sprintf("demo.yaml:%d:", line), 1)
		_, err := Parse([]byte(text), "demo.yaml", demoNetwork)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %s", c.section, err, want)
		}
	}
}

// Telemetry says that the chip was reloaded: a sample is taken in the
// fault's tick with link.faults and link.reloads at 1, and the network
// time back at 0; /metrics would show them as link_*_total.
func TestLinkFaultTelemetry(t *testing.T) {
	text, _ := withBackend("backend: {kind: cpu, spi: SPI0.1, on_fault: reload}")
	text += fmt.Sprintf(telSection, "link", t.TempDir(), "")
	cfg, err := Parse([]byte(text), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Backend: "link-once", Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	q, err := telemetry.NewQueue(64)
	if err != nil {
		t.Fatal(err)
	}
	d.smp = newSampler(d, &telemetryService{q: q})
	d.figs = handoff.New[Figures](2048)
	clock := d.clock.(*FakeClock)
	const fault = linkFailAt / 10
	for k := 0; k <= fault; k++ {
		clock.SleepUntil(context.Background(), d.deadline)
		if err := d.iterate(); err != nil {
			t.Fatal(err)
		}
	}
	var s, last telemetry.Telemetry
	n := 0
	for q.Pop(&s) {
		n++
		if s.Tick < fault && !s.Link.IsZero() {
			t.Errorf("sample at tick %d has link figures %+v before the fault", s.Tick, s.Link)
		}
		last = s
	}
	if n != fault/50+1 || last.Tick != fault {
		t.Fatalf("%d samples, the last at tick %d; want %d, the last at the fault's tick %d", n, last.Tick, fault/50+1, fault)
	}
	if last.Link.Faults != 1 || last.Link.Reloads != 1 || last.TimeMs != 0 {
		t.Errorf("sample of the fault's tick: link %+v, time %v ms; want 1 fault, 1 reload, time 0", last.Link, last.TimeMs)
	}
	if last.Actuators["left_wheel"] != 0 || last.Actuators["right_wheel"] != 0 {
		t.Errorf("actuators %v in the fault's sample; want safe (0)", last.Actuators)
	}
	var f Figures
	for d.figs.Pop(&f) {
	}
	if f.Tick != fault || f.Link.Faults != 1 || f.Link.Reloads != 1 || f.Link.HasLink {
		t.Errorf("figures of tick %d: link %+v; want 1 fault, 1 reload, no link counts (the fake has none)", f.Tick, f.Link)
	}
}

// An error that does not name the link gets the link's name from the
// config.
func TestLinkFaultNamesLink(t *testing.T) {
	cfg := demoWithBackend(t, "backend: {kind: cpu, stream: unix:/run/apu.sock}")
	d, err := New(cfg, Options{Backend: "faulty-link", Clock: &FakeClock{}, Logger: quiet(), Ticks: 100, SummaryEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Run(context.Background())
	if !errors.Is(err, apu.ErrLink) || !strings.Contains(err.Error(), "daemon: tick 20: backend faulty-link, link unix:/run/apu.sock: spi: response CRC mismatch twice") {
		t.Errorf("loop ended with %v; want the link named from the config", err)
	}
}

// linkDead is the cpu engine whose link fails for good at step failAt:
// a Reset fails too.
type linkDead struct{ linkOnce }

var errNoChip = fmt.Errorf("apu link spi SPI0.1: HELLO: no good response in 3 attempts: %w", apu.ErrLink)

func (f *linkDead) Reset() error { f.resets++; return errNoChip }

func init() {
	apu.Register("link-dead", func(o apu.Options) (apu.Backend, error) {
		b, err := cpu.Open(o)
		return &linkDead{linkOnce{Backend: b, failAt: linkFailAt}}, err
	})
}

// on_fault: reload with a chip that does not come back: the outputs are
// safe, the loop stops with both the fault and the failed reload, and a
// recording made with on_fault: reload holds the ticks before the fault
// (replayable).
func TestLinkReloadFails(t *testing.T) {
	cfg := demoWithBackend(t, "backend: {kind: cpu, spi: SPI0.1, on_fault: reload}")
	var rec bytes.Buffer
	d, err := New(cfg, Options{Backend: "link-dead", Clock: &FakeClock{}, Logger: quiet(), Ticks: 1000, SummaryEvery: -1, Record: &rec})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Run(context.Background())
	if !errors.Is(err, apu.ErrLink) || !strings.Contains(err.Error(), "RUN: the chip reset itself") || !strings.Contains(err.Error(), "the reload failed: apu link spi SPI0.1: HELLO") {
		t.Fatalf("loop ended with %v; want the fault and the failed reload", err)
	}
	if l, r := duty(t, d, "motor_left"), duty(t, d, "motor_right"); l != 0 || r != 0 {
		t.Errorf("wheels %v, %v after the failed reload; want safe", l, r)
	}
	st := d.Stats()
	if st.Ticks != 300 || st.LinkFaults != 1 || st.Reloads != 0 || d.backend.(*linkDead).resets != 1 {
		t.Errorf("ticks %d, faults %d, reloads %d, resets %d; want 300, 1, 0, 1", st.Ticks, st.LinkFaults, st.Reloads, d.backend.(*linkDead).resets)
	}
	segs, err := recording.Scan(bytes.NewReader(rec.Bytes()))
	if err != nil || len(segs) != 1 || segs[0].Ticks != 300 {
		t.Errorf("recording: %v, %+v; want one segment of the 300 ticks before the fault", err, segs)
	}
}

// linkFlaky is the cpu engine whose link fails in every Run from step
// failAt on, though Reset succeeds: a chip that cannot run the network.
type linkFlaky struct{ linkOnce }

func (f *linkFlaky) Run(n int, feeds []apu.Feed) error {
	if f.resets > 0 || f.Now()+int64(n) > f.failAt {
		return errChipReset
	}
	return f.Backend.Run(n, feeds)
}

func init() {
	apu.Register("link-flaky", func(o apu.Options) (apu.Backend, error) {
		b, err := cpu.Open(o)
		return &linkFlaky{linkOnce{Backend: b, failAt: linkFailAt}}, err
	})
}

// on_fault: reload with a chip that fails again in the first tick after
// its reload: the loop stops (once reloaded, not every tick forever),
// saying so, with the outputs safe.
func TestLinkFailsAgainAfterReload(t *testing.T) {
	cfg := demoWithBackend(t, "backend: {kind: cpu, spi: SPI0.1, on_fault: reload}")
	d, err := New(cfg, Options{Backend: "link-flaky", Clock: &FakeClock{}, Logger: quiet(), Ticks: 1000, SummaryEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Run(context.Background())
	if !errors.Is(err, apu.ErrLink) || !strings.Contains(err.Error(), "daemon: tick 301: backend link-flaky, again in the first tick after a reload: apu link spi SPI0.1") {
		t.Fatalf("loop ended with %v; want the second fault, in tick 301, named as following the reload", err)
	}
	st := d.Stats()
	if st.Ticks != 301 || st.LinkFaults != 2 || st.Reloads != 1 {
		t.Errorf("ticks %d, faults %d, reloads %d; want 301, 2, 1", st.Ticks, st.LinkFaults, st.Reloads)
	}
	if l, r := duty(t, d, "motor_left"), duty(t, d, "motor_right"); l != 0 || r != 0 {
		t.Errorf("wheels %v, %v; want safe", l, r)
	}
}
