package daemon

import (
	"fmt"

	"github.com/spikeloop/spikeloop/io/telemetry"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/models"
)

// This file is the daemon's side of the one door to the running network
// (apu.Backend): the encoders write into a tick's input buffer and into
// generator settings that go through the backend, never into the model
// objects of the network, which a backend on another chip never sees.

// defaultBackend is the backend a config without `backend:` runs on.
const defaultBackend = "cpu"

// tickFeeds collects the InputTransmitter values the encoders give in
// the steps of one tick, so that the tick reaches the backend in one
// Run. It implements sensor.InputSetter.
type tickFeeds struct {
	steps int // rows per feed
	row   int // the step the encoders are giving values for
	feeds []apu.Feed
	sizes []int
}

var _ sensor.InputSetter = (*tickFeeds)(nil)

// newTickFeeds returns the buffer for ticks of steps network steps.
func newTickFeeds(steps int) *tickFeeds { return &tickFeeds{steps: steps} }

// begin starts a tick: every row is zero (a step an encoder gives no
// values for gets zeros, as apu.Backend.Run says).
func (t *tickFeeds) begin() {
	t.row = 0
	for i := range t.feeds {
		clear(t.feeds[i].Values)
	}
}

// SetInput implements sensor.InputSetter: values for step t.row.
func (t *tickFeeds) SetInput(pop string, values []float64) error {
	i := 0
	for i < len(t.feeds) && t.feeds[i].Pop != pop {
		i++
	}
	if i == len(t.feeds) {
		// The first value for pop: its buffer, kept from then on.
		t.feeds = append(t.feeds, apu.Feed{Pop: pop, Values: make([]float64, t.steps*len(values))})
		t.sizes = append(t.sizes, len(values))
	}
	if n := t.sizes[i]; len(values) != n {
		return fmt.Errorf("set input %q: values: must be %d (one per unit), got %d", pop, n, len(values))
	}
	n := t.sizes[i]
	copy(t.feeds[i].Values[t.row*n:(t.row+1)*n], values)
	return nil
}

// run runs the tick's steps on b with the values collected.
func (t *tickFeeds) run(b apu.Backend) error { return b.Run(t.steps, t.feeds) }

// dcSetter is a DC encoder's generator: the amplitude goes through the
// backend (sensor.AmplitudeSetter).
type dcSetter struct {
	b   apu.Backend
	pop string
}

var _ sensor.AmplitudeSetter = dcSetter{}

func (s dcSetter) SetAmplitude(a []float64) error { return s.b.Set(s.pop, apu.DCAmplitude, a) }

// customSetter is a Custom encoder's generator (sensor.DataSetter): the
// rows, from the next step on, go through the backend as one setting.
type customSetter struct {
	b    apu.Backend
	pop  string
	flat []float64
}

var _ sensor.DataSetter = (*customSetter)(nil)

// SetData implements sensor.DataSetter. k0 is the backend's Now (the
// Custom encoder gives it), which is where CustomRows starts.
func (s *customSetter) SetData(rows [][]float64, _ int64) error {
	s.flat = s.flat[:0]
	for _, r := range rows {
		s.flat = append(s.flat, r...)
	}
	return s.b.Set(s.pop, apu.CustomRows, s.flat)
}

var (
	_ sensor.InputSetter     = (*tickFeeds)(nil)
	_ sensor.AmplitudeSetter = dcSetter{}
	_ sensor.DataSetter      = (*customSetter)(nil)
)

// threader is a backend that runs a step on threads (the cpu engine):
// the daemon logs how many, and why fewer than asked.
type threader interface {
	Threads() int
	ThreadsNote() string
}

// openBackend opens backend name with the config's threads and, for a
// backend on a chip, its link.
func openBackend(c *Config, name string, link *apu.Link) (apu.Backend, error) {
	return apu.Open(name, apu.Options{Threads: c.Realtime.Threads, CPUs: c.Realtime.workerCPUs(), Link: link})
}

// backendFor is the backend a run of c with opts uses: Options.Backend,
// else the config's.
func backendFor(c *Config, opts Options) string {
	if opts.Backend != "" {
		return opts.Backend
	}
	return c.backendName()
}

// backendName is the config's backend, or the default.
func (c *Config) backendName() string {
	if c.Backend.Kind == "" {
		return defaultBackend
	}
	return c.Backend.Kind
}

// probe asks backend name about net (memory, models it runs) without
// loading it.
func probe(name string, net *models.Network) (apu.Probe, error) {
	b, err := apu.Open(offlineBackend(name), apu.Options{})
	if err != nil {
		return apu.Probe{}, err
	}
	p, err := b.Probe(net)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if name != offlineBackend(name) {
		p.Backend = name
	}
	return p, err
}

// setGenerator applies a generator setting (docs/models/generators.md) to the
// running network through its backend: live from a command, and in a
// replay from the recording.
func setGenerator(b apu.Backend, kind telemetry.Kind, pop string, values []float64) error {
	var s apu.Setting
	switch kind {
	case telemetry.KindDCAmplitude:
		s = apu.DCAmplitude
	case telemetry.KindPoissonRate:
		s = apu.PoissonRate
	case telemetry.KindBernoulliProb:
		s = apu.BernoulliProb
	default:
		return fmt.Errorf("kind: must be a generator setting (%s, %s or %s), got %q", telemetry.KindDCAmplitude, telemetry.KindPoissonRate, telemetry.KindBernoulliProb, kind)
	}
	return b.Set(pop, s, values)
}
