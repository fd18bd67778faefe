// Package actuator turns the spikes of a population into actuator
// commands, once per tick of the daemon's loop.
//
// The daemon hands each decoder the spikes of its population that the
// tick's network steps produced (Spike), then calls Update once, which
// writes the part. Three decoders exist:
//
//   - Pulse: a digital output leaves its safe (idle) level for Width
//     ticks after each tick with a spike; spikes during a pulse extend it.
//   - Rate: the mean firing rate of the population over a sliding window
//     of ticks, times a gain, clamped to [Min, Max], is a PWM duty.
//   - Vector: the population vector (each unit has a preferred value,
//     spread evenly from From to To; the value is the spike-count
//     weighted mean over a sliding window) is a DAC voltage. With no
//     spike in the window the last value is held.
//
// Safe writes the output's safe value (idle level, safe duty, safe
// volts) and forgets the window, so that a decoder resumed after a stop
// or a stale input starts from rest. Parts are written only when their
// value changes, and always after Safe.
//
// Nothing here allocates after construction.
package actuator

import (
	"fmt"
	"math"

	"periph.io/x/conn/v3/gpio"
)

// DigitalOut drives one digital output (hal.DigitalOut).
type DigitalOut interface {
	Out(l gpio.Level) error
}

// PWMOut drives one PWM output (hal.PWMOut).
type PWMOut interface {
	SetDuty(d gpio.Duty) error
}

// AnalogOut drives one analog output in volts (hal.AnalogOut).
type AnalogOut interface {
	SetVolts(v float64) error
}

// Decoder turns one tick's spikes into one actuator write.
type Decoder interface {
	// Spike counts one spike of unit n (0 <= n < size) in this tick.
	Spike(n int)
	// Update writes the part from the spikes counted since the last
	// Update, and starts the next tick's count.
	Update() error
	// Safe writes the safe value and clears the decoder's memory.
	Safe() error
	// Value is the value last written, for telemetry: a pulse output's
	// level (0 or 1), a rate output's duty (0..1), a vector output's
	// volts.
	Value() float64
}

// Pulse is the per-spike pulse decoder.
type Pulse struct {
	out     DigitalOut
	idle    gpio.Level
	width   int // ticks
	spikes  int
	left    int // ticks of the pulse still to run
	level   gpio.Level
	written bool
	pulses  int64
}

// NewPulse returns a pulse decoder: width (>= 1) is the pulse length in
// ticks, idle the level between pulses and the safe level.
func NewPulse(out DigitalOut, idle gpio.Level, width int) (*Pulse, error) {
	if out == nil {
		return nil, fmt.Errorf("pulse decoder: no output")
	}
	if width < 1 {
		return nil, fmt.Errorf("pulse decoder: width: must be >= 1 tick, got %d", width)
	}
	return &Pulse{out: out, idle: idle, width: width, level: idle}, nil
}

// Spike implements Decoder.
func (p *Pulse) Spike(int) { p.spikes++ }

// Update implements Decoder.
func (p *Pulse) Update() error {
	if p.spikes > 0 {
		if p.left == 0 {
			p.pulses++
		}
		p.left = p.width
		p.spikes = 0
	}
	l := p.idle
	if p.left > 0 {
		l = !p.idle
		p.left--
	}
	return p.write(l)
}

// Safe implements Decoder.
func (p *Pulse) Safe() error {
	p.spikes, p.left, p.written = 0, 0, false
	return p.write(p.idle)
}

func (p *Pulse) write(l gpio.Level) error {
	if p.written && l == p.level {
		return nil
	}
	if err := p.out.Out(l); err != nil {
		p.written = false // try again next tick
		return err
	}
	p.level, p.written = l, true
	return nil
}

// Level is the level written last.
func (p *Pulse) Level() gpio.Level { return p.level }

// Value implements Decoder: the level written last, 0 or 1.
func (p *Pulse) Value() float64 {
	if p.level {
		return 1
	}
	return 0
}

// Pulses is the number of pulses started.
func (p *Pulse) Pulses() int64 { return p.pulses }

// window is a sliding sum of per-tick spike counts over w ticks, for n
// units.
type window struct {
	n, w   int
	ring   []int32 // [tick slot][unit]
	sums   []int32 // per unit, over the window
	counts []int32 // this tick, per unit
	slot   int
	total  int64 // sum of sums
}

func newWindow(n, w int) window {
	return window{n: n, w: w, ring: make([]int32, n*w), sums: make([]int32, n), counts: make([]int32, n)}
}

func (win *window) spike(u int) {
	if u >= 0 && u < win.n {
		win.counts[u]++
	}
}

// shift moves this tick's counts into the window, dropping the oldest.
func (win *window) shift() {
	row := win.ring[win.slot*win.n : (win.slot+1)*win.n]
	for u := range row {
		win.sums[u] += win.counts[u] - row[u]
		win.total += int64(win.counts[u] - row[u])
		row[u] = win.counts[u]
		win.counts[u] = 0
	}
	win.slot = (win.slot + 1) % win.w
}

func (win *window) clear() {
	clear(win.ring)
	clear(win.sums)
	clear(win.counts)
	win.total, win.slot = 0, 0
}

// Rate is the rate-to-PWM decoder.
type Rate struct {
	out      PWMOut
	win      window
	span     float64 // window length in seconds
	gain     float64
	min, max float64
	safe     gpio.Duty
	hz       float64
	duty     gpio.Duty
	written  bool
}

// RateConfig holds the rate decoder's numbers.
type RateConfig struct {
	Size   int     // units in the population
	Window int     // ticks in the sliding window, >= 1
	Tick   float64 // seconds per tick, > 0
	Gain   float64 // duty per Hz of mean rate per unit
	Min    float64 // duty range, 0 <= Min <= Max <= 1
	Max    float64
	Safe   float64 // duty in [0, 1] written by Safe
}

// NewRate returns a rate decoder writing out.
func NewRate(out PWMOut, c RateConfig) (*Rate, error) {
	switch {
	case out == nil:
		return nil, fmt.Errorf("rate decoder: no output")
	case c.Size < 1:
		return nil, fmt.Errorf("rate decoder: size: must be >= 1, got %d", c.Size)
	case c.Window < 1:
		return nil, fmt.Errorf("rate decoder: window: must be >= 1 tick, got %d", c.Window)
	case !(c.Tick > 0):
		return nil, fmt.Errorf("rate decoder: tick: must be > 0 s, got %v s", c.Tick)
	case !finite(c.Gain):
		return nil, fmt.Errorf("rate decoder: gain: must be a finite number, got %v", c.Gain)
	case !(0 <= c.Min && c.Min <= c.Max && c.Max <= 1):
		return nil, fmt.Errorf("rate decoder: min, max: must be 0 <= min <= max <= 1, got [%v, %v]", c.Min, c.Max)
	case !(0 <= c.Safe && c.Safe <= 1):
		return nil, fmt.Errorf("rate decoder: safe: must be a duty in [0, 1], got %v", c.Safe)
	}
	return &Rate{out: out, win: newWindow(c.Size, c.Window), span: float64(c.Window) * c.Tick,
		gain: c.Gain, min: c.Min, max: c.Max, safe: duty(c.Safe)}, nil
}

// Spike implements Decoder.
func (r *Rate) Spike(n int) { r.win.spike(n) }

// Update implements Decoder.
func (r *Rate) Update() error {
	r.win.shift()
	r.hz = float64(r.win.total) / r.span / float64(r.win.n)
	return r.write(duty(min(r.max, max(r.min, r.gain*r.hz))))
}

// Safe implements Decoder.
func (r *Rate) Safe() error {
	r.win.clear()
	r.hz, r.written = 0, false
	return r.write(r.safe)
}

func (r *Rate) write(d gpio.Duty) error {
	if r.written && d == r.duty {
		return nil
	}
	if err := r.out.SetDuty(d); err != nil {
		r.written = false
		return err
	}
	r.duty, r.written = d, true
	return nil
}

// Hz is the mean rate per unit over the window at the last Update.
func (r *Rate) Hz() float64 { return r.hz }

// Value implements Decoder: the duty written last, 0..1.
func (r *Rate) Value() float64 { return float64(r.duty) / float64(gpio.DutyMax) }

// Duty is the duty written last.
func (r *Rate) Duty() gpio.Duty { return r.duty }

// Vector is the population-vector-to-DAC decoder.
type Vector struct {
	out      AnalogOut
	win      window
	pref     []float64 // preferred value per unit, volts
	min, max float64   // output clamp, volts
	safe     float64
	volts    float64
	written  bool
}

// VectorConfig holds the vector decoder's numbers.
type VectorConfig struct {
	Size     int     // units
	Window   int     // ticks, >= 1
	From, To float64 // preferred values of unit 0 and unit Size-1, volts
	Safe     float64 // volts written by Safe and held until the first spike
}

// NewVector returns a vector decoder writing out.
func NewVector(out AnalogOut, c VectorConfig) (*Vector, error) {
	switch {
	case out == nil:
		return nil, fmt.Errorf("vector decoder: no output")
	case c.Size < 1:
		return nil, fmt.Errorf("vector decoder: size: must be >= 1, got %d", c.Size)
	case c.Window < 1:
		return nil, fmt.Errorf("vector decoder: window: must be >= 1 tick, got %d", c.Window)
	case !finite(c.From):
		return nil, fmt.Errorf("vector decoder: from: must be a finite number, got %v", c.From)
	case !finite(c.To):
		return nil, fmt.Errorf("vector decoder: to: must be a finite number, got %v", c.To)
	case !finite(c.Safe):
		return nil, fmt.Errorf("vector decoder: safe: must be a finite number, got %v", c.Safe)
	}
	v := &Vector{out: out, win: newWindow(c.Size, c.Window), pref: make([]float64, c.Size),
		min: math.Min(c.From, c.To), max: math.Max(c.From, c.To), safe: c.Safe, volts: c.Safe}
	for i := range v.pref {
		v.pref[i] = c.From
		if c.Size > 1 {
			v.pref[i] = c.From + (c.To-c.From)*float64(i)/float64(c.Size-1)
		}
	}
	return v, nil
}

// Spike implements Decoder.
func (v *Vector) Spike(n int) { v.win.spike(n) }

// Update implements Decoder.
func (v *Vector) Update() error {
	v.win.shift()
	if v.win.total == 0 {
		return v.write(v.volts) // hold
	}
	s := 0.0
	for u, c := range v.win.sums {
		s += float64(c) * v.pref[u]
	}
	return v.write(min(v.max, max(v.min, s/float64(v.win.total))))
}

// Safe implements Decoder.
func (v *Vector) Safe() error {
	v.win.clear()
	v.written = false
	return v.write(v.safe)
}

func (v *Vector) write(x float64) error {
	if v.written && x == v.volts {
		return nil
	}
	if err := v.out.SetVolts(x); err != nil {
		v.written = false
		return err
	}
	v.volts, v.written = x, true
	return nil
}

// Volts is the value written last (or the safe value before any write).
func (v *Vector) Volts() float64 { return v.volts }

// Value implements Decoder: the volts written last.
func (v *Vector) Value() float64 { return v.volts }

// duty converts a fraction in [0, 1] to the nearest gpio.Duty.
func duty(x float64) gpio.Duty { return gpio.Duty(math.Round(x * float64(gpio.DutyMax))) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Compile-time checks.
var (
	_ Decoder = (*Pulse)(nil)
	_ Decoder = (*Rate)(nil)
	_ Decoder = (*Vector)(nil)
)
