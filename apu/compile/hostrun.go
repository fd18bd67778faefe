package compile

import (
	"fmt"
	"math"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/image"
)

// Conv is the host side of a loaded APU network, shared by every
// backend that runs an image (apu/fixed in-process, apu/remote on a
// chip): it finds populations by name, checks the values a caller gives
// and converts them to the chip's formats (inputs and settings), and
// converts the chip's states back to the model's units. The backends
// differ only in how the converted values reach the engine, so that
// they agree bit for bit.
//
// Its methods reuse Conv's scratch slices: a converted slice is valid
// until the next call. Errors name the population, setting, unit and
// value; the caller prefixes its own name.
type Conv struct {
	host   *Host
	dt     float64
	byName map[string]int
	q, q2  []int32
}

// NewConv returns the conversions of a network compiled with host
// tables h and step dt (ms).
func NewConv(h *Host, dt float64) *Conv {
	c := &Conv{host: h, dt: dt, byName: make(map[string]int, len(h.Pops))}
	for i, p := range h.Pops {
		c.byName[p.Name] = i
	}
	return c
}

// Host is the host tables the conversions use.
func (c *Conv) Host() *Host { return c.host }

// Pop finds a population by name.
func (c *Conv) Pop(name string) (*HostPop, bool) {
	i, ok := c.byName[name]
	if !ok {
		return nil, false
	}
	return &c.host.Pops[i], true
}

// CheckFeed checks one feed of a Run of n steps: its population is an
// InputTransmitter, it has n·size values, each finite and inside
// Q16.16. It returns the population.
func (c *Conv) CheckFeed(n int, f apu.Feed) (*HostPop, error) {
	p, ok := c.Pop(f.Pop)
	if !ok || !p.Feed {
		return nil, fmt.Errorf("run: feed population: must be an InputTransmitter population, got %q", f.Pop)
	}
	if len(f.Values) != n*p.Size {
		return nil, fmt.Errorf("run: input %q: values: must be %d (%d steps of %d units), got %d", f.Pop, n*p.Size, n, p.Size, len(f.Values))
	}
	for i, x := range f.Values {
		if _, ok := Q16(x); !ok {
			return nil, fmt.Errorf("run: input %q: step %d, unit %d: must be a finite number inside Q16.16 (|x| < 32768), got %g", f.Pop, i/p.Size, i%p.Size, x)
		}
	}
	return p, nil
}

// Inputs appends the Q16.16 values of checked inputs (CheckFeed) to dst.
func Inputs(dst []int32, values []float64) []int32 {
	for _, x := range values {
		v, _ := Q16(x)
		dst = append(dst, v)
	}
	return dst
}

// Setting is a generator setting converted to the chip's rows: either
// Unit rows (Rows[i] of population Pop's image rows, Values[i] one value
// or one per unit) or, for CustomRows, a table of rows of Pop.Size
// values in Values[0].
type Setting struct {
	Pop    *HostPop
	Custom bool
	N      int // unit rows set (1 or 2); 1 for a table
	Rows   [2]int
	Values [2][]int32
}

// Setting checks a Backend.Set call as the cpu backend checks it and
// converts its values (valid until the next call).
func (c *Conv) Setting(pop string, s apu.Setting, values []float64) (Setting, error) {
	p, ok := c.Pop(pop)
	if !ok {
		return Setting{}, fmt.Errorf("set %s: population %q is not in the running network", s, pop)
	}
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
		return Setting{}, fmt.Errorf("set: population %q: setting: must be a generator setting, got %d", pop, s)
	}
	if p.Kind != want {
		return Setting{}, fmt.Errorf("set %s: population: must be a %s, got %q", s, image.KindName(want), pop)
	}
	st, err := c.setting(p, s, values)
	if err != nil {
		return Setting{}, fmt.Errorf("set %s: population %q: %w", s, pop, err)
	}
	return st, nil
}

func (c *Conv) setting(p *HostPop, s apu.Setting, values []float64) (Setting, error) {
	st := Setting{Pop: p, N: 1}
	if s == apu.CustomRows {
		if len(values)%p.Size != 0 {
			return st, fmt.Errorf("%d values are not whole rows of %d units", len(values), p.Size)
		}
		q := c.q[:0]
		for i, x := range values {
			v, ok := Q16(x)
			if !ok || x < 0 {
				return st, fmt.Errorf("row %d, column %d: values must be finite, >= 0 and < 32768, got %g", i/p.Size, i%p.Size, x)
			}
			q = append(q, v)
		}
		c.q = q
		st.Custom, st.Values[0] = true, q
		return st, nil
	}
	if len(values) != 1 && len(values) != p.Size {
		return st, fmt.Errorf("values: must be 1 or %d (one per unit), got %d", p.Size, len(values))
	}
	q := c.q[:0]
	switch s {
	case apu.DCAmplitude:
		for i, x := range values {
			v, ok := Q16(x)
			if !ok {
				return st, fmt.Errorf("amplitude: value %d: must be finite and inside Q16.16 (|x| < 32768 pA), got %g", i, x)
			}
			q = append(q, v)
		}
		st.Rows[0] = image.DCAmp
	case apu.PoissonRate:
		lim := MaxLambda * 1000 / c.dt
		q2 := c.q2[:0]
		for i, x := range values {
			if !(x >= 0 && x <= lim) {
				return st, fmt.Errorf("rate: value %d: must be >= 0 and <= %g Hz (rate*dt/1000 <= %d on the APU), got %g", i, lim, MaxLambda, x)
			}
			lam := x * c.dt / 1000
			v, _ := Q16(lam)
			q = append(q, v)
			q2 = append(q2, Q130(math.Exp(-lam)))
		}
		c.q2 = q2
		st.N, st.Rows, st.Values[1] = 2, [2]int{image.PoissonLambda, image.PoissonExpNeg}, q2
	case apu.BernoulliProb:
		for i, x := range values {
			if !(x >= 0 && x <= 1) {
				return st, fmt.Errorf("prob: value %d: must be in [0, 1], got %g", i, x)
			}
			q = append(q, Q130(x))
		}
		st.Rows[0] = image.BernoulliProb
	}
	c.q = q
	st.Values[0] = q
	return st, nil
}

// State checks a Backend.State call: the population, its state and the
// units.
func (c *Conv) State(pop, state string, units []int) (*HostPop, HostState, error) {
	p, ok := c.Pop(pop)
	if !ok {
		return nil, HostState{}, fmt.Errorf("state: population %q is not in the running network", pop)
	}
	hs, ok := p.State(state)
	if !ok {
		return nil, HostState{}, fmt.Errorf("state: population %q has no state %q on the APU", pop, state)
	}
	for _, u := range units {
		if u < 0 || u >= p.Size {
			return nil, HostState{}, fmt.Errorf("state: population %q: unit: must be in [0, %d), got %d", pop, p.Size, u)
		}
	}
	return p, hs, nil
}

// Value is the model's value of a unit whose chip states (Index) sum to
// sum.
func (s *HostState) Value(sum int64) float64 { return s.Scale*float64(sum) + s.Offset }

// Records assembles an apu.Record from what the chip recorded: spikes
// (image population, unit, stamp) and monitor rows (image monitor,
// chip state, stamp, Q16.16 values). A trace that sums several chip
// states (ExpLIF's I_syn) takes a stamp's rows of all of them, one
// after the other, before it has the row.
type Records struct {
	host   *Host
	rec    apu.Record
	traces []traceRT  // by index in rec.Traces
	byMon  [][]monRef // image monitor -> the traces its rows feed
}

type traceRT struct {
	st   HostTrace
	need int
	got  int
	sum  []int64
}

type monRef struct {
	trace int
	state uint8
}

// NewRecords returns an empty record for img compiled with host tables
// h.
func NewRecords(h *Host, img *image.Image) *Records {
	r := &Records{host: h, byMon: make([][]monRef, len(img.Monitors))}
	for i, t := range h.Traces {
		neurons := t.Neurons
		if neurons == nil {
			neurons = make([]int, h.Pops[t.Pop].Size)
			for j := range neurons {
				neurons[j] = j
			}
		}
		r.rec.Traces = append(r.rec.Traces, apu.Trace{Monitor: t.Monitor, Pop: t.Pop, Synapse: -1, State: t.State, Neurons: neurons})
		r.traces = append(r.traces, traceRT{st: t, need: len(t.Cols), sum: make([]int64, len(neurons))})
		m := img.Monitors[t.ImageMonitor]
		for _, c := range t.Cols {
			r.byMon[t.ImageMonitor] = append(r.byMon[t.ImageMonitor], monRef{trace: i, state: m.States[c]})
		}
	}
	return r
}

// Spike records a spike of image population pop.
func (r *Records) Spike(pop int, unit uint32, stamp int64) {
	r.rec.Spikes = append(r.rec.Spikes, apu.Spike{Pop: int32(r.host.FileIndex[pop]), Neuron: int32(unit), Stamp: stamp})
}

// Row records a row of image monitor mon's chip state st.
func (r *Records) Row(mon int, st uint8, stamp int64, v []int32) {
	for _, ref := range r.byMon[mon] {
		if ref.state != st {
			continue
		}
		t := &r.traces[ref.trace]
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
		tr := &r.rec.Traces[ref.trace]
		tr.Stamps = append(tr.Stamps, stamp)
		for _, s := range t.sum {
			tr.Values = append(tr.Values, t.st.Scale*float64(s)+t.st.Offset)
		}
	}
}

// Drain implements apu.Backend's Drain.
func (r *Records) Drain(dst *apu.Record) {
	dst.Reset()
	if len(dst.Traces) != len(r.rec.Traces) {
		dst.Traces = make([]apu.Trace, len(r.rec.Traces))
		for i, t := range r.rec.Traces {
			dst.Traces[i] = apu.Trace{Monitor: t.Monitor, Pop: t.Pop, Synapse: t.Synapse, State: t.State, Neurons: t.Neurons}
		}
	}
	r.rec, *dst = *dst, r.rec
}

// Reset drops what was recorded and not drained, and any partial row.
func (r *Records) Reset() {
	r.rec.Reset()
	for i := range r.traces {
		r.traces[i].got = 0
	}
}
