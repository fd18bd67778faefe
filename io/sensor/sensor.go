// Package sensor turns sensor readings into network input, once per tick
// of the daemon's loop.
//
// An Input reads its Source once at the start of a tick (Read) and then
// gives the network its input for each of the tick's network steps
// (Step). Four encoders exist:
//
//   - Current: gain*value+offset, clamped, as a current (pA) into an
//     InputTransmitter in current mode, on every step of the tick.
//   - Rate: Poisson spikes at gain*value Hz per unit (seeded) into an
//     InputTransmitter in spike mode.
//   - Delta: a spike on the "up" unit (0) or the "down" unit (1) of an
//     InputTransmitter in spike mode each time the value has moved by
//     more than a step since the last spike.
//   - DC: gain*value+offset, clamped, as the amplitude of a DCGenerator.
//   - Custom: a window of the last size readings, each scaled and
//     clamped, as the row of a CustomGenerator (unit i emits the reading
//     of i ticks ago) on every step of the tick: a tapped delay line.
//
// # Latency
//
// A reading taken at the start of tick k drives the steps of tick k; the
// spikes these steps produce are decoded and written to the actuators at
// the end of tick k. A change at a sensor therefore reaches an actuator
// one tick later at most, plus the network's own synaptic delays. The
// InputTransmitter hands a value to the step after SetInput (docs/models/generators.md),
// which is why Step is called before each single network step.
//
// # Safe values and staleness
//
// A read that fails, or gives a value that is not finite, is replaced by
// the input's safe value, and the input counts one more stale tick; the
// next good read resets the count. The daemon compares Stale with its
// stale_ticks limit and drives the outputs to their safe values when an
// input has gone stale (a late reading must be visible, never silently
// reused).
//
// Nothing here allocates after construction: Read and Step are called
// in the real-time loop.
package sensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Source is one sensor reading, e.g. an ADC channel's voltage.
type Source interface {
	// Read returns the value now. An error marks the tick stale.
	Read() (float64, error)
}

// InputSetter gives an InputTransmitter population its values for the
// next network step only (the daemon collects a tick of them into one
// apu.Backend.Run; cpu.Engine satisfies it too).
type InputSetter interface {
	SetInput(pop string, values []float64) error
}

// AmplitudeSetter sets a DCGenerator's amplitude from the next step on
// (*models.DCGenerator satisfies it).
type AmplitudeSetter interface {
	SetAmplitude(a []float64) error
}

// Encoder turns the tick's value into network input.
type Encoder interface {
	// Encode takes the value of this tick (finite: a failed read is
	// already replaced by the safe value).
	Encode(v float64)
	// Step gives the network its input for step s of the tick,
	// 0 <= s < the number of steps per tick.
	Step(s int) error
}

// Input is one configured sensor: a source, an encoder and a safe value.
type Input struct {
	name  string
	src   Source
	enc   Encoder
	safe  float64
	value float64 // value given to the encoder this tick
	stale int     // ticks since the last good reading
	err   error   // last read error, kept for the log
}

// NewInput bundles a source and an encoder. safe must be finite.
func NewInput(name string, src Source, enc Encoder, safe float64) (*Input, error) {
	if !finite(safe) {
		return nil, fmt.Errorf("sensor %q: safe: must be a finite number, got %v", name, safe)
	}
	return &Input{name: name, src: src, enc: enc, safe: safe, value: safe}, nil
}

// SetEncoder replaces the encoder (the daemon's reset command rebuilds
// encoders on the reset network); the source and the last value stay.
func (in *Input) SetEncoder(enc Encoder) { in.enc = enc }

// Name is the input's config name.
func (in *Input) Name() string { return in.name }

// Read reads the source once and hands the value, or the safe value
// when the read failed, to the encoder. It reports whether the reading
// was good.
func (in *Input) Read() bool {
	v, err := in.src.Read()
	if err == nil && !finite(v) {
		err = ErrNotFinite
	}
	if err != nil {
		in.err = err
		in.stale++
		v = in.safe
	} else {
		in.stale = 0
	}
	in.value = v
	in.enc.Encode(v)
	return err == nil
}

// Step gives the network its input for step s of the tick.
func (in *Input) Step(s int) error { return in.enc.Step(s) }

// Value is the value given to the encoder this tick.
func (in *Input) Value() float64 { return in.value }

// Stale is the number of ticks since the last good reading (0: this
// tick's reading was good).
func (in *Input) Stale() int { return in.stale }

// Err is the error of the last failed read (nil if none yet).
func (in *Input) Err() error { return in.err }

// ErrNotFinite is the read error of a source that returned NaN or an
// infinity.
var ErrNotFinite = errors.New("sensor: reading is not finite")

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Linear is gain*value+offset clamped to [Min, Max]: the scaling of the
// current and dc encoders.
type Linear struct {
	Gain, Offset float64
	Min, Max     float64
}

// Check reports a clamp range that is empty or not finite.
func (l Linear) Check() error {
	if !finite(l.Gain) {
		return fmt.Errorf("gain: must be a finite number, got %v", l.Gain)
	}
	if !finite(l.Offset) {
		return fmt.Errorf("offset: must be a finite number, got %v", l.Offset)
	}
	if !finite(l.Min) || !finite(l.Max) || l.Min > l.Max {
		return fmt.Errorf("clamp: must be finite min <= max, got [%v, %v]", l.Min, l.Max)
	}
	return nil
}

// Apply scales and clamps v.
func (l Linear) Apply(v float64) float64 {
	return min(l.Max, max(l.Min, l.Gain*v+l.Offset))
}

// Current feeds gain*value+offset, clamped, to every unit of an
// InputTransmitter in current mode on every step of the tick.
type Current struct {
	net  InputSetter
	pop  string
	lin  Linear
	vals []float64
}

// NewCurrent returns a current encoder into population pop of size units.
func NewCurrent(net InputSetter, pop string, size int, lin Linear) (*Current, error) {
	if size <= 0 {
		return nil, fmt.Errorf("current encoder %q: size: must be > 0, got %d", pop, size)
	}
	if err := lin.Check(); err != nil {
		return nil, fmt.Errorf("current encoder %q: %w", pop, err)
	}
	return &Current{net: net, pop: pop, lin: lin, vals: make([]float64, size)}, nil
}

// Encode implements Encoder.
func (c *Current) Encode(v float64) {
	x := c.lin.Apply(v)
	for i := range c.vals {
		c.vals[i] = x
	}
}

// Step implements Encoder: the InputTransmitter holds a value for one
// step only, so it is given again on every step.
func (c *Current) Step(int) error { return c.net.SetInput(c.pop, c.vals) }

// Rate sends independent Poisson spike trains at gain*value Hz (clamped
// to [0, MaxHz]) on every unit of an InputTransmitter in spike mode. In
// each step a unit spikes with probability rate*dt (at most one spike
// per step, which is why MaxHz must stay below 1/dt).
type Rate struct {
	net  InputSetter
	pop  string
	gain float64
	max  float64
	dt   float64 // seconds per network step
	p    float64 // spike probability per step this tick
	rng  *rand.Rand
	vals []float64
}

// NewRate returns a rate encoder into population pop of size units;
// dtMs is the network step in ms, seed fixes the spike trains.
func NewRate(net InputSetter, pop string, size int, gain, maxHz, dtMs float64, seed uint64) (*Rate, error) {
	switch {
	case size <= 0:
		return nil, fmt.Errorf("rate encoder %q: size: must be > 0, got %d", pop, size)
	case !finite(gain):
		return nil, fmt.Errorf("rate encoder %q: gain: must be a finite number, got %v", pop, gain)
	case !(dtMs > 0):
		return nil, fmt.Errorf("rate encoder %q: dt: must be > 0 ms, got %v ms", pop, dtMs)
	case !(maxHz > 0) || maxHz*dtMs/1000 > 1:
		return nil, fmt.Errorf("rate encoder %q: max_hz: must be in (0, %g] (one spike per step of %v ms), got %v", pop, 1000/dtMs, dtMs, maxHz)
	}
	return &Rate{net: net, pop: pop, gain: gain, max: maxHz, dt: dtMs / 1000,
		rng: rand.New(rand.NewPCG(seed, 0x5e9502)), vals: make([]float64, size)}, nil
}

// Encode implements Encoder.
func (r *Rate) Encode(v float64) {
	hz := min(r.max, max(0, r.gain*v))
	r.p = hz * r.dt
}

// Step implements Encoder.
func (r *Rate) Step(int) error {
	for i := range r.vals {
		r.vals[i] = 0
		if r.p > 0 && r.rng.Float64() < r.p {
			r.vals[i] = 1
		}
	}
	return r.net.SetInput(r.pop, r.vals)
}

// Delta spikes on unit 0 ("up") or unit 1 ("down") of a two-unit
// InputTransmitter in spike mode each time the value has moved by a
// whole step from the reference, and moves the reference by that step.
// The spikes of one tick go out one per network step from the tick's
// first step; moves larger than the tick has steps are capped and the
// rest is dropped (the reference follows the value), so that a jump
// never floods later ticks.
type Delta struct {
	net   InputSetter
	pop   string
	step  float64
	steps int // network steps per tick
	ref   float64
	init  bool
	up    int // spikes to send this tick on the up unit
	down  int
	vals  [2]float64
}

// NewDelta returns a delta encoder into the two-unit population pop;
// step > 0 is the change that makes one spike, steps the network steps
// per tick.
func NewDelta(net InputSetter, pop string, step float64, steps int) (*Delta, error) {
	if !(step > 0) || math.IsInf(step, 0) {
		return nil, fmt.Errorf("delta encoder %q: step: must be a finite number > 0, got %v", pop, step)
	}
	if steps <= 0 {
		return nil, fmt.Errorf("delta encoder %q: steps per tick: must be > 0, got %d", pop, steps)
	}
	return &Delta{net: net, pop: pop, step: step, steps: steps}, nil
}

// Encode implements Encoder. The first value only sets the reference.
func (d *Delta) Encode(v float64) {
	d.up, d.down = 0, 0
	if !d.init {
		d.ref, d.init = v, true
		return
	}
	n := math.Trunc((v - d.ref) / d.step)
	switch {
	case n >= 1:
		d.up = int(min(n, float64(d.steps)))
	case n <= -1:
		d.down = int(min(-n, float64(d.steps)))
	default:
		return
	}
	if math.Abs(n) > float64(d.steps) {
		d.ref = v
	} else {
		d.ref += n * d.step
	}
}

// Step implements Encoder.
func (d *Delta) Step(s int) error {
	d.vals[0], d.vals[1] = 0, 0
	if s < d.up {
		d.vals[0] = 1
	}
	if s < d.down {
		d.vals[1] = 1
	}
	return d.net.SetInput(d.pop, d.vals[:])
}

// DC sets a DCGenerator's amplitude to gain*value+offset, clamped, once
// per tick; the generator keeps it for every step until the next tick.
type DC struct {
	gen  AmplitudeSetter
	lin  Linear
	vals [1]float64
}

// NewDC returns a dc encoder into gen.
func NewDC(gen AmplitudeSetter, lin Linear) (*DC, error) {
	if gen == nil {
		return nil, errors.New("dc encoder: no generator")
	}
	if err := lin.Check(); err != nil {
		return nil, fmt.Errorf("dc encoder: %w", err)
	}
	return &DC{gen: gen, lin: lin}, nil
}

// Encode implements Encoder.
func (d *DC) Encode(v float64) { d.vals[0] = d.lin.Apply(v) }

// Step implements Encoder; only step 0 sets the amplitude.
func (d *DC) Step(s int) error {
	if s != 0 {
		return nil
	}
	return d.gen.SetAmplitude(d.vals[:])
}

// DataSetter replaces a CustomGenerator's array from step k0 on
// (*models.CustomGenerator satisfies it).
type DataSetter interface {
	SetData(rows [][]float64, k0 int64) error
}

// StepCounter tells the number of the next network step (apu.Backend's
// Now).
type StepCounter interface {
	Now() int64
}

// Custom feeds a CustomGenerator of size units with the last size
// readings: in every step of a tick, unit 0 emits the newest scaled
// reading, unit i the one of i ticks before. CustomGenerator values
// are spike values, so the clamp must stay >= 0.
type Custom struct {
	gen    DataSetter
	now    StepCounter
	lin    Linear
	window []float64   // newest first
	rows   [][]float64 // one per step, all the window itself
}

// NewCustom returns a custom encoder into gen, a CustomGenerator of size
// units, for ticks of steps network steps.
func NewCustom(gen DataSetter, now StepCounter, size, steps int, lin Linear) (*Custom, error) {
	switch {
	case gen == nil || now == nil:
		return nil, errors.New("custom encoder: no generator")
	case size <= 0:
		return nil, fmt.Errorf("custom encoder: size: must be > 0, got %d", size)
	case steps <= 0:
		return nil, fmt.Errorf("custom encoder: steps per tick: must be > 0, got %d", steps)
	}
	if err := lin.Check(); err != nil {
		return nil, fmt.Errorf("custom encoder: %w", err)
	}
	if lin.Min < 0 {
		return nil, fmt.Errorf("custom encoder: min: must be >= 0 (spike values), got %v", lin.Min)
	}
	c := &Custom{gen: gen, now: now, lin: lin, window: make([]float64, size), rows: make([][]float64, steps)}
	for i := range c.rows {
		c.rows[i] = c.window
	}
	return c, nil
}

// Encode implements Encoder: the window shifts by one reading.
func (c *Custom) Encode(v float64) {
	copy(c.window[1:], c.window[:len(c.window)-1])
	c.window[0] = c.lin.Apply(v)
}

// Step implements Encoder; step 0 installs the tick's rows from the
// next network step on. The generator keeps the rows without copying;
// they change only at the next tick's Encode, after these steps ran.
func (c *Custom) Step(s int) error {
	if s != 0 {
		return nil
	}
	return c.gen.SetData(c.rows, c.now.Now())
}

// Compile-time checks.
var (
	_ Encoder = (*Custom)(nil)
	_ Encoder = (*Current)(nil)
	_ Encoder = (*Rate)(nil)
	_ Encoder = (*Delta)(nil)
	_ Encoder = (*DC)(nil)
)
