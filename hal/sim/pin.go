package sim

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	"github.com/spikeloop/spikeloop/hal"
)

// Function of an emulated pin, as set by the last In, Out or PWM call.
const (
	FuncNone = "" // never configured
	FuncIn   = "In"
	FuncOut  = "Out"
	FuncPWM  = "PWM"
)

// Pin is an emulated GPIO pin. It implements gpio.PinIO for the drivers
// in hal, and has methods for the plant: read what the board drives
// (Level, Duty, Frequency) and drive what the board reads (Drive).
//
// Pin is safe for concurrent use.
type Pin struct {
	name string
	num  int

	mu      sync.Mutex
	fn      string
	level   gpio.Level // output level, or the level on the wire for an input
	pull    gpio.Pull
	edge    gpio.Edge
	duty    gpio.Duty
	freq    physic.Frequency
	edges   chan struct{} // holds at most one pending edge
	nEdges  uint64        // edges of the configured kind seen while an input
	nWrites uint64        // successful Out and PWM calls
	nFalls  uint64        // Out calls that drove the level from high to low
	fault   error         // returned by Out/PWM/In when set
}

// NewPin returns a pin that has never been configured, at level low.
func NewPin(name string, number int) *Pin {
	return &Pin{name: name, num: number, edges: make(chan struct{}, 1)}
}

// String implements conn.Resource.
func (p *Pin) String() string { return fmt.Sprintf("%s(%d)", p.name, p.num) }

// Halt implements conn.Resource: it stops PWM and drives the pin low,
// like a pin that is released.
func (p *Pin) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fn == FuncPWM || p.fn == FuncOut {
		p.fn, p.level, p.duty = FuncOut, gpio.Low, 0
	}
	return nil
}

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *Pin) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fn
}

// Func implements pin.PinFunc.
func (p *Pin) Func() pin.Func {
	switch p.Function() {
	case FuncIn:
		return gpio.IN
	case FuncOut:
		return gpio.OUT
	case FuncPWM:
		return gpio.PWM
	}
	return pin.FuncNone
}

// SupportedFuncs implements pin.PinFunc.
func (p *Pin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN, gpio.OUT, gpio.PWM} }

// SetFunc implements pin.PinFunc; use In, Out or PWM instead.
func (p *Pin) SetFunc(f pin.Func) error {
	return errors.New("sim: " + p.name + ": SetFunc not supported, use In, Out or PWM")
}

// In implements gpio.PinIn. A pull resistor sets the level of an input
// that the plant does not drive; pending edges are dropped.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != nil {
		return p.fault
	}
	p.fn, p.edge = FuncIn, edge
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	switch p.pull {
	case gpio.PullUp:
		p.level = gpio.High
	case gpio.PullDown:
		p.level = gpio.Low
	}
	select {
	case <-p.edges:
	default:
	}
	return nil
}

// Read implements gpio.PinIn. On an output it reads back the driven
// level, as a real GPIO does.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn. A pending edge returns true at
// once. Otherwise timeout 0 returns false at once (a poll), a negative
// timeout waits without limit and a positive one waits that long in
// real time for the plant, on another goroutine, to make an edge.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	select {
	case <-p.edges:
		return true
	default:
	}
	switch {
	case timeout == 0:
		return false
	case timeout < 0:
		<-p.edges
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// PollEdge implements hal.EdgePoller: it reports and clears a pending
// edge without waiting or allocating.
func (p *Pin) PollEdge() bool {
	select {
	case <-p.edges:
		return true
	default:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn: emulated pins reset floating.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

// Out implements gpio.PinOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != nil {
		return p.fault
	}
	if p.fn == FuncOut && p.level == gpio.High && l == gpio.Low {
		p.nFalls++
	}
	p.fn, p.level, p.duty = FuncOut, l, 0
	p.nWrites++
	return nil
}

// PWM implements gpio.PinOut. Frequency 0 picks 1 kHz, as periph lets a
// pin choose its preferred frequency.
func (p *Pin) PWM(d gpio.Duty, f physic.Frequency) error {
	if !d.Valid() {
		return fmt.Errorf("sim: %s: duty: must be 0..%d, got %d", p.name, gpio.DutyMax, d)
	}
	if f < 0 {
		return fmt.Errorf("sim: %s: invalid frequency %s", p.name, f)
	}
	if f == 0 {
		f = physic.KiloHertz
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != nil {
		return p.fault
	}
	p.fn, p.duty, p.freq = FuncPWM, d, f
	p.level = d >= gpio.DutyHalf // what a slow reader would see on average
	p.nWrites++
	return nil
}

// Plant side.

// Level is what the pin carries now: the driven output level, or the
// level the plant (or the pull resistor) puts on an input.
func (p *Pin) Level() gpio.Level { return p.Read() }

// Duty is the fraction of time the pin is high: the PWM duty, or 0/1
// for a plain output. An input or unconfigured pin gives 0.
func (p *Pin) Duty() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.fn {
	case FuncPWM:
		return float64(p.duty) / float64(gpio.DutyMax)
	case FuncOut:
		if p.level {
			return 1
		}
	}
	return 0
}

// Frequency is the PWM frequency last set, or 0.
func (p *Pin) Frequency() physic.Frequency {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fn != FuncPWM {
		return 0
	}
	return p.freq
}

// Writes counts the successful Out and PWM calls.
func (p *Pin) Writes() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nWrites
}

// Falls counts the Out calls that drove the pin from high to low, so
// that an emulated chip that samples a line it watches (a reset line)
// between transactions still sees a short low pulse.
func (p *Pin) Falls() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nFalls
}

// Drive puts level l on an input from outside, as a sensor or encoder
// does. A change that matches the configured edge kind is counted and
// makes one edge pending for WaitForEdge. Driving a pin the board uses
// as output has no effect (the board's driver wins); it returns false.
func (p *Pin) Drive(l gpio.Level) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fn == FuncOut || p.fn == FuncPWM {
		return false
	}
	old := p.level
	p.level = l
	if old == l || p.fn != FuncIn {
		return true
	}
	if (l && p.edge&gpio.RisingEdge != 0) || (!l && p.edge&gpio.FallingEdge != 0) {
		p.nEdges++
		select {
		case p.edges <- struct{}{}:
		default: // already one pending: edges merge, as on Linux
		}
	}
	return true
}

// Edges counts the edges of the configured kind driven so far.
func (p *Pin) Edges() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nEdges
}

// Fail makes In, Out and PWM return err from now on (nil repairs the
// pin); for testing how the board handles a broken output.
func (p *Pin) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = err
}

var (
	_ gpio.PinIO     = (*Pin)(nil)
	_ hal.EdgePoller = (*Pin)(nil)
	_ pin.PinFunc    = (*Pin)(nil)
)
