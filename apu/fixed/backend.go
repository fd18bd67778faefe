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
	conv *compile.Conv
	rec  *compile.Records

	// Scratch, grown once.
	spikes []engine.Spike
	rows   []engine.Row
	vals   []int32
	in     []int32
	feeds  []*compile.HostPop // population per feed of a Run

	threadsNote string
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
	b.net, b.img, b.rep, b.eng = net, img, rep, eng
	b.conv = compile.NewConv(&rep.Host, net.Dt)
	b.rec = compile.NewRecords(&rep.Host, img)
	return b.collect()
}

// collect moves what the engine recorded into the record, converted.
func (b *Backend) collect() error {
	b.spikes = b.eng.DrainSpikes(b.spikes[:0])
	for _, s := range b.spikes {
		b.rec.Spike(int(s.Pop), s.Unit, s.Stamp)
	}
	b.rows, b.vals = b.eng.DrainRows(b.rows[:0], b.vals[:0])
	off := 0
	for _, r := range b.rows {
		v := b.vals[off : off+int(r.N)]
		off += int(r.N)
		b.rec.Row(int(r.Monitor), r.State, r.Stamp, v)
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
		p, err := b.conv.CheckFeed(n, f)
		if err != nil {
			return fmt.Errorf("fixed backend: %w", err)
		}
		b.feeds = append(b.feeds, p)
	}
	for s := 0; s < n; s++ {
		for i, f := range feeds {
			p := b.feeds[i]
			b.in = compile.Inputs(b.in[:0], f.Values[s*p.Size:(s+1)*p.Size])
			if err := b.eng.SetInput(p.Image, b.in); err != nil {
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

// Set implements apu.Backend: values are checked as the cpu backend
// checks them, converted and given to the engine.
func (b *Backend) Set(pop string, s apu.Setting, values []float64) error {
	if b.eng == nil {
		return errors.New("fixed backend: Set before Load")
	}
	st, err := b.conv.Setting(pop, s, values)
	if err != nil {
		return fmt.Errorf("fixed backend: %w", err)
	}
	if st.Custom {
		err = b.eng.SetRows(st.Pop.Image, st.Pop.Size, st.Values[0])
	} else {
		for i := 0; i < st.N && err == nil; i++ {
			err = b.eng.SetUnit(st.Pop.Image, st.Rows[i], st.Values[i])
		}
	}
	if err != nil {
		return fmt.Errorf("fixed backend: set %s: population %q: %w", s, pop, err)
	}
	return nil
}

// State implements apu.Backend.
func (b *Backend) State(pop, state string, units []int, dst []float64) ([]float64, error) {
	dst = dst[:0]
	if b.eng == nil {
		return dst, errors.New("fixed backend: State before Load")
	}
	p, hs, err := b.conv.State(pop, state, units)
	if err != nil {
		return dst, fmt.Errorf("fixed backend: %w", err)
	}
	for _, u := range units {
		var sum int64
		for _, idx := range hs.Index {
			sum += int64(b.eng.State(p.Image, int(idx))[u])
		}
		dst = append(dst, hs.Value(sum))
	}
	return dst, nil
}

// Saturations is how many results of population pop saturated since the
// load or the last Reset (firmware/engine's doc).
func (b *Backend) Saturations(pop string) (uint64, error) {
	if b.eng != nil {
		if p, ok := b.conv.Pop(pop); ok {
			return b.eng.Saturations(p.Image), nil
		}
	}
	return 0, fmt.Errorf("fixed backend: saturations: population %q is not in the running network", pop)
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
	if b.rec == nil {
		dst.Reset()
		return
	}
	b.rec.Drain(dst)
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
	return b.collect()
}

// Close implements apu.Backend.
func (b *Backend) Close() error { return nil }
