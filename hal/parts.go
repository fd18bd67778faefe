package hal

import (
	"fmt"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/spikeloop/spikeloop/hal/mcp3x08"
	"github.com/spikeloop/spikeloop/hal/mcp4922"
)

// The interfaces below are the contracts of the parts a Board hands
// out. Code that uses a part should depend on the narrowest one (an
// actuator decoder needs a DigitalOut, not a Board); hal/haltest has
// recording and scripted fakes of each.

// DigitalOut drives one digital output.
type DigitalOut interface {
	// Out sets the output level. It does not allocate unless it fails
	// and is meant to be called every tick.
	Out(l gpio.Level) error
}

// DigitalIn reads one digital input.
type DigitalIn interface {
	// Read returns the current level. It never blocks.
	Read() gpio.Level
	// Edge reports whether an edge of the configured kind was seen since
	// the previous call; it never blocks for longer than a poll. Edges
	// may merge: two edges between calls report true once. An input
	// configured with edge "none" always reports false.
	Edge() bool
}

// PWMOut drives one PWM output at its configured frequency.
type PWMOut interface {
	// SetDuty sets the duty cycle, 0 (always low) to gpio.DutyMax
	// (always high). A duty outside that range returns ErrDuty and
	// leaves the output unchanged. It does not allocate.
	SetDuty(d gpio.Duty) error
}

// AnalogIn is one analog input channel.
type AnalogIn interface {
	// Read makes one conversion and returns the raw code and the
	// voltage it stands for. It does not allocate unless it fails.
	Read() (Sample, error)
}

// AnalogOut is one analog output channel.
type AnalogOut interface {
	// SetVolts sets the output voltage, rounded to the nearest DAC step.
	// A voltage out of the channel's range returns an error wrapping
	// ErrRange and leaves the output unchanged.
	SetVolts(v float64) error
}

// Halter puts something in its safe state.
type Halter interface {
	// Halt puts every output in its configured safe state (outputs at
	// their safe level, PWM at its safe duty, DACs at their safe voltage
	// or shut down). It tries every output even when one fails and
	// returns all failures joined. Calling it twice in a row is safe and
	// gives the same state. It does not stop later writes: the caller
	// stops its loop first.
	Halt() error
}

// Sample is one analog conversion.
type Sample struct {
	Raw   int     // the chip's code, 0..2^bits-1
	Volts float64 // Raw converted with the configured reference
}

// Output is a digital output part. It implements DigitalOut.
type Output struct {
	name, pin string
	p         gpio.PinOut
	safe      gpio.Level
	closed    *atomic.Bool
}

// Name is the part name from the config.
func (o *Output) Name() string { return o.name }

// Pin is the host pin name.
func (o *Output) Pin() string { return o.pin }

// Safe is the level Halt sets.
func (o *Output) Safe() gpio.Level { return o.safe }

// Out implements DigitalOut.
func (o *Output) Out(l gpio.Level) error {
	if o.closed.Load() {
		return ErrClosed
	}
	if err := o.p.Out(l); err != nil {
		return fmt.Errorf("hal: output %q (%s): %w", o.name, o.pin, err)
	}
	return nil
}

func (o *Output) halt() error { return o.Out(o.safe) }

// Input is a digital input part. It implements DigitalIn.
type Input struct {
	name, pin string
	p         gpio.PinIn
	poll      EdgePoller // p, if it can poll; nil otherwise
	edge      gpio.Edge
	closed    *atomic.Bool
}

// EdgePoller is implemented by pins that can report a pending edge
// without waiting (hal/sim's pins). Input.Edge uses it when the pin has
// it; otherwise it calls WaitForEdge with a one-microsecond timeout,
// whose cost (a deadline and a read, which allocate) is periph's.
type EdgePoller interface {
	// PollEdge reports and clears a pending edge; it never blocks.
	PollEdge() bool
}

// Name is the part name from the config.
func (in *Input) Name() string { return in.name }

// Pin is the host pin name.
func (in *Input) Pin() string { return in.pin }

// Read implements DigitalIn. After Close it returns gpio.Low.
func (in *Input) Read() gpio.Level {
	if in.closed.Load() {
		return gpio.Low
	}
	return in.p.Read()
}

// edgePoll is the timeout Edge passes to WaitForEdge. It is not 0
// because periph's gpioioctl driver (the default on current Linux)
// treats a 0 timeout as "no deadline" and would block.
const edgePoll = time.Microsecond

// Edge implements DigitalIn.
func (in *Input) Edge() bool {
	if in.edge == gpio.NoEdge || in.closed.Load() {
		return false
	}
	if in.poll != nil {
		return in.poll.PollEdge()
	}
	return in.p.WaitForEdge(edgePoll)
}

// WaitForEdge blocks until an edge of the configured kind or until
// timeout and reports whether there was one. It returns false at once
// for an input configured with edge "none" and after Close. It is for
// goroutines outside the tick loop; to poll, use Edge. The timeout is
// passed to periph as is, and periph's drivers differ on 0: gpioioctl
// (current Linux) treats it as no deadline and blocks, hal/sim polls.
func (in *Input) WaitForEdge(timeout time.Duration) bool {
	if in.edge == gpio.NoEdge || in.closed.Load() {
		return false
	}
	return in.p.WaitForEdge(timeout)
}

// PWM is a PWM output part. It implements PWMOut.
type PWM struct {
	name, pin string
	p         gpio.PinOut
	freq      physic.Frequency
	safe      gpio.Duty
	duty      atomic.Int32 // last duty written, for telemetry
	closed    *atomic.Bool
}

// Name is the part name from the config.
func (p *PWM) Name() string { return p.name }

// Pin is the host pin name.
func (p *PWM) Pin() string { return p.pin }

// Frequency is the configured PWM frequency.
func (p *PWM) Frequency() physic.Frequency { return p.freq }

// SafeDuty is the duty Halt sets.
func (p *PWM) SafeDuty() gpio.Duty { return p.safe }

// Duty is the last duty successfully written.
func (p *PWM) Duty() gpio.Duty { return gpio.Duty(p.duty.Load()) }

// SetDuty implements PWMOut.
func (p *PWM) SetDuty(d gpio.Duty) error {
	if !d.Valid() {
		return ErrDuty
	}
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.p.PWM(d, p.freq); err != nil {
		return fmt.Errorf("hal: pwm %q (%s): %w", p.name, p.pin, err)
	}
	p.duty.Store(int32(d))
	return nil
}

// SetFraction sets the duty as a fraction in [0, 1].
func (p *PWM) SetFraction(x float64) error {
	d, err := DutyOf(x)
	if err != nil {
		return err
	}
	return p.SetDuty(d)
}

func (p *PWM) halt() error { return p.SetDuty(p.safe) }

// ADCChannel is an analog input part on an MCP3008/MCP3208. It
// implements AnalogIn.
type ADCChannel struct {
	name   string
	chip   string
	dev    *mcp3x08.Dev
	ch     int
	diff   bool
	vref   float64
	closed *atomic.Bool
}

// Name is the part name from the config.
func (a *ADCChannel) Name() string { return a.name }

// Channel is the input (or IN+) channel number and whether the read is
// differential.
func (a *ADCChannel) Channel() (ch int, differential bool) { return a.ch, a.diff }

// Bits is the chip's resolution (10 or 12).
func (a *ADCChannel) Bits() int { return a.dev.Variant().Bits() }

// VRef is the configured reference voltage.
func (a *ADCChannel) VRef() float64 { return a.vref }

// Read implements AnalogIn.
func (a *ADCChannel) Read() (Sample, error) {
	if a.closed.Load() {
		return Sample{}, ErrClosed
	}
	code, err := a.dev.Read(a.ch, a.diff)
	if err != nil {
		return Sample{}, fmt.Errorf("hal: adc %q (%s channel %d): %w", a.name, a.chip, a.ch, err)
	}
	return Sample{Raw: code, Volts: a.dev.Variant().Volts(code, a.vref)}, nil
}

// DACChannel is an analog output part on an MCP4922. It implements
// AnalogOut.
type DACChannel struct {
	name         string
	chip         string
	dev          *mcp4922.Dev
	ch           mcp4922.Channel
	s            mcp4922.Settings
	vref         float64
	safeCode     int
	haltShutdown bool
	closed       *atomic.Bool
}

// Name is the part name from the config.
func (d *DACChannel) Name() string { return d.name }

// Range is the highest voltage the channel can be set to.
func (d *DACChannel) Range() float64 { return mcp4922.Volts(mcp4922.MaxCode, d.vref, d.s.Gain) }

// SetVolts implements AnalogOut.
func (d *DACChannel) SetVolts(v float64) error {
	code, err := mcp4922.Code(v, d.vref, d.s.Gain)
	if err != nil {
		// Gain and reference were checked when the board opened: what
		// Code refuses here is the voltage.
		return fmt.Errorf("hal: dac %q: %w: %w", d.name, ErrRange, err)
	}
	return d.SetCode(code)
}

// SetCode writes a raw code (0..4095) and turns the channel on.
func (d *DACChannel) SetCode(code int) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.dev.Write(d.ch, code, d.s); err != nil {
		return fmt.Errorf("hal: dac %q (%s channel %s): %w", d.name, d.chip, d.ch, err)
	}
	return nil
}

// Shutdown turns the channel off: high impedance, 500 kOhm to ground.
func (d *DACChannel) Shutdown() error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.dev.Shutdown(d.ch, d.s); err != nil {
		return fmt.Errorf("hal: dac %q (%s channel %s): %w", d.name, d.chip, d.ch, err)
	}
	return nil
}

func (d *DACChannel) halt() error {
	if d.haltShutdown {
		return d.Shutdown()
	}
	return d.SetCode(d.safeCode)
}

// Compile-time checks that the parts satisfy their contracts.
var (
	_ DigitalOut = (*Output)(nil)
	_ DigitalIn  = (*Input)(nil)
	_ PWMOut     = (*PWM)(nil)
	_ AnalogIn   = (*ADCChannel)(nil)
	_ AnalogOut  = (*DACChannel)(nil)
	_ Halter     = (*Board)(nil)
)
