// Package fixed is the fixed-point backend: it compiles a network into
// the APU's program image (apu/compile) and runs it in-process on the
// APU's engine (firmware/engine), so that what it computes is, bit for
// bit, what the chip computes. States and traces are converted back to
// the model's units with the compiler's host tables (V = y·2^-16 +
// V_rest for LIF and ExpLIF, ...); inputs and generator settings are
// converted to Q16.16 (round to nearest) before they reach the engine.
//
// Differences from the cpu backend, by design: the numbers are the
// quantized ones (the compiler's report bounds the potential error), the
// Poisson and Bernoulli streams are the engine's own (statistically the
// same, not the same draws), a state that would leave Q16.16 saturates
// and is counted (Saturations) instead of diverging, and networks the
// APU cannot run are refused at Probe and Load (apu.ErrUnsupported).
package fixed

import (
	"errors"
	"fmt"
	"math"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/models"
)

// Name is the name the backend is registered under (apu.Register).
const Name = "fixed"

// Open is the backend's apu.Opener. The engine runs on one thread, as
// the chip does: more threads asked for are noted (ThreadsNote).
func Open(opt apu.Options) (apu.Backend, error) {
	b := New()
	if opt.Threads > 1 {
		b.threadsNote = "the fixed backend runs the APU's engine, which steps on one thread as the chip does"
	}
	return b, nil
}

// Threads is the number of threads a step runs on: one.
func (b *Backend) Threads() int { return 1 }

// ThreadsNote says why more threads asked for (apu.Options) are not
// used; "" when one was asked for.
func (b *Backend) ThreadsNote() string { return b.threadsNote }

// Backend runs a compiled network on the fixed-point engine.
type Backend struct {
	net  *models.Network
	img  *image.Image
	rep  *compile.Report
	eng  *engine.Engine
	host *compile.Host

	rec    apu.Record
	traces []traceRT  // by index in rec.Traces
	byMon  [][]monRef // image monitor -> the traces its rows feed
	byName map[string]int

	// Scratch, grown once.
	spikes []engine.Spike
	rows   []engine.Row
	vals   []int32
	in     []int32
	q      []int32
	q2     []int32
	feeds  []int // host pop per feed of a Run

	threadsNote string
}

// traceRT assembles one trace from the engine's rows: a trace summing
// several chip states (ExpLIF's I_syn) waits for all of a stamp's rows.
type traceRT struct {
	st   compile.HostTrace
	need int
	got  int
	sum  []int64
}

type monRef struct {
	trace int
	state uint8
}

var _ apu.Backend = (*Backend)(nil)

// New returns an unloaded backend.
func New() *Backend { return &Backend{} }

// Report is the quantization report of the loaded network.
func (b *Backend) Report() *compile.Report { return b.rep }

// Image is the compiled image of the loaded network.
func (b *Backend) Image() *image.Image { return b.img }

// Probe implements apu.Backend: the network compiles, and the memory is
// the chip's run-time state (engine.RAM) plus the image.
func (b *Backend) Probe(net *models.Network) (apu.Probe, error) {
	if net == nil {
		return apu.Probe{}, errors.New("fixed backend: probe: no network")
	}
	_, rep, err := compile.Compile(net)
	if err != nil {
		return apu.Probe{}, fmt.Errorf("fixed backend: %w", err)
	}
	return apu.Probe{Backend: Name, Models: compile.Supported, Memory: rep.RAM + rep.ImageBytes}, nil
}

// Load implements apu.Backend.
func (b *Backend) Load(net *models.Network) error {
	if b.eng != nil {
		return errors.New("fixed backend: Load called twice")
	}
	img, rep, err := compile.Compile(net)
	if err != nil {
		return fmt.Errorf("fixed backend: %w", err)
	}
	eng, err := engine.New(img)
	if err != nil {
		return fmt.Errorf("fixed backend: the engine refuses the compiled image: %w", err)
	}
	b.net, b.img, b.rep, b.eng, b.host = net, img, rep, eng, &rep.Host
	b.byName = map[string]int{}
	for i, p := range b.host.Pops {
		b.byName[p.Name] = i
	}
	b.byMon = make([][]monRef, len(img.Monitors))
	for i, t := range b.host.Traces {
		neurons := t.Neurons
		if neurons == nil {
			neurons = make([]int, b.host.Pops[t.Pop].Size)
			for j := range neurons {
				neurons[j] = j
			}
		}
		b.rec.Traces = append(b.rec.Traces, apu.Trace{Monitor: t.Monitor, Pop: t.Pop, Synapse: -1, State: t.State, Neurons: neurons})
		b.traces = append(b.traces, traceRT{st: t, need: len(t.Cols), sum: make([]int64, len(neurons))})
		m := img.Monitors[t.ImageMonitor]
		for _, c := range t.Cols {
			b.byMon[t.ImageMonitor] = append(b.byMon[t.ImageMonitor], monRef{trace: i, state: m.States[c]})
		}
	}
	return b.collect()
}

// collect moves what the engine recorded into the record, converted.
func (b *Backend) collect() error {
	b.spikes = b.eng.DrainSpikes(b.spikes[:0])
	for _, s := range b.spikes {
		b.rec.Spikes = append(b.rec.Spikes, apu.Spike{Pop: int32(b.host.FileIndex[s.Pop]), Neuron: int32(s.Unit), Stamp: s.Stamp})
	}
	b.rows, b.vals = b.eng.DrainRows(b.rows[:0], b.vals[:0])
	off := 0
	for _, r := range b.rows {
		v := b.vals[off : off+int(r.N)]
		off += int(r.N)
		for _, ref := range b.byMon[r.Monitor] {
			if ref.state != r.State {
				continue
			}
			t := &b.traces[ref.trace]
			if t.got == 0 {
				for i, x := range v {
					t.sum[i] = int64(x)
				}
			} else {
				for i, x := range v {
					t.sum[i] += int64(x)
				}
			}
			t.got++
			if t.got < t.need {
				continue
			}
			t.got = 0
			tr := &b.rec.Traces[ref.trace]
			tr.Stamps = append(tr.Stamps, r.Stamp)
			for _, s := range t.sum {
				tr.Values = append(tr.Values, t.st.Scale*float64(s)+t.st.Offset)
			}
		}
	}
	if d := b.eng.Dropped(); d != 0 {
		// Draining after every step leaves room for a step's worst case;
		// a drop is the engine's or this backend's bug.
		return fmt.Errorf("fixed backend: %d records dropped by the engine", d)
	}
	return nil
}

// Advance implements apu.Backend. The fixed-point engine cannot diverge
// (a result that leaves int32 saturates and is counted), so it fails
// only on the backend's own bug.
func (b *Backend) Advance(n int) error { return b.Run(n, nil) }

// Run implements apu.Backend. Every input is checked (its population, its
// length, each value finite and inside Q16.16) before any step runs.
func (b *Backend) Run(n int, feeds []apu.Feed) error {
	if b.eng == nil {
		return errors.New("fixed backend: Run before Load")
	}
	b.feeds = b.feeds[:0]
	for _, f := range feeds {
		pi, ok := b.byName[f.Pop]
		if !ok || !b.host.Pops[pi].Feed {
			return fmt.Errorf("fixed backend: run: %q is not an InputTransmitter population", f.Pop)
		}
		size := b.host.Pops[pi].Size
		if len(f.Values) != n*size {
			return fmt.Errorf("fixed backend: run: input %q has %d values for %d steps of %d units, want %d", f.Pop, len(f.Values), n, size, n*size)
		}
		for i, x := range f.Values {
			if _, ok := compile.Q16(x); !ok {
				return fmt.Errorf("fixed backend: run: input %q: step %d, unit %d: %g is not a finite number inside Q16.16 (|x| < 32768)", f.Pop, i/size, i%size, x)
			}
		}
		b.feeds = append(b.feeds, pi)
	}
	for s := 0; s < n; s++ {
		for i, f := range feeds {
			p := &b.host.Pops[b.feeds[i]]
			in := b.grow(&b.in, p.Size)
			for u, x := range f.Values[s*p.Size : (s+1)*p.Size] {
				in[u], _ = compile.Q16(x)
			}
			if err := b.eng.SetInput(p.Image, in); err != nil {
				return fmt.Errorf("fixed backend: set input %q: %w", f.Pop, err)
			}
		}
		b.eng.Step()
		if err := b.collect(); err != nil {
			return err
		}
	}
	return nil
}

// grow returns (*buf)[:n], allocating only when its capacity is short.
func (b *Backend) grow(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// Set implements apu.Backend: values are checked as the cpu backend
// checks them, converted and given to the engine.
func (b *Backend) Set(pop string, s apu.Setting, values []float64) error {
	if b.eng == nil {
		return errors.New("fixed backend: Set before Load")
	}
	pi, ok := b.byName[pop]
	if !ok {
		return fmt.Errorf("fixed backend: set %s: population %q is not in the running network", s, pop)
	}
	p := &b.host.Pops[pi]
	var want image.Kind
	switch s {
	case apu.DCAmplitude:
		want = image.KindDC
	case apu.PoissonRate:
		want = image.KindPoisson
	case apu.BernoulliProb:
		want = image.KindBernoulli
	case apu.CustomRows:
		want = image.KindCustom
	default:
		return fmt.Errorf("fixed backend: set: population %q: setting %d is not a generator setting", pop, s)
	}
	if p.Kind != want {
		return fmt.Errorf("fixed backend: set %s: population %q is not a %s", s, pop, image.KindName(want))
	}
	if err := b.set(p, s, values); err != nil {
		return fmt.Errorf("fixed backend: set %s: population %q: %w", s, pop, err)
	}
	return nil
}

func (b *Backend) set(p *compile.HostPop, s apu.Setting, values []float64) error {
	if s == apu.CustomRows {
		if len(values)%p.Size != 0 {
			return fmt.Errorf("%d values are not whole rows of %d units", len(values), p.Size)
		}
		q := b.grow(&b.q, len(values))
		for i, x := range values {
			v, ok := compile.Q16(x)
			if !ok || x < 0 {
				return fmt.Errorf("row %d, column %d: values must be finite, >= 0 and < 32768, got %g", i/p.Size, i%p.Size, x)
			}
			q[i] = v
		}
		return b.eng.SetRows(p.Image, p.Size, q)
	}
	if len(values) != 1 && len(values) != p.Size {
		return fmt.Errorf("got %d values, want 1 or %d", len(values), p.Size)
	}
	q := b.grow(&b.q, len(values))
	switch s {
	case apu.DCAmplitude:
		for i, x := range values {
			v, ok := compile.Q16(x)
			if !ok {
				return fmt.Errorf("amplitude: value %d: must be finite and inside Q16.16 (|x| < 32768 pA), got %g", i, x)
			}
			q[i] = v
		}
		return b.eng.SetUnit(p.Image, image.DCAmp, q)
	case apu.PoissonRate:
		lim := compile.MaxLambda * 1000 / b.net.Dt
		q2 := b.grow(&b.q2, len(values))
		for i, x := range values {
			if !(x >= 0 && x <= lim) {
				return fmt.Errorf("rate: value %d: must be >= 0 and <= %g Hz (rate*dt/1000 <= %d on the APU), got %g", i, lim, compile.MaxLambda, x)
			}
			lam := x * b.net.Dt / 1000
			q[i], _ = compile.Q16(lam)
			q2[i] = compile.Q130(math.Exp(-lam))
		}
		if err := b.eng.SetUnit(p.Image, image.PoissonLambda, q); err != nil {
			return err
		}
		return b.eng.SetUnit(p.Image, image.PoissonExpNeg, q2)
	case apu.BernoulliProb:
		for i, x := range values {
			if !(x >= 0 && x <= 1) {
				return fmt.Errorf("prob: value %d: must be in [0, 1], got %g", i, x)
			}
			q[i] = compile.Q130(x)
		}
		return b.eng.SetUnit(p.Image, image.BernoulliProb, q)
	}
	return nil
}

// State implements apu.Backend.
func (b *Backend) State(pop, state string, units []int, dst []float64) ([]float64, error) {
	dst = dst[:0]
	if b.eng == nil {
		return dst, errors.New("fixed backend: State before Load")
	}
	pi, ok := b.byName[pop]
	if !ok {
		return dst, fmt.Errorf("fixed backend: state: population %q is not in the running network", pop)
	}
	p := &b.host.Pops[pi]
	hs, ok := p.State(state)
	if !ok {
		return dst, fmt.Errorf("fixed backend: state: population %q has no state %q on the APU", pop, state)
	}
	for _, u := range units {
		if u < 0 || u >= p.Size {
			return dst, fmt.Errorf("fixed backend: state: population %q: unit %d out of range [0, %d)", pop, u, p.Size)
		}
		var sum int64
		for _, idx := range hs.Index {
			sum += int64(b.eng.State(p.Image, int(idx))[u])
		}
		dst = append(dst, hs.Scale*float64(sum)+hs.Offset)
	}
	return dst, nil
}

// Saturations is how many results of population pop saturated since the
// load or the last Reset (firmware/engine's doc).
func (b *Backend) Saturations(pop string) (uint64, error) {
	pi, ok := b.byName[pop]
	if !ok || b.eng == nil {
		return 0, fmt.Errorf("fixed backend: saturations: population %q is not in the running network", pop)
	}
	return b.eng.Saturations(b.host.Pops[pi].Image), nil
}

// Now implements apu.Backend.
func (b *Backend) Now() int64 {
	if b.eng == nil {
		return 0
	}
	return b.eng.Now()
}

// Drain implements apu.Backend.
func (b *Backend) Drain(dst *apu.Record) {
	dst.Reset()
	if len(dst.Traces) != len(b.rec.Traces) {
		dst.Traces = make([]apu.Trace, len(b.rec.Traces))
		for i, t := range b.rec.Traces {
			dst.Traces[i] = apu.Trace{Monitor: t.Monitor, Pop: t.Pop, Synapse: t.Synapse, State: t.State, Neurons: t.Neurons}
		}
	}
	b.rec, *dst = *dst, b.rec
}

// Reset implements apu.Backend: the engine goes back to step 0 with the
// image's settings; undrained records are dropped and the monitors'
// initial rows recorded again.
func (b *Backend) Reset() error {
	if b.eng == nil {
		return errors.New("fixed backend: Reset before Load")
	}
	b.eng.Reset()
	b.rec.Reset()
	for i := range b.traces {
		b.traces[i].got = 0
	}
	return b.collect()
}

// Close implements apu.Backend.
func (b *Backend) Close() error { return nil }
