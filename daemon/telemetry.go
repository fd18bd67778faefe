package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// Telemetry has two halves.
//
// The service (telemetryService) is what outlives a reload: the
// embedded broker, the MQTT publisher with its store, the command
// handling and the /metrics endpoint. Serve starts it once, from the
// first config; a reload keeps it (its broker, users, allow-list and
// metrics address change at restart only) so that subscribers stay
// connected.
//
// The sampler lives in the loop: it counts spikes, keeps the interval's
// lateness histogram and, every `every` ticks, fills one Telemetry
// sample in place and pushes it to the service's queue, which never
// blocks and, once warm, allocates nothing. States, spikes and every
// follow the config of the run, so a reload may change them.
//
// Commands travel the other way: the publisher validates each as it
// arrives (io/telemetry.Validator) and submits it to controls, which
// put it in the running loop's queue (telemetry.command_queue long) or
// refuse it at once as busy when the queue is full; the loop applies
// every waiting command, in the order they came, at the start of a tick
// (so between two network steps) and answers each. Nobody waits: the
// publisher sends the replies as the answers come, in arrival order.

// telemetryService is the long-lived half of telemetry.
type telemetryService struct {
	cfg     *TelemetryConfig
	run     string // run id: in the status and every sample; one per service, so per process
	log     zerolog.Logger
	q       *telemetry.Queue
	sq      *telemetry.SpikeQueue // nil: no spikes topic
	broker  *telemetry.Broker     // nil with an external broker
	pub     *telemetry.Publisher
	metrics *telemetry.Metrics
	mln     net.Listener // nil: no /metrics
	ctl     *controls
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

// startTelemetry starts the broker (unless an external one is
// configured), the publisher and the metrics endpoint of cfg.
func startTelemetry(cfg *Config, opts Options, log zerolog.Logger) (s *telemetryService, err error) {
	tc := cfg.Telemetry
	// The run id is drawn here, once: Serve starts the service once per
	// process and keeps it across reloads, and with it the queues whose
	// Push numbers the samples, so seq restarts only with a new run id.
	s = &telemetryService{cfg: tc, run: telemetry.NewRunID(), log: log, ctl: &controls{reload: make(chan struct{}, 1)}}
	// Close what was opened on any error. The return statements set s to
	// nil before this runs, hence the copy: closing the named result
	// would be a nil dereference (a busy port crashed the daemon so).
	built := s
	defer func() {
		if err != nil {
			err = errors.Join(err, built.Close())
		}
	}()
	if s.q, err = telemetry.NewQueue(tc.Queue); err != nil {
		return nil, err
	}
	if len(tc.spikePops) > 0 {
		if s.sq, err = telemetry.NewSpikeQueue(tc.Queue); err != nil {
			return nil, err
		}
	}
	prefix := tc.prefix()
	pc := telemetry.PublisherConfig{
		Board:  tc.Board,
		Prefix: prefix,
		Status: telemetry.Status{
			Run:         s.run,
			Software:    opts.Software,
			ConfigHash:  hexDigest(cfg.data),
			NetworkHash: hexDigest(cfg.netData),
			StartUnixMs: time.Now().UnixMilli(),
		},
		Spikes: s.sq,
		Logger: log,
	}
	if pc.StoreDir, err = tc.storeDir(); err != nil {
		return nil, fmt.Errorf("telemetry.store_dir: no default (%w); set it", err)
	}
	if b := tc.Broker; b != nil {
		pc.Broker, pc.ClientID, pc.Username, pc.Password = b.URL, b.ClientID, b.Username, tc.password
		if b.TLS != nil {
			if pc.TLS, err = telemetry.TLSConfig(cfg.tlsFiles(b.TLS)); err != nil {
				return nil, fmt.Errorf("telemetry.broker.tls: %w", err)
			}
		}
	} else {
		// mochi logs every client at info; its warnings are enough here.
		brokerLog := log.Level(max(zerolog.WarnLevel, log.GetLevel()))
		bc := tc.limits // checked at load
		bc.Listen, bc.AllowNonLoopback = tc.Embedded.Listen, tc.Embedded.AllowNonLoopback
		bc.Prefix, bc.Users = prefix, tc.users
		bc.WebSocketListen = tc.Embedded.WebSocketListen
		bc.Logger = brokerLog
		s.broker, err = telemetry.StartBroker(bc)
		if err != nil {
			return nil, fmt.Errorf("telemetry.embedded: %w (another MQTT broker on that port? set telemetry.embedded.listen, or telemetry.broker to use that one)", err)
		}
		pc.Broker, pc.Username, pc.Password = s.broker.URL(), telemetry.DaemonUser, s.broker.DaemonPassword()
		host, port, _ := net.SplitHostPort(s.broker.Addr())
		log.Info().Str("listen", s.broker.Addr()).Int("users", len(tc.users)).
			Str("watch", "mosquitto_sub -h "+host+" -p "+port+" -t '"+prefix+"telemetry' -F %x").Msg("telemetry: embedded MQTT broker up")
	}
	if len(tc.allowed) > 0 {
		if pc.Validator, err = telemetry.NewValidator(tc.allowed); err != nil {
			return nil, fmt.Errorf("telemetry.commands: %w", err)
		}
		pc.Controls = s.ctl
		// The embedded broker hands commands over in the process: none
		// is lost in its queue towards a client.
		pc.InlineCommands = s.broker != nil
		if s.broker != nil {
			// And the replies go back in the process too, each when
			// every subscriber has room for it.
			pc.Replies = s.broker
		}
	}
	if tc.Metrics.Listen != "" {
		s.metrics = telemetry.NewMetrics(tc.Board)
		pc.Metrics = s.metrics
		if s.mln, err = telemetry.ListenMetrics(tc.Metrics.Listen, tc.Metrics.AllowNonLoopback); err != nil {
			return nil, fmt.Errorf("telemetry.metrics: %w", err)
		}
	}
	if s.pub, err = telemetry.NewPublisher(pc, s.q); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	if pc.InlineCommands {
		if err := s.broker.HandleCommands(s.pub.Command); err != nil {
			return nil, fmt.Errorf("telemetry.embedded: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Go(func() {
		if err := s.pub.Run(ctx); err != nil {
			log.Error().Err(err).Msg("telemetry: publisher stopped")
		}
	})
	if s.mln != nil {
		ln := s.mln
		s.wg.Go(func() {
			if err := telemetry.ServeMetrics(ctx, ln, s.metrics, s.livePage(cfg, ln)); err != nil {
				log.Error().Err(err).Msg("telemetry: metrics endpoint stopped")
			}
		})
		log.Info().Str("listen", ln.Addr().String()).Msg("telemetry: Prometheus /metrics up")
	}
	log.Info().Str("broker", pc.Broker).Str("prefix", prefix).Str("store", pc.StoreDir).Str("run", s.run).
		Int("commands", len(tc.allowed)).Msg("telemetry: publishing")
	return s, nil
}

// BrokerAddr is the embedded broker's host:port ("" with an external
// broker).
func (s *telemetryService) BrokerAddr() string {
	if s.broker == nil {
		return ""
	}
	return s.broker.Addr()
}

// Close stops the publisher (which first hands what is queued to the
// broker or to its store, then publishes "offline"), the metrics
// endpoint and the broker. It is idempotent.
func (s *telemetryService) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.mln != nil && s.cancel == nil {
		s.mln.Close()
	}
	if s.broker != nil {
		return s.broker.Close()
	}
	return nil
}

// controls implements telemetry.Controls for whichever loop is running.
type controls struct {
	mu        sync.Mutex
	d         *Daemon // the running loop; nil between runs
	canReload bool
	reload    chan struct{} // capacity 1; Serve watches it
}

var _ telemetry.Controls = (*controls)(nil)

// allowReload says whether a reload command can be carried out (Serve
// has a config to load).
func (c *controls) allowReload(ok bool) {
	c.mu.Lock()
	c.canReload = ok
	c.mu.Unlock()
}

func (c *controls) attach(d *Daemon) {
	c.mu.Lock()
	c.d = d
	c.mu.Unlock()
}

// detach takes d's loop off the controls once it has stopped, and
// answers the commands still in its queue: not applied.
func (c *controls) detach(d *Daemon) {
	c.mu.Lock()
	if c.d == d {
		c.d = nil
	}
	c.mu.Unlock()
	// Submit sends while holding mu, so nothing is added to d.ctl now.
	for {
		select {
		case r := <-d.ctl:
			r.done(errors.New("the loop stopped before applying it (a reload or the end of the run); nothing was changed"))
		default:
			return
		}
	}
}

// Submit implements telemetry.Controls: it puts act in the running
// loop's queue, or refuses it at once. It never blocks (it runs on the
// publisher's command path, which must keep reading).
func (c *controls) Submit(act telemetry.Action, done func(error)) {
	if act.Kind == telemetry.KindReload {
		done(c.requestReload())
		return
	}
	r := &ctlRequest{kind: act.Kind, pop: act.Target, values: act.Values, done: done}
	c.mu.Lock()
	d := c.d
	queued := false
	if d != nil {
		select {
		case d.ctl <- r:
			queued = true
		default:
		}
	}
	c.mu.Unlock()
	switch {
	case d == nil:
		done(errors.New("the loop is not running (it is starting or reloading); try again"))
	case !queued:
		done(&telemetry.BusyError{Queue: cap(d.ctl)})
	}
}

// requestReload asks Serve to reload the config and the network, as SIGHUP
// does; the outcome is logged (an invalid new config leaves the running
// one untouched).
func (c *controls) requestReload() error {
	c.mu.Lock()
	ok := c.canReload
	c.mu.Unlock()
	if !ok {
		return errors.New("reload is not available: this run has no config file to reload (daemon.Run without Serve)")
	}
	select {
	case c.reload <- struct{}{}:
	default: // one is pending already
	}
	return nil
}

// ctlRequest is one command in the loop's queue. done is the
// publisher's: it takes the outcome without blocking.
type ctlRequest struct {
	kind   telemetry.Kind
	pop    string
	values []float64 // the validator's, not shared
	done   func(error)
}

// maxValuesPerTick bounds the generator values the loop copies for
// commands in one tick: a full queue of per-unit settings of a large
// population (64 of ~7,000 values fit in max_packet_bytes) would
// otherwise cost the tick a millisecond. The first command of a tick is
// applied whatever its size; the others wait for the next tick, in
// order.
const maxValuesPerTick = 1 << 14

// applyControls runs on the loop at the start of a tick: it applies the
// waiting commands, in the order they were queued, and answers each:
// all of them (at most telemetry.command_queue) unless their values
// pass maxValuesPerTick.
func (d *Daemon) applyControls() {
	for budget := maxValuesPerTick; budget > 0; {
		select {
		case r := <-d.ctl:
			budget -= max(1, len(r.values))
			r.done(d.apply(r))
		default:
			return
		}
	}
}

// apply carries out one command on the loop's goroutine. The publisher
// logs the outcome (off the loop).
func (d *Daemon) apply(r *ctlRequest) error {
	switch r.kind {
	case telemetry.KindDCAmplitude, telemetry.KindPoissonRate, telemetry.KindBernoulliProb:
		if err := setGenerator(d.backend, r.kind, r.pop, r.values); err != nil {
			return err
		}
		if d.rcd != nil {
			d.rcd.Command(d.stats.Ticks+d.stats.Skipped, r.kind, r.pop, r.values)
		}
	case telemetry.KindPause:
		if !d.paused {
			d.paused = true
			d.log.Info().Msg("telemetry: paused; outputs at their safe values")
			return d.safe()
		}
	case telemetry.KindResume:
		if d.paused {
			d.paused = false
			d.log.Info().Msg("telemetry: resumed")
		}
	case telemetry.KindReset:
		return d.resetNetwork()
	case telemetry.KindSnapshot:
		if d.smp == nil {
			return errors.New("this run samples no telemetry")
		}
		d.snapshotDue = true
	default:
		return fmt.Errorf("kind %q is not applied by the loop", r.kind)
	}
	return nil
}

// maxBatchSpikes bounds one spikes batch; spikes beyond it in an
// interval are counted (Stats.SpikesDropped), not sent.
const maxBatchSpikes = 100_000

// sampler is the loop's half of telemetry.
type sampler struct {
	plant  [MaxPlantFigures]float64 // the plant's figures, as reported
	q      *telemetry.Queue
	sq     *telemetry.SpikeQueue
	every  int
	n      int   // ticks in the current interval
	steps0 int64 // network step at the interval's start
	dt     float64
	names  []string // population names, by index ("" for current sources)
	sizes  []int
	counts []uint64
	train  []int // population index -> index in batch.Trains, or -1
	spikes int   // spikes in the current batch
	// transfer0 is the link's transfer time at the interval's start.
	transfer0 time.Duration
	states    []stateRef
	late      Histogram
	sample    telemetry.Telemetry
	batch     telemetry.SpikeBatch
}

// spikes tells the populations the sampler counts: every one that emits
// spikes (not a current source).
func spikes(ps *models.PopulationSpec) bool { return ps.IsNeuron() || !ps.IsCurrentSource() }

// telemetryPops are the names of the populations the sampler counts.
func telemetryPops(net *models.Network) []string {
	var pops []string
	for _, ps := range net.Populations {
		if spikes(ps) {
			pops = append(pops, ps.Name)
		}
	}
	return pops
}

func newSampler(d *Daemon, svc *telemetryService) *sampler {
	tc, net := d.cfg.Telemetry, d.cfg.net
	s := &sampler{q: svc.q, sq: svc.sq, every: tc.every, dt: net.Dt, states: tc.statePops}
	t := &s.sample
	t.Rates, t.Counts, t.States = telemetry.Floats{}, telemetry.Counts{}, telemetry.Series{}
	t.Sensors, t.Actuators = telemetry.Floats{}, telemetry.Floats{}
	s.names = make([]string, len(net.Populations))
	s.sizes = make([]int, len(net.Populations))
	s.counts = make([]uint64, len(net.Populations))
	s.train = make([]int, len(net.Populations))
	for i, ps := range net.Populations {
		s.sizes[i], s.train[i] = ps.Size, -1
		if spikes(ps) {
			s.names[i] = ps.Name
			t.Rates[ps.Name], t.Counts[ps.Name] = 0, 0
		}
	}
	for _, st := range s.states {
		t.States[st.key] = make([]float64, 0, len(st.neurons))
	}
	for _, in := range d.inputs {
		t.Sensors[in.Name()] = 0
	}
	for _, o := range d.outputs {
		t.Actuators[o.name] = 0
	}
	if d.plant != nil {
		t.Plant = telemetry.Floats{}
		for _, fig := range d.plant.Figures() {
			t.Plant[fig.Name] = 0
		}
	}
	if s.sq != nil {
		for _, idx := range tc.spikePops {
			s.train[idx] = len(s.batch.Trains)
			s.batch.Trains = append(s.batch.Trains, telemetry.SpikeTrain{Population: net.Populations[idx].Name})
		}
	}
	s.steps0 = d.backend.Now()
	return s
}

// tick takes one tick's figures; ran tells whether the network ran (not
// paused), i.e. whether d.rec holds this tick's spikes.
func (s *sampler) tick(d *Daemon, k int64, late time.Duration, ran bool) {
	s.late.Add(late)
	s.n++
	if ran {
		for _, sp := range d.rec.Spikes {
			s.counts[sp.Pop]++
			if ti := s.train[sp.Pop]; ti >= 0 {
				if s.spikes >= maxBatchSpikes {
					d.stats.SpikesDropped++
					continue
				}
				tr := &s.batch.Trains[ti]
				tr.Neuron = append(tr.Neuron, uint32(sp.Neuron))
				tr.StampMs = append(tr.StampMs, float64(sp.Stamp)*s.dt)
				s.spikes++
			}
		}
	}
	if s.n >= s.every || d.snapshotDue {
		d.snapshotDue = false
		s.emit(d, k)
	}
}

// emit fills the sample in place (same keys every time, so no map
// grows) and pushes it, then the spike batch.
func (s *sampler) emit(d *Daemon, k int64) {
	t := &s.sample
	now := d.backend.Now()
	t.Tick = uint64(k)
	t.TimeMs = float64(now) * s.dt
	secs := float64(now-s.steps0) * s.dt / 1000
	for i, name := range s.names {
		if name == "" {
			continue
		}
		c := s.counts[i]
		t.Counts[name] = c
		r := 0.0
		if secs > 0 {
			r = float64(c) / float64(s.sizes[i]) / secs
		}
		t.Rates[name] = r
		s.counts[i] = 0
	}
	for _, st := range s.states {
		// Checked at load (the state's name, the units in range); an
		// error here would leave the sample's row empty.
		t.States[st.key], _ = d.backend.State(st.pop, st.state, st.neurons, t.States[st.key])
	}
	stale := uint64(0)
	for _, in := range d.inputs {
		t.Sensors[in.Name()] = in.Value()
		if in.Stale() > 0 {
			stale++
		}
	}
	for _, o := range d.outputs {
		t.Actuators[o.name] = o.dec.Value()
	}
	us := func(q float64) float64 { return float64(s.late.Quantile(q)) / float64(time.Microsecond) }
	t.Loop = telemetry.Loop{
		LatenessP50us: us(0.5), LatenessP99us: us(0.99), LatenessP999us: us(0.999),
		Overruns: uint64(d.stats.Overruns), StaleInputs: stale,
	}
	if d.linker != nil || d.stats.LinkFaults > 0 {
		lf := d.linkFigures()
		t.Link = telemetry.Link{
			Frames: lf.FramesIn + lf.FramesOut, Bytes: lf.BytesIn + lf.BytesOut, CRCErrors: lf.CRCErrors,
			Retries: lf.Retries, Timeouts: lf.Timeouts, ChipResets: lf.ChipResets,
			Faults: uint64(lf.Faults), Reloads: uint64(lf.Reloads),
		}
		if s.n > 0 {
			t.Link.TransferUs = float64(lf.Transfer-s.transfer0) / float64(s.n) / float64(time.Microsecond)
		}
		s.transfer0 = lf.Transfer
	}
	if d.plant != nil {
		d.plant.Report(s.plant[:])
		for i, fig := range d.plant.Figures() {
			t.Plant[fig.Name] = s.plant[i]
		}
	}
	s.q.Push(t)
	if s.sq != nil {
		s.sq.Push(&s.batch)
		for i := range s.batch.Trains {
			tr := &s.batch.Trains[i]
			tr.Neuron, tr.StampMs = tr.Neuron[:0], tr.StampMs[:0]
		}
		s.spikes = 0
	}
	s.n, s.steps0 = 0, now
	s.late = Histogram{}
}

// resetNetwork is the reset command: the network goes back to t = 0 as a
// fresh load of the same file with the same seed gives it
// (apu.Backend.Reset: states, generators, delay buffers, plastic weights,
// random streams). Every input's encoder is rebuilt on the new
// populations (a rate encoder's stream restarts from its seed); the
// board, the plant and the telemetry go on. A recording cannot hold a
// reset (its replay would not reproduce it), so a recording run refuses
// it.
func (d *Daemon) resetNetwork() error {
	if d.rcd != nil {
		return errors.New("refused while recording: a replay of the recording could not reproduce a reset; reload instead, or run without --record")
	}
	if err := d.backend.Reset(); err != nil {
		return err
	}
	// The encoders write through the backend; the network's description
	// gives their sizes and seeds.
	net := d.cfg.net
	for i, in := range d.cfg.Inputs {
		enc, err := newEncoder(d.backend, d.feeds, net, d.cfg.steps, in, inputSeed(net, i, in))
		if err != nil {
			return fmt.Errorf("reset: inputs[%d]: %w", i, err)
		}
		d.inputs[i].SetEncoder(enc)
	}
	if d.smp != nil {
		d.smp.steps0 = 0
	}
	d.log.Info().Msg("telemetry: network reset to t = 0")
	return nil
}
