// Package haltest has the project's shared fakes for code that uses hal
// parts: a Bank of actuators that records every write with its time,
// Discard (outputs that keep nothing, for allocation tests), a
// ScriptedADC that plays back a list of voltages, a Source of sensor
// values that the test can break, an Input whose level and edges the
// test sets, and a fake Clock. Every package's tests use these rather
// than copies of their own. Each fake keeps the
// contract of the hal interface it implements (same range checks, same
// sentinel errors), so a test that passes on the fakes means the same
// thing on the board.
//
// The fakes are safe for concurrent use. Unlike hal's parts they may
// allocate (the Bank appends to its log); do not use them to measure
// allocations.
package haltest

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/hal"
)

// Clock is a fake clock that moves only when told to.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Since returns Now() - t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Sleep advances the clock by d at once, as if the caller slept.
func (c *Clock) Sleep(d time.Duration) {
	if d > 0 {
		c.Advance(d)
	}
}

// Set sets the clock to t (it may go backwards, to test that).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Nower is where a Bank gets the time of each write; *Clock is one.
type Nower interface{ Now() time.Time }

// Kind is the kind of actuator a Write went to.
type Kind int

// The kinds of Write.
const (
	KindOut Kind = iota + 1 // digital output; Level is set
	KindPWM                 // PWM; Duty is set
	KindDAC                 // analog output; Volts is set
)

func (k Kind) String() string {
	switch k {
	case KindOut:
		return "out"
	case KindPWM:
		return "pwm"
	case KindDAC:
		return "dac"
	}
	return "kind?"
}

// Write is one recorded actuator write.
type Write struct {
	At    time.Time
	Part  string
	Kind  Kind
	Level gpio.Level
	Duty  gpio.Duty
	Volts float64
	Halt  bool // written by Bank.Halt
}

// Bank is a set of fake actuators that records every accepted write, in
// order, with the time from its clock. It implements hal.Halter.
type Bank struct {
	clock Nower

	mu     sync.Mutex
	writes []Write
	fails  map[string]error
	parts  []halter
	halts  int
}

type halter interface{ halt() error }

// NewBank returns an empty bank timed by clock (nil: zero times).
func NewBank(clock Nower) *Bank { return &Bank{clock: clock, fails: map[string]error{}} }

func (b *Bank) record(w Write) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.fails[w.Part]; err != nil {
		return err
	}
	if b.clock != nil {
		w.At = b.clock.Now()
	}
	b.writes = append(b.writes, w)
	return nil
}

// Fail makes every later write to part fail with err (nil repairs it).
// Failed writes are not recorded.
func (b *Bank) Fail(part string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails[part] = err
}

// Writes returns a copy of the log.
func (b *Bank) Writes() []Write {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Write(nil), b.writes...)
}

// Of returns the writes to one part, in order.
func (b *Bank) Of(part string) []Write {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Write
	for _, w := range b.writes {
		if w.Part == part {
			out = append(out, w)
		}
	}
	return out
}

// Last returns the last write to part.
func (b *Bank) Last(part string) (Write, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.writes) - 1; i >= 0; i-- {
		if b.writes[i].Part == part {
			return b.writes[i], true
		}
	}
	return Write{}, false
}

// Reset clears the log (not the parts or failures).
func (b *Bank) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes = nil
}

// Halts counts Halt calls.
func (b *Bank) Halts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.halts
}

// Halt implements hal.Halter: every part of the bank gets its safe
// value, recorded with Halt set; failures are joined.
func (b *Bank) Halt() error {
	b.mu.Lock()
	b.halts++
	parts := append([]halter(nil), b.parts...)
	b.mu.Unlock()
	var errs []error
	for _, p := range parts {
		if err := p.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *Bank) add(p halter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts = append(b.parts, p)
}

// Out is a recording digital output. Safe is what Halt writes.
type Out struct {
	b    *Bank
	name string
	Safe gpio.Level
}

// DigitalOut adds a digital output called name (safe level low).
func (b *Bank) DigitalOut(name string) *Out {
	o := &Out{b: b, name: name}
	b.add(o)
	return o
}

// Out implements hal.DigitalOut.
func (o *Out) Out(l gpio.Level) error {
	return o.b.record(Write{Part: o.name, Kind: KindOut, Level: l})
}

func (o *Out) halt() error {
	return o.b.record(Write{Part: o.name, Kind: KindOut, Level: o.Safe, Halt: true})
}

// PWM is a recording PWM output. SafeDuty is what Halt writes.
type PWM struct {
	b        *Bank
	name     string
	SafeDuty gpio.Duty
}

// PWM adds a PWM output called name (safe duty 0).
func (b *Bank) PWM(name string) *PWM {
	p := &PWM{b: b, name: name}
	b.add(p)
	return p
}

// SetDuty implements hal.PWMOut, with its contract: a duty outside
// [0, gpio.DutyMax] returns hal.ErrDuty and is not recorded.
func (p *PWM) SetDuty(d gpio.Duty) error {
	if !d.Valid() {
		return hal.ErrDuty
	}
	return p.b.record(Write{Part: p.name, Kind: KindPWM, Duty: d})
}

func (p *PWM) halt() error {
	return p.b.record(Write{Part: p.name, Kind: KindPWM, Duty: p.SafeDuty, Halt: true})
}

// DAC is a recording analog output accepting [0, Max] volts. SafeVolts
// is what Halt writes.
type DAC struct {
	b         *Bank
	name      string
	Max       float64
	SafeVolts float64
}

// DAC adds an analog output called name with range [0, max] volts.
func (b *Bank) DAC(name string, max float64) *DAC {
	d := &DAC{b: b, name: name, Max: max}
	b.add(d)
	return d
}

// SetVolts implements hal.AnalogOut, with its contract: a voltage
// outside [0, Max] returns an error wrapping hal.ErrRange and is not
// recorded.
func (d *DAC) SetVolts(v float64) error {
	if !(v >= 0 && v <= d.Max) {
		return fmt.Errorf("haltest: dac %q: volts: must be 0..%v V, got %v V: %w", d.name, d.Max, v, hal.ErrRange)
	}
	return d.b.record(Write{Part: d.name, Kind: KindDAC, Volts: v})
}

func (d *DAC) halt() error {
	return d.b.record(Write{Part: d.name, Kind: KindDAC, Volts: d.SafeVolts, Halt: true})
}

// ErrScriptDone is returned by ScriptedADC.Read after the last value
// when Loop is false.
var ErrScriptDone = errors.New("haltest: ADC script exhausted")

// ScriptedADC is an analog input that returns a scripted list of
// voltages, one per Read, quantised like a real chip of Bits bits with
// reference VRef (code = floor(2^Bits * V / VRef), clamped).
type ScriptedADC struct {
	Bits int
	VRef float64
	// Loop restarts the script at the end instead of failing.
	Loop bool

	mu    sync.Mutex
	volts []float64
	errs  map[int]error
	n     int
}

// NewScriptedADC returns an ADC that reads volts in order.
func NewScriptedADC(bits int, vref float64, volts ...float64) *ScriptedADC {
	return &ScriptedADC{Bits: bits, VRef: vref, volts: volts, errs: map[int]error{}}
}

// FailAt makes read number i (0-based, counting every Read) return err
// instead of a value; the script does not advance past that value.
func (a *ScriptedADC) FailAt(i int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs[i] = err
}

// Reads counts Read calls.
func (a *ScriptedADC) Reads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// Read implements hal.AnalogIn.
func (a *ScriptedADC) Read() (hal.Sample, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := a.n
	a.n++
	if err := a.errs[i]; err != nil {
		return hal.Sample{}, err
	}
	// Position in the script: reads minus failed reads so far.
	pos := i
	for j := range a.errs {
		if j < i {
			pos--
		}
	}
	if pos >= len(a.volts) {
		if !a.Loop || len(a.volts) == 0 {
			return hal.Sample{}, ErrScriptDone
		}
		pos %= len(a.volts)
	}
	full := float64(int(1) << a.Bits)
	code := math.Floor(a.volts[pos] / a.VRef * full)
	code = math.Max(0, math.Min(code, full-1))
	return hal.Sample{Raw: int(code), Volts: code * a.VRef / full}, nil
}

// Input is a digital input whose level the test sets. A change of level
// makes an edge pending for Edge, like an input configured with edge
// "both".
type Input struct {
	mu      sync.Mutex
	level   gpio.Level
	pending bool
}

// Set puts l on the input.
func (in *Input) Set(l gpio.Level) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if l != in.level {
		in.pending = true
	}
	in.level = l
}

// Read implements hal.DigitalIn.
func (in *Input) Read() gpio.Level {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.level
}

// Edge implements hal.DigitalIn.
func (in *Input) Edge() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	e := in.pending
	in.pending = false
	return e
}

// Discard is an output of every kind that accepts every write its
// contract allows and keeps nothing: for allocation tests, where a Bank's
// log would allocate. SetDuty still refuses a duty outside
// [0, gpio.DutyMax] with hal.ErrDuty.
type Discard struct{}

// Out implements hal.DigitalOut.
func (Discard) Out(gpio.Level) error { return nil }

// SetDuty implements hal.PWMOut.
func (Discard) SetDuty(d gpio.Duty) error {
	if !d.Valid() {
		return hal.ErrDuty
	}
	return nil
}

// SetVolts implements hal.AnalogOut.
func (Discard) SetVolts(float64) error { return nil }

// ErrRead is the error of a Source's failed read.
var ErrRead = errors.New("haltest: read failed")

// Source is a sensor value source (the method set of sensor.Source:
// Read() (float64, error)) that returns its values in turn, from the
// first again after the last. A NaN value is a failed read (ErrRead);
// while Fail(true) is in force every Read fails with ErrRead and the
// values do not advance. A Source made by Wrap reads another source
// instead of values (a real one the test wants to break).
type Source struct {
	mu     sync.Mutex
	values []float64
	from   interface{ Read() (float64, error) }
	n      int
	fail   bool
}

// NewSource returns a source that returns values in turn (at least one).
func NewSource(values ...float64) *Source {
	if len(values) == 0 {
		panic("haltest: NewSource needs at least one value")
	}
	return &Source{values: values}
}

// Wrap returns a source that reads src until told to Fail.
func Wrap(src interface{ Read() (float64, error) }) *Source { return &Source{from: src} }

// Fail makes every later Read fail (on) or read again (off).
func (s *Source) Fail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = on
}

// Reads counts the reads that did not fail by Fail.
func (s *Source) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Read returns the next value.
func (s *Source) Read() (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, ErrRead
	}
	if s.from != nil {
		s.n++
		return s.from.Read()
	}
	v := s.values[s.n%len(s.values)]
	s.n++
	if math.IsNaN(v) {
		return 0, ErrRead
	}
	return v, nil
}

var (
	_ hal.DigitalOut = Discard{}
	_ hal.PWMOut     = Discard{}
	_ hal.AnalogOut  = Discard{}
	_ hal.DigitalOut = (*Out)(nil)
	_ hal.PWMOut     = (*PWM)(nil)
	_ hal.AnalogOut  = (*DAC)(nil)
	_ hal.AnalogIn   = (*ScriptedADC)(nil)
	_ hal.DigitalIn  = (*Input)(nil)
	_ hal.Halter     = (*Bank)(nil)
	_ Nower          = (*Clock)(nil)
)
