package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// BackendConfig is the `backend:` section: where the network runs and,
// for a backend that drives a chip ("apu"), the link to it and what the
// loop does when the link fails. It is written as a plain name
// (`backend: fixed`) or as a mapping:
//
//	backend: {kind: apu, spi: SPI0.1, data_ready: GPIO25, reset: GPIO24,
//	          hz: 10000000, retries: 2, on_fault: reload}
//
// The link fields are read whenever the run's backend is "apu" (by kind,
// or by `spikeloop run --backend apu`), so a config can describe its
// chip while running on the cpu. On the emulated board (driver sim), a
// config with `spi:` carries an emulated APU on that port, with its
// data-ready and reset lines on those pins.
type BackendConfig struct {
	// Kind is the backend's registered name (apu.Open); absent: "cpu".
	Kind string `yaml:"kind"`
	// SPI is the chip's SPI port (e.g. "SPI0.1"); Stream instead
	// reaches a chip served on a socket ("unix:PATH" or
	// "tcp:HOST:PORT", `spikeloop apu serve`).
	SPI    string `yaml:"spi"`
	Stream string `yaml:"stream"`
	// DataReady is the chip's data-ready input pin (active low), Reset
	// its reset output pin (active low); both optional.
	DataReady string `yaml:"data_ready"`
	Reset     string `yaml:"reset"`
	// Hz is the SPI clock (default 10 MHz).
	Hz int64 `yaml:"hz"`
	// Retries is how many times a request is resent within a tick
	// before the link counts as failed (default 2).
	Retries *int `yaml:"retries"`
	// Timeout is how long one response may take before the request is
	// resent (default 100ms): a link that died holds the loop, with the
	// outputs at their last values, for up to (retries+1) x timeout
	// before they go safe, so a timeout near the tick makes that short.
	Timeout string `yaml:"timeout"`
	// OnFault is what the loop does when the link fails: "stop" (the
	// default: outputs safe, the loop ends with the link's error) or
	// "reload" (outputs safe, the chip is reloaded and the network runs
	// on from t = 0).
	OnFault string `yaml:"on_fault"`
}

// UnmarshalYAML takes the plain name form as well as the mapping.
func (b *BackendConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&b.Kind)
	}
	type plain BackendConfig // without this method
	return n.Decode((*plain)(b))
}

// The link's defaults and bounds.
const (
	defaultLinkHz  = 10_000_000
	maxLinkHz      = 50_000_000
	defaultRetries = 2
	maxRetries     = 16
	maxLinkTimeout = 10 * time.Second
	onFaultStop    = "stop"
	onFaultReload  = "reload"
)

// linkBackend is the backend that drives a chip over a link.
const linkBackend = "apu"

// hz is the SPI clock with its default.
func (b BackendConfig) hz() int64 {
	if b.Hz == 0 {
		return defaultLinkHz
	}
	return b.Hz
}

// retries is the resend budget with its default.
func (b BackendConfig) retries() int {
	if b.Retries == nil {
		return defaultRetries
	}
	return *b.Retries
}

// reload says whether a link fault reloads the chip (else it stops).
func (b BackendConfig) reload() bool { return b.OnFault == onFaultReload }

// hasLink says whether the section describes a link.
func (b BackendConfig) hasLink() bool { return b.SPI != "" || b.Stream != "" }

// linkName names the link in errors and logs.
func (b BackendConfig) linkName() string {
	if b.SPI != "" {
		return "spi " + b.SPI
	}
	return b.Stream
}

// checkBackend checks the backend section (the kind is checked by
// check, as it was when the section was a name).
func (c *Config) checkBackend(k *checker) {
	b := c.Backend
	if b.OnFault != "" && b.OnFault != onFaultStop && b.OnFault != onFaultReload {
		k.add("backend.on_fault", ErrInvalid, `must be "stop" or "reload", got %q`, b.OnFault)
	}
	if b.Hz < 0 || b.Hz > maxLinkHz {
		k.add("backend.hz", ErrRange, "must be 1..%d (the SPI clock in Hz; 0 or absent: %d), got %d", maxLinkHz, defaultLinkHz, b.Hz)
	}
	if b.Timeout != "" {
		if d, err := time.ParseDuration(b.Timeout); err != nil || d <= 0 || d > maxLinkTimeout {
			k.add("backend.timeout", ErrRange, `must be a duration above 0 and at most %v, such as "2ms", got %q`, maxLinkTimeout, b.Timeout)
		}
	}
	if c.Board.Driver == hal.DriverSim && b.SPI != "" && b.Hz > int64(emulator.DefaultMaxClock/physic.Hertz) {
		k.add("backend.hz", ErrRange, "must be at most %d on the emulated board (the emulated APU's fastest clock), got %d", int64(emulator.DefaultMaxClock/physic.Hertz), b.Hz)
	}
	if r := b.Retries; r != nil && (*r < 0 || *r > maxRetries) {
		k.add("backend.retries", ErrRange, "must be 0..%d, got %d", maxRetries, *r)
	}
	if b.SPI != "" && b.Stream != "" {
		k.add("backend.stream", ErrInvalid, "must be left out when backend.spi is set (one link), got %q", b.Stream)
	}
	if b.Stream != "" {
		if _, err := splitStream(b.Stream); err != nil {
			k.add("backend.stream", ErrInvalid, "%v", err)
		}
		if b.DataReady != "" || b.Reset != "" {
			f, v := "backend.data_ready", b.DataReady
			if v == "" {
				f, v = "backend.reset", b.Reset
			}
			k.add(f, ErrInvalid, "must be left out with backend.stream (a socket has no lines), got %q", v)
		}
	}
	if b.Kind == linkBackend && !b.hasLink() {
		k.add("backend.spi", ErrRequired, "required with kind apu (or backend.stream): the chip's SPI port, e.g. SPI0.1")
	}
	if b.SPI == "" {
		return
	}
	if b.DataReady != "" && b.DataReady == b.Reset {
		k.add("backend.reset", ErrInvalid, "must differ from backend.data_ready, got %q for both", b.Reset)
	}
	// The board's own parts may not share the chip's port or pins.
	for _, u := range boardUses(c.Board) {
		switch {
		case u.port && sameSPI(u.name, b.SPI):
			k.add("backend.spi", ErrInvalid, "must be a port no board part uses, got %q (%s)", b.SPI, u.field)
		case !u.port && b.DataReady != "" && u.name == b.DataReady:
			k.add("backend.data_ready", ErrInvalid, "must be a pin no board part uses, got %q (%s)", b.DataReady, u.field)
		case !u.port && b.Reset != "" && u.name == b.Reset:
			k.add("backend.reset", ErrInvalid, "must be a pin no board part uses, got %q (%s)", b.Reset, u.field)
		}
	}
	if c.Board.Driver != hal.DriverSim {
		return // looked up when the link is opened
	}
	sb := sim.New(c.Board)
	if !sb.HasSPI(b.SPI) {
		k.add("backend.spi", ErrNotFound, "must be an SPI port of the emulated board (%s), got %q", strings.Join(sim.PortNames(), ", "), b.SPI)
	}
	for _, p := range []struct{ field, name string }{{"backend.data_ready", b.DataReady}, {"backend.reset", b.Reset}} {
		if p.name != "" && sb.PinByName(p.name) == nil {
			k.add(p.field, ErrNotFound, "must be a pin of the emulated board (GPIO0..GPIO%d), got %q", sim.NumPins-1, p.name)
		}
	}
}

// boardUse is a port or pin a board part holds.
type boardUse struct {
	field, name string
	port        bool
}

func boardUses(b hal.Config) []boardUse {
	var u []boardUse
	for i, o := range b.Outputs {
		u = append(u, boardUse{fmt.Sprintf("board.outputs[%d].pin", i), o.Pin, false})
	}
	for i, in := range b.Inputs {
		u = append(u, boardUse{fmt.Sprintf("board.inputs[%d].pin", i), in.Pin, false})
	}
	for i, p := range b.PWM {
		u = append(u, boardUse{fmt.Sprintf("board.pwm[%d].pin", i), p.Pin, false})
	}
	for i, a := range b.ADCs {
		u = append(u, boardUse{fmt.Sprintf("board.adcs[%d].port", i), a.Port, true})
	}
	for i, d := range b.DACs {
		u = append(u, boardUse{fmt.Sprintf("board.dacs[%d].port", i), d.Port, true})
	}
	return u
}

// sameSPI compares port names in either form (SPI0.1, /dev/spidev0.1).
func sameSPI(a, b string) bool {
	canon := func(s string) string {
		if r, ok := strings.CutPrefix(s, "/dev/spidev"); ok {
			return "SPI" + r
		}
		return s
	}
	return canon(a) == canon(b)
}

// splitStream checks a stream address and returns its network.
func splitStream(s string) (network string, err error) {
	network, addr, ok := strings.Cut(s, ":")
	if !ok || addr == "" || (network != "unix" && network != "tcp") {
		return "", fmt.Errorf(`must be "unix:PATH" or "tcp:HOST:PORT", got %q`, s)
	}
	return network, nil
}

// errLinkReloaded says a tick's Run failed on the link and the chip was
// reloaded: the tick ends with the outputs safe, the loop goes on.
var errLinkReloaded = errors.New("link fault: chip reloaded")

// linkFault handles a Run that failed on the link (apu.ErrLink): the
// outputs go to their safe values first, in this tick; then the loop
// stops with the error naming the link, or (on_fault: reload) the chip
// is reloaded and errLinkReloaded returned.
func (d *Daemon) linkFault(err error) error {
	d.stats.LinkFaults++
	serr := d.safe()
	link := d.linkName()
	// The error names the link (the remote backend's own errors do).
	where := "backend " + d.backendName
	if !strings.Contains(err.Error(), link) {
		where += ", link " + link
	}
	// A chip that fails again in the first tick after a reload cannot
	// run the network: reloading it every tick would only hide that.
	again := d.justReloaded
	if again {
		where += ", again in the first tick after a reload"
	}
	if !d.cfg.Backend.reload() || serr != nil || again {
		d.log.Error().Err(err).Str("backend", d.backendName).Str("link", link).Msg("backend link failed: outputs safe; the loop stops (on_fault: stop)")
		return errors.Join(fmt.Errorf("%s: %w", where, err), serr)
	}
	d.log.Error().Err(err).Str("backend", d.backendName).Str("link", link).Msg("backend link failed: outputs safe; reloading the chip (on_fault: reload)")
	if rerr := d.reloadChip(); rerr != nil {
		return fmt.Errorf("%s: %w; the reload failed: %w", where, err, rerr)
	}
	d.stats.Reloads++
	d.justReloaded = true
	d.log.Warn().Int64("reloads", d.stats.Reloads).Str("link", link).Msg("chip reloaded: the network runs on from t = 0")
	return errLinkReloaded
}

// linkName names the run's link: the config's (only a backend with a
// link fails on one), or the backend's name.
func (d *Daemon) linkName() string {
	if d.cfg.Backend.hasLink() {
		return d.cfg.Backend.linkName()
	}
	return d.backendName
}

// reloadChip puts the network back to t = 0 on the chip (Backend.Reset
// reloads what a chip that reset itself lost) and the encoders with it.
// A recording ends here: its replay could not reproduce the reload.
func (d *Daemon) reloadChip() error {
	if d.rcd != nil {
		d.log.Warn().Msg("recording: ends at the reload (a replay could not reproduce it)")
		if err := d.rcd.Close(); err != nil {
			d.log.Error().Err(err).Msg("recording: closing")
		}
		d.rcd = nil
	}
	if err := d.backend.Reset(); err != nil {
		return err
	}
	d.backend.Drain(&d.rec) // the initial rows of t = 0
	d.rec.Reset()
	net := d.cfg.net
	for i, in := range d.cfg.Inputs {
		enc, err := newEncoder(d.backend, d.feeds, net, d.cfg.steps, in, inputSeed(net, i, in))
		if err != nil {
			return fmt.Errorf("inputs[%d]: %w", i, err)
		}
		d.inputs[i].SetEncoder(enc)
	}
	if d.smp != nil {
		// A sample in this tick says so (its link.reloads).
		d.smp.steps0 = 0
		d.snapshotDue = true
	}
	return nil
}

// backendIsMapping says whether the file writes `backend:` as a
// mapping (its errors then name backend.kind).
func (c *Config) backendIsMapping() bool {
	if c.root == nil || len(c.root.Content) == 0 {
		return false
	}
	top := c.root.Content[0]
	for j := 0; j+1 < len(top.Content); j += 2 {
		if top.Content[j].Value == "backend" {
			return top.Content[j+1].Kind == yaml.MappingNode
		}
	}
	return false
}

// linkFigures reads the link's figures now (no allocation).
func (d *Daemon) linkFigures() LinkFigures {
	f := LinkFigures{HasLink: d.linker != nil, Faults: d.stats.LinkFaults, Reloads: d.stats.Reloads}
	if d.linker != nil {
		f.LinkStats = d.linker.LinkStats()
		d.stats.Link = f.LinkStats
	}
	return f
}

// offlineBackend is the backend that answers for name without its
// hardware (`spikeloop check`, a reload's preflight): the chip ("apu")
// runs what its stand-in (apu.RegisterStandIn: the fixed backend) runs,
// bit for bit, from the same compiled image, so its probe and load stand
// for the chip's.
func offlineBackend(name string) string { return apu.StandIn(name) }

// openSim builds the emulated board with, when the backend section
// names an SPI port, an emulated APU on it (its data-ready and reset on
// the section's pins), opens it with hal.Open and attaches plant.
func (d *Daemon) openSim(plant sim.Plant) (*sim.Board, *hal.Board, error) {
	cfg := d.cfg
	sb := sim.New(cfg.Board)
	if b := cfg.Backend; b.SPI != "" {
		ec := emulator.Config{DataReady: sb.Pin(b.DataReady), Reset: sb.Pin(b.Reset)}
		if d.opts.emulator != nil {
			d.opts.emulator(&ec)
		}
		emu, err := emulator.New(ec)
		if err != nil {
			return nil, nil, fmt.Errorf("backend.spi: the emulated APU: %w", err)
		}
		if err := sb.SetChip(b.SPI, emu); err != nil {
			return nil, nil, fmt.Errorf("backend.spi: %w", err)
		}
		d.emu = emu
	}
	hb, err := hal.Open(cfg.Board, sb)
	if err != nil {
		return nil, nil, err
	}
	if plant != nil {
		if err := sb.Attach(plant); err != nil {
			return nil, nil, errors.Join(err, hb.Close())
		}
	}
	return sb, hb, nil
}

// openLink opens the link of a backend on a chip (nil for the others):
// the section's SPI port on the board's host, connected at hz in mode 0,
// with its data-ready line as an input and its reset line driven high,
// or the stream address for the backend to dial.
func (d *Daemon) openLink() (*apu.Link, error) {
	b := d.cfg.Backend
	if d.backendName != linkBackend {
		return nil, nil
	}
	if !b.hasLink() {
		return nil, fmt.Errorf("backend %s: link: must be backend.spi (with data_ready, reset) or backend.stream, got neither in the config's backend section", linkBackend)
	}
	retries := b.retries()
	if retries == 0 {
		retries = -1 // the backend reads 0 as its default
	}
	l := &apu.Link{Name: b.linkName(), Stream: b.Stream, Hz: b.hz(), Retries: retries}
	l.Timeout, _ = time.ParseDuration(b.Timeout) // checked; "" gives 0, the backend's default
	if b.SPI == "" {
		return l, nil
	}
	var h hal.Host = hal.PeriphHost{}
	if d.simb != nil {
		h = d.simb
	}
	port, err := h.OpenSPI(b.SPI)
	if err != nil {
		return nil, fmt.Errorf("backend.spi: %q: %w", b.SPI, err)
	}
	d.linkPort = port
	if l.SPI, err = port.Connect(physic.Frequency(b.hz())*physic.Hertz, spi.Mode0, 8); err != nil {
		return nil, fmt.Errorf("backend.spi: %q at %d Hz: %w", b.SPI, b.hz(), err)
	}
	if b.DataReady != "" {
		p := h.PinByName(b.DataReady)
		if p == nil {
			return nil, fmt.Errorf("backend.data_ready: no pin %q on this host", b.DataReady)
		}
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("backend.data_ready: %q: %w", b.DataReady, err)
		}
		l.DataReady = p
	}
	if b.Reset != "" {
		p := h.PinByName(b.Reset)
		if p == nil {
			return nil, fmt.Errorf("backend.reset: no pin %q on this host", b.Reset)
		}
		if err := p.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("backend.reset: %q: %w", b.Reset, err)
		}
		l.Reset = p
	}
	return l, nil
}

// Emulator is the emulated APU on the emulated board (a config whose
// backend section names an SPI port, driver sim), or nil.
func (d *Daemon) Emulator() *emulator.Emulator { return d.emu }

// linkSummary describes the section's link for `spikeloop check` ("" for
// none).
func (b BackendConfig) linkSummary() string {
	if !b.hasLink() {
		return ""
	}
	s := "apu link: " + b.linkName()
	if b.SPI != "" {
		s += fmt.Sprintf(" at %g MHz", float64(b.hz())/1e6)
		if b.DataReady != "" {
			s += ", data-ready " + b.DataReady
		}
		if b.Reset != "" {
			s += ", reset " + b.Reset
		}
	}
	timeout := cmp.Or(b.Timeout, "100ms")
	s += fmt.Sprintf("; %d retries a request, %s each; on a link fault: outputs safe, then %s", b.retries(), timeout, cmp.Or(b.OnFault, onFaultStop))
	if b.Kind != linkBackend {
		s += " (used with --backend apu)"
	}
	return s
}
