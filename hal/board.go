package hal

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/hal/mcp3x08"
	"github.com/spikeloop/spikeloop/hal/mcp4922"
)

// Host is where a Board finds its pins and SPI ports by name. The real
// host (PeriphHost) looks them up in periph's registries; hal/sim's
// emulated board implements it with emulated pins and chips; tests can
// implement it with gpiotest pins and spitest ports.
type Host interface {
	// PinByName returns the pin called name, or nil if there is none.
	PinByName(name string) gpio.PinIO
	// OpenSPI opens the SPI port called name (e.g. "SPI0.0"). The Board
	// closes it in Close.
	OpenSPI(name string) (spi.PortCloser, error)
}

// Board is a configured set of parts on one host. Get parts by name
// once, when wiring the daemon, and use them in the tick loop.
//
// The parts are safe for concurrent use; Halt and Close may be called
// from any goroutine.
type Board struct {
	closed  atomic.Bool
	outputs []*Output
	inputs  []*Input
	pwms    []*PWM
	adcs    []*ADCChannel
	dacs    []*DACChannel
	ports   []namedPort
	drivers *DriverReport // set by OpenPeriph
}

type namedPort struct {
	name string
	p    spi.PortCloser
}

// Open validates cfg, looks every pin and SPI port up on h and fails
// with the config field when one is missing, connects the SPI chips
// (mode, speed, 8 bits), and then puts every output in its safe state.
// No pin is touched before every name has been resolved. On error
// nothing stays open.
func Open(cfg Config, h Host) (*Board, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Board{}
	// Pass 1: resolve names, no side effects on pins.
	outPins, inPins, pwmPins, errs := resolvePins(cfg, h.PinByName, pinHint(h))
	port := func(field, name string) spi.PortCloser {
		p, err := h.OpenSPI(name)
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf("must be an SPI port of this host, got %q (%w): %w", name, ErrNotFound, err)})
			return nil
		}
		b.ports = append(b.ports, namedPort{name, p})
		return p
	}

	adcPorts := make([]spi.PortCloser, len(cfg.ADCs))
	for i, a := range cfg.ADCs {
		adcPorts[i] = port(fmt.Sprintf("%s.adcs[%d].port", Root, i), a.Port)
	}
	dacPorts := make([]spi.PortCloser, len(cfg.DACs))
	for i, d := range cfg.DACs {
		dacPorts[i] = port(fmt.Sprintf("%s.dacs[%d].port", Root, i), d.Port)
	}
	if len(errs) > 0 {
		return nil, errors.Join(append(errs, b.closePorts())...)
	}

	// Pass 2: connect the chips and set every pin up. Validate has
	// checked every value parsed here.
	fail := func(err error) (*Board, error) {
		return nil, errors.Join(err, b.closePorts())
	}
	for i, a := range cfg.ADCs {
		v, _ := mcp3x08.ParseVariant(a.Chip)
		c, err := adcPorts[i].Connect(physic.Frequency(a.SpeedHz)*physic.Hertz, modeOf(a.Mode), 8)
		if err != nil {
			return fail(&FieldError{Field: fmt.Sprintf("%s.adcs[%d].port", Root, i), Err: fmt.Errorf("%q: connect: %w", a.Port, err)})
		}
		dev, err := mcp3x08.New(c, v)
		if err != nil {
			return fail(fmt.Errorf("hal: adc %q: %w", a.Name, err))
		}
		for _, ch := range a.Channels {
			b.adcs = append(b.adcs, &ADCChannel{name: ch.Name, chip: a.Name, dev: dev, ch: ch.Channel, diff: ch.Differential, vref: a.VRef, closed: &b.closed})
		}
	}
	for i, d := range cfg.DACs {
		c, err := dacPorts[i].Connect(physic.Frequency(d.SpeedHz)*physic.Hertz, modeOf(d.Mode), 8)
		if err != nil {
			return fail(&FieldError{Field: fmt.Sprintf("%s.dacs[%d].port", Root, i), Err: fmt.Errorf("%q: connect: %w", d.Port, err)})
		}
		dev, err := mcp4922.New(c)
		if err != nil {
			return fail(fmt.Errorf("hal: dac %q: %w", d.Name, err))
		}
		for _, ch := range d.Channels {
			gain := dacGain(ch.Gain)
			safe := 0
			if !ch.HaltShutdown {
				safe, _ = mcp4922.Code(ch.SafeVolts, d.VRef, gain)
			}
			b.dacs = append(b.dacs, &DACChannel{
				name: ch.Name, chip: d.Name, dev: dev, ch: mcp4922.Channel(ch.Channel),
				s: mcp4922.Settings{Gain: gain, Buffered: ch.Buffered}, vref: d.VRef,
				safeCode: safe, haltShutdown: ch.HaltShutdown, closed: &b.closed,
			})
		}
	}
	for i, o := range cfg.Outputs {
		safe, _ := parseLevel(o.Safe)
		b.outputs = append(b.outputs, &Output{name: o.Name, pin: o.Pin, p: outPins[i], safe: safe, closed: &b.closed})
	}
	for i, in := range cfg.Inputs {
		pull, _ := parsePull(in.Pull)
		edge, _ := parseEdge(in.Edge)
		if err := inPins[i].In(pull, edge); err != nil {
			return fail(&FieldError{Field: fmt.Sprintf("%s.inputs[%d]", Root, i), Err: fmt.Errorf("%q: In(%s, %s): %w", in.Pin, pull, edge, err)})
		}
		poll, _ := inPins[i].(EdgePoller)
		b.inputs = append(b.inputs, &Input{name: in.Name, pin: in.Pin, p: inPins[i], poll: poll, edge: edge, closed: &b.closed})
	}
	for i, p := range cfg.PWM {
		f, _ := frequency(p.FrequencyHz)
		d, _ := DutyOf(p.SafeDuty)
		b.pwms = append(b.pwms, &PWM{name: p.Name, pin: p.Pin, p: pwmPins[i], freq: f, safe: d, closed: &b.closed})
	}
	// Every output starts in its safe state; a pin that refuses fails
	// the open, so a board that opened is known to be able to halt.
	if err := b.Halt(); err != nil {
		return fail(fmt.Errorf("hal: setting safe state at open: %w", err))
	}
	return b, nil
}

// Halt implements Halter: outputs to their safe level, PWM to the safe
// duty, DAC channels to their safe voltage or shut down. It tries every
// part and joins the errors. After Close it does nothing and returns
// nil (Close already halted).
func (b *Board) Halt() error {
	if b.closed.Load() {
		return nil
	}
	var errs []error
	for _, o := range b.outputs {
		if err := o.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range b.pwms {
		if err := p.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range b.dacs {
		if err := d.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close halts the board, closes the SPI ports and makes every part
// return ErrClosed. Calling it again returns nil.
func (b *Board) Close() error {
	herr := b.Halt()
	if b.closed.Swap(true) {
		return nil
	}
	return errors.Join(herr, b.closePorts())
}

func (b *Board) closePorts() error {
	var errs []error
	for _, p := range b.ports {
		if err := p.p.Close(); err != nil {
			errs = append(errs, fmt.Errorf("hal: closing spi %q: %w", p.name, err))
		}
	}
	b.ports = nil
	return errors.Join(errs...)
}

// DigitalOut returns the digital output called name.
func (b *Board) DigitalOut(name string) (*Output, error) {
	for _, o := range b.outputs {
		if o.name == name {
			return o, nil
		}
	}
	return nil, unknown("output", name, b.outputs)
}

// DigitalIn returns the digital input called name.
func (b *Board) DigitalIn(name string) (*Input, error) {
	for _, in := range b.inputs {
		if in.name == name {
			return in, nil
		}
	}
	return nil, unknown("input", name, b.inputs)
}

// PWM returns the PWM output called name.
func (b *Board) PWM(name string) (*PWM, error) {
	for _, p := range b.pwms {
		if p.name == name {
			return p, nil
		}
	}
	return nil, unknown("pwm", name, b.pwms)
}

// ADC returns the analog input channel called name.
func (b *Board) ADC(name string) (*ADCChannel, error) {
	for _, a := range b.adcs {
		if a.name == name {
			return a, nil
		}
	}
	return nil, unknown("adc", name, b.adcs)
}

// DAC returns the analog output channel called name.
func (b *Board) DAC(name string) (*DACChannel, error) {
	for _, d := range b.dacs {
		if d.name == name {
			return d, nil
		}
	}
	return nil, unknown("dac", name, b.dacs)
}

// Part describes one part for listings (spikeloop check) and logs.
type Part struct {
	Kind string // "output", "input", "pwm", "adc" or "dac"
	Name string
	At   string // pin name, or chip name and channel
}

// Parts lists every part in config order, by kind.
func (b *Board) Parts() []Part {
	var ps []Part
	for _, o := range b.outputs {
		ps = append(ps, Part{"output", o.name, o.pin})
	}
	for _, in := range b.inputs {
		ps = append(ps, Part{"input", in.name, in.pin})
	}
	for _, p := range b.pwms {
		ps = append(ps, Part{"pwm", p.name, p.pin})
	}
	for _, a := range b.adcs {
		at := fmt.Sprintf("%s ch%d", a.chip, a.ch)
		if a.diff {
			at = fmt.Sprintf("%s ch%d-ch%d", a.chip, a.ch, a.ch^1)
		}
		ps = append(ps, Part{"adc", a.name, at})
	}
	for _, d := range b.dacs {
		ps = append(ps, Part{"dac", d.name, fmt.Sprintf("%s %s", d.chip, d.ch)})
	}
	return ps
}

// Drivers returns what periph's host.Init reported, or nil for a board
// not opened with OpenPeriph.
func (b *Board) Drivers() *DriverReport { return b.drivers }

type named interface{ Name() string }

func unknown[T named](kind, name string, have []T) error {
	names := make([]string, len(have))
	for i, p := range have {
		names[i] = p.Name()
	}
	sort.Strings(names)
	return fmt.Errorf("%w: no %s called %q (have: %s)", ErrUnknownPart, kind, name, strings.Join(names, ", "))
}
