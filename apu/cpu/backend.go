package cpu

import (
	"errors"
	"fmt"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Name is the name the CPU engine is registered under (apu.Register).
const Name = "cpu"

// Open is the engine's apu.Opener: a new engine with opt's threads.
func Open(opt apu.Options) (apu.Backend, error) {
	return New(WithThreads(opt.Threads, opt.CPUs)), nil
}

// door is the engine's state for the apu.Backend calls that reach the
// network's generators: the CustomGenerators' rows, double-buffered so
// that a refused Set leaves the rows the generator holds intact.
type door struct {
	custom   map[string]*customRows
	feedPops []*popRT // Run's scratch
}

type customRows struct {
	buf  [2][]float64
	rows [2][][]float64
	cur  int
}

// Probe implements apu.Backend: the engine runs every model of the
// models registry at any size memory allows.
func (e *Engine) Probe(net *models.Network) (apu.Probe, error) {
	if net == nil {
		return apu.Probe{}, errors.New("cpu engine: probe: no network")
	}
	for _, ps := range net.Populations {
		switch ps.Model.(type) {
		case models.NeuronModel, models.Generator:
		default:
			return apu.Probe{}, fmt.Errorf("cpu engine: population %q: %T is neither a neuron nor a generator model: %w", ps.Name, ps.Model, apu.ErrUnsupported)
		}
	}
	return apu.Probe{Backend: Name, Memory: estimateMemory(net)}, nil
}

// Run implements apu.Backend.
func (e *Engine) Run(n int, feeds []apu.Feed) error {
	if len(feeds) == 0 {
		return e.Advance(n)
	}
	if e.err != nil {
		return e.err
	}
	if e.net == nil {
		return errors.New("cpu engine: Run before Load")
	}
	// The feeds' populations, looked up once per Run (a scratch kept
	// by the engine: no allocation once it has grown).
	pops := e.door.feedPops[:0]
	for _, f := range feeds {
		p, ok := e.byName[f.Pop]
		if !ok || p.input == nil {
			return fmt.Errorf("cpu engine: run: feed population: must be an InputTransmitter population, got %q", f.Pop)
		}
		if len(f.Values) != n*p.spec.Size {
			return fmt.Errorf("cpu engine: run: input %q: values: must be %d (%d steps of %d units), got %d", f.Pop, n*p.spec.Size, n, p.spec.Size, len(f.Values))
		}
		pops = append(pops, p)
	}
	e.door.feedPops = pops
	for s := 0; s < n; s++ {
		for i, f := range feeds {
			size := pops[i].spec.Size
			if err := pops[i].input.SetNext(f.Values[s*size : (s+1)*size]); err != nil {
				return fmt.Errorf("cpu engine: set input %q: %w", f.Pop, err)
			}
		}
		if err := e.Advance(1); err != nil {
			return err
		}
	}
	return nil
}

// Set implements apu.Backend.
func (e *Engine) Set(pop string, s apu.Setting, values []float64) error {
	p, ok := e.byName[pop]
	if !ok {
		return fmt.Errorf("cpu engine: set %s: population %q is not in the running network", s, pop)
	}
	var err error
	switch s {
	case apu.DCAmplitude:
		g, ok := p.gen.(*models.DCGenerator)
		if !ok {
			return fmt.Errorf("cpu engine: set %s: population: must be a DCGenerator, got %q", s, pop)
		}
		err = g.SetAmplitude(values)
	case apu.PoissonRate:
		g, ok := p.gen.(*models.PoissonGenerator)
		if !ok {
			return fmt.Errorf("cpu engine: set %s: population: must be a PoissonGenerator, got %q", s, pop)
		}
		err = g.SetRate(values)
	case apu.BernoulliProb:
		g, ok := p.gen.(*models.BernoulliGenerator)
		if !ok {
			return fmt.Errorf("cpu engine: set %s: population: must be a BernoulliGenerator, got %q", s, pop)
		}
		err = g.SetProb(values)
	case apu.CustomRows:
		g, ok := p.gen.(*models.CustomGenerator)
		if !ok {
			return fmt.Errorf("cpu engine: set %s: population: must be a CustomGenerator, got %q", s, pop)
		}
		err = e.setCustom(g, p.spec, values)
	default:
		return fmt.Errorf("cpu engine: set: population %q: setting: must be a generator setting, got %d", pop, s)
	}
	if err != nil {
		return fmt.Errorf("cpu engine: set %s: population %q: %w", s, pop, err)
	}
	return nil
}

// setCustom copies values into the buffer the generator does not hold
// and hands it over as rows from the next step on.
func (e *Engine) setCustom(g *models.CustomGenerator, ps *models.PopulationSpec, values []float64) error {
	size := ps.Size
	if len(values)%size != 0 {
		return fmt.Errorf("%d values are not whole rows of %d units", len(values), size)
	}
	if e.door.custom == nil {
		e.door.custom = map[string]*customRows{}
	}
	c := e.door.custom[ps.Name]
	if c == nil {
		c = &customRows{}
		e.door.custom[ps.Name] = c
	}
	next := 1 - c.cur
	buf := append(c.buf[next][:0], values...)
	rows := c.rows[next][:0]
	for r := 0; r < len(buf); r += size {
		rows = append(rows, buf[r:r+size])
	}
	c.buf[next], c.rows[next] = buf, rows
	if err := g.SetData(rows, e.now); err != nil {
		return err
	}
	c.cur = next
	return nil
}

// State implements apu.Backend.
func (e *Engine) State(pop, state string, units []int, dst []float64) ([]float64, error) {
	dst = dst[:0]
	p, ok := e.byName[pop]
	if !ok {
		return dst, fmt.Errorf("cpu engine: state: population %q is not in the running network", pop)
	}
	v := p.model.State(state)
	if v == nil {
		return dst, fmt.Errorf("cpu engine: state: population %q has no state %q", pop, state)
	}
	for _, u := range units {
		if u < 0 || u >= len(v) {
			return dst, fmt.Errorf("cpu engine: state: population %q: unit: must be in [0, %d), got %d", pop, len(v), u)
		}
		dst = append(dst, v[u])
	}
	return dst, nil
}

// diverged marks a step's error as the network's (apu.ErrDiverged),
// keeping its message.
type diverged struct{ err error }

func (d diverged) Error() string   { return d.err.Error() }
func (d diverged) Unwrap() []error { return []error{d.err, apu.ErrDiverged} }
