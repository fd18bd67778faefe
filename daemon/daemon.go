// Package daemon is spikeloop's long-running process as a library: it
// loads a Config, opens the board (and, on the emulated one, its plant:
// plants.go), loads the network into its backend (apu.Open by the
// config's backend: name), wires sensors and actuators, and runs the
// real-time tick loop until its context is done or a fault stops it.
// `spikeloop run` is a thin wrapper; tests call Run (or New and
// (*Daemon).Run) directly.
//
// # One tick
//
// At each absolute deadline start + k*tick (never "now + tick", so that
// lateness does not accumulate into drift) the loop
//
//  1. advances a simulated board's plant to the deadline (sim only),
//  2. reads every input once and encodes it (io/sensor),
//  3. advances the network by tick/dt steps, giving the encoders each
//     step's input,
//  4. hands the tick's spikes to the decoders and writes the actuators
//     (io/actuator), or their safe values while an input is stale,
//  5. records the tick's figures (step time, wake-up lateness) and hands
//     a copy to the figures consumer without blocking,
//  6. sleeps until the next deadline.
//
// A tick whose work ends after the next deadline is an overrun: the
// deadlines that passed are skipped and counted (Stats.Skipped), never
// run back to back. A simulated plant still advances by the skipped
// time, as the real world would.
//
// # Stopping
//
// When the context is done Run writes every output's safe value, halts
// the board and returns nil. A fault (a network state that became
// non-finite, a plant fault, an actuator write error) does the same and
// returns the error. A tick whose network step fails on the backend's
// link (apu.ErrLink: a chip that reset itself or stopped answering) puts
// every output in its safe state within that tick, then stops with the
// error or, with `on_fault: reload`, reloads the chip and runs on from
// t = 0 (link.go). When an input has failed for more than stale_ticks
// ticks in a row the outputs are held at their safe values until every
// input reads again; the loop keeps running.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/actuator"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/recording"
)

// Options are the parts of a run that are not in the config file.
type Options struct {
	// Backend, if not empty, is the backend the network runs on instead
	// of the config's `backend:` (`spikeloop run --backend`); it holds
	// across reloads.
	Backend string
	// Clock is the loop's time; nil is the wall clock. Tests pass a
	// *FakeClock to run faster than real time.
	Clock Clock
	// Logger receives the daemon's log; nil builds one from the config's
	// logging section, writing to Stderr.
	Logger *zerolog.Logger
	// Stderr is where a built logger writes; nil is os.Stderr.
	Stderr io.Writer
	// Ticks stops the run after that many ticks (0: until the context is
	// done).
	Ticks int64
	// SummaryEvery is the loop time between two summary log lines; 0
	// means 10 s, negative means none.
	SummaryEvery time.Duration
	// Consumer, if set, receives every tick's figures on the figures
	// goroutine (never on the loop's); it may be slow: figures that do
	// not fit the bounded queue are dropped and counted.
	Consumer func(Figures)
	// AfterTick, if set, is called on the loop's goroutine after each
	// tick's work and before the overrun check (tests use it to make a
	// tick slow with FakeClock.Advance, or to watch the plant).
	AfterTick func(d *Daemon, tick int64)
	// Notify, if set, receives service-manager states (systemd's
	// sd_notify): "READY=1" once the first tick has run, "WATCHDOG=1"
	// every WatchdogEvery of wall time while ticks complete (never
	// while the loop is stuck, so that the watchdog fires), and
	// "STOPPING=1" when the loop stops. It is called on a goroutine of
	// its own, never the loop's.
	Notify func(state string)
	// WatchdogEvery is the keep-alive period; 0: no WATCHDOG=1.
	WatchdogEvery time.Duration
	// Record, if set, receives a recording of the run (every input
	// value handed to the encoders, with the seeds; format in package recording, the daemon's side in
	// record.go) that
	// Replay turns into the same spikes offline. It is written on a
	// goroutine of its own. Under Serve each run appends its own
	// recording.
	Record io.Writer
	// Software is the version string in the telemetry birth message.
	Software string
	// NoTelemetry runs without the config's telemetry section: no
	// broker, no publisher, no sampler (`spikeloop run --no-telemetry`,
	// and tests of the loop alone).
	NoTelemetry bool

	// openBoard, if set, is called by New just before the board is
	// opened; its error stands for a board that fails to open (tests of
	// Serve's fall-back, which the emulated board never triggers).
	openBoard func(*Config) error
	// memAvailable, if set, stands for the system's available memory in
	// a reload's preflight (tests of the memory check).
	memAvailable func() int64
	// emulator, if set, changes the emulated APU's config before it is
	// built (tests inject its faults).
	emulator func(*emulator.Config)
}

// Figures are the numbers of one tick.
type Figures struct {
	Tick     int64         // tick number, from 0
	Lateness time.Duration // how late the loop woke after the deadline
	Step     time.Duration // work time: read, network steps, write
	Overruns int64         // overruns so far
	Skipped  int64         // deadlines skipped so far
	Stale    int           // ticks since the stalest input's last good read
	// Rates are the mean rates (Hz) of the first StatusOutputs outputs
	// decoded by rate (0 for other decoders), in config order.
	Rates [StatusOutputs]float64
	// Plant is the emulated plant's figures after the tick, if it
	// reports any.
	Plant PlantFigures
	// Link is the backend link's figures after the tick (all zero for
	// a network on the host: HasLink false).
	Link LinkFigures
}

// LinkFigures are the figures of the link to the chip the network runs
// on (backend apu): the backend's counts since start (apu.LinkStats),
// and the daemon's faults and reloads.
type LinkFigures struct {
	HasLink bool // the backend drives a chip over a link
	apu.LinkStats
	Faults  int64 // ticks whose Run failed on the link (Stats.LinkFaults)
	Reloads int64 // chip reloads (Stats.Reloads)
}

// StatusOutputs is how many outputs' rates Figures carry (fixed, so
// that a Figures value is copied without allocation).
const StatusOutputs = 4

// PlantFigures are an emulated plant's figures (sim.Reporter): for the
// demo's vehicle, where it is and how far from the light.
type PlantFigures struct {
	// Of is the plant (nil: no plant reports): Of.Figures() names the
	// first values of V, Of.Status describes them.
	Of sim.Reporter
	V  [MaxPlantFigures]float64
}

// MaxPlantFigures bounds a plant's figures (fixed, so that a Figures
// value is copied without allocation).
const MaxPlantFigures = 8

// Values are the plant's figures (none without a plant).
func (p *PlantFigures) Values() []float64 {
	if p.Of == nil {
		return nil
	}
	return p.V[:len(p.Of.Figures())]
}

// Stats sum up a run.
type Stats struct {
	Ticks         int64 // ticks run
	LastTick      int64 // the last tick run, by its number on the deadline grid (with Ticks > 0)
	Overruns      int64 // ticks whose work ended after the next deadline
	Skipped       int64 // deadlines skipped because of overruns
	StaleTicks    int64 // ticks run with the outputs held safe for stale input
	PausedTicks   int64 // ticks run paused by a command (network and outputs idle)
	LinkFaults    int64 // ticks whose Run failed on the backend's link (apu.ErrLink)
	Reloads       int64 // chip reloads after a link fault (on_fault: reload)
	SpikesDropped int64 // spikes left out of full telemetry spike batches
	Dropped       int64 // figures dropped because the consumer was behind
	// Link is the backend's link counts at the end of the run (zero
	// without a link).
	Link        apu.LinkStats
	MaxLateness time.Duration
	MaxStep     time.Duration
	Lateness    Histogram
	StepTime    Histogram
	// LinkTime is the time each tick spent on the backend's link (its
	// LinkStats.LastTransfer: sending, waiting for the chip, receiving;
	// host wall time), for a backend with a link.
	LinkTime Histogram
	// EmulatedWire is, with the network on the emulated APU, the
	// emulated time its SPI wire was clocked during the run (every bit
	// at the configured clock): what a real bus at that clock would take.
	EmulatedWire time.Duration
}

// Daemon is one wired run: board, network, inputs, outputs.
type Daemon struct {
	cfg     *Config
	log     zerolog.Logger
	opts    Options
	clock   Clock
	backend apu.Backend
	// backendName is the backend's registered name (the recording's
	// header names it).
	backendName string
	// linker is the backend's link counts, when it drives a chip.
	linker apu.LinkStater
	// linkPort is the SPI port of the backend's link, which the daemon
	// opened and closes; emu the emulated APU on the emulated board.
	linkPort spi.PortCloser
	emu      *emulator.Emulator
	// justReloaded: the chip was reloaded after a link fault and no
	// tick has run on it since.
	justReloaded bool
	feeds        *tickFeeds // the tick's inputs, one Run a tick
	board        *hal.Board
	simb         *sim.Board
	plant        sim.Reporter // the emulated board's plant (plants.go), or nil
	plantV       [MaxPlantFigures]float64
	inputs       []*sensor.Input
	outputs      []output
	byPop        [][]actuator.Decoder // decoders per population index
	rec          apu.Record
	stale        bool
	stats        Stats
	// The loop's position: the next deadline and the time the plant
	// has been advanced to.
	deadline  time.Duration
	plantTime time.Duration
	figs      *handoff.Queue[Figures]
	figsStop  chan struct{} // closed when the loop has stopped
	closed    bool
	// progress counts finished ticks for the health goroutine (the
	// only loop state read from another goroutine).
	progress atomic.Int64
	rcd      *recording.Writer // nil unless recording
	// spikePops are the populations whose spike monitors New added, in
	// order (a recording names them, so that a replay adds the same).
	spikePops []string

	// Telemetry (telemetry.go): the service, whether this run started
	// it, the loop's sampler, and the commands' way into the loop.
	tel         *telemetryService
	telOwned    bool
	smp         *sampler
	ctl         chan *ctlRequest
	loopDone    chan struct{}
	paused      bool
	snapshotDue bool
}

type output struct {
	name string
	dec  actuator.Decoder
}

// figuresQueue bounds the hand-off of figures to the consumer: about 4 s
// of ticks at 1 kHz, 40 of the consumer's polls.
const figuresQueue = 4096

// Run wires cfg, runs the loop until ctx is done (or opts.Ticks ticks
// or a fault) and closes everything. Tests and Go programs that run one
// config call it; `spikeloop run` goes through Serve, which also reloads.
func Run(ctx context.Context, cfg *Config, opts Options) error {
	d, err := New(cfg, opts)
	if err != nil {
		return err
	}
	err = d.Run(ctx)
	return errors.Join(err, d.Close())
}

// New builds the run from a checked config (Parse or LoadConfig): it
// loads the network, opens the board (whose outputs go to their safe
// state), and wires inputs and outputs. On error nothing stays open.
func New(cfg *Config, opts Options) (d *Daemon, err error) {
	if cfg == nil || cfg.net == nil || cfg.steps == 0 {
		return nil, errors.New("daemon: the config was not checked; use Parse or LoadConfig")
	}
	// The network's model objects hold its state: a second run on the
	// same Config would start where the first stopped.
	if cfg.used {
		return nil, errors.New("daemon: this Config was used by a run already; Parse it again")
	}
	cfg.used = true
	if opts.NoTelemetry {
		cfg.Telemetry = nil
	}
	d = &Daemon{cfg: cfg, opts: opts, clock: opts.Clock}
	d.log = d.logger()
	if d.clock == nil {
		d.clock = newRealClock(cfg.Realtime.Spin)
	}
	// Close what was opened on any error; the return statements set d
	// to nil, hence the copy.
	built := d
	defer func() {
		if err != nil {
			err = errors.Join(err, built.Close())
		}
	}()

	// The network, with a spike monitor on every decoded population so
	// that the engine records the spikes the decoders need.
	net := cfg.net
	d.spikePops = cfg.outputPops()
	if cfg.Telemetry != nil {
		// Rates and counts of every spiking population.
		for _, p := range telemetryPops(net) {
			if !slices.Contains(d.spikePops, p) {
				d.spikePops = append(d.spikePops, p)
			}
		}
	}
	addSpikeMonitors(net, d.spikePops)
	d.ctl = make(chan *ctlRequest, cfg.commandQueue())
	d.loopDone = make(chan struct{})
	d.backendName = backendFor(cfg, opts)

	// The board.
	if opts.openBoard != nil {
		if err := opts.openBoard(cfg); err != nil {
			return nil, fmt.Errorf("daemon: board: %w", err)
		}
	}
	switch cfg.Board.Driver {
	case hal.DriverSim:
		var plant sim.Plant
		if kind, name, ok := cfg.plant(); ok {
			p, err := kind.build(cfg, cfg.carried)
			if err != nil {
				return nil, fmt.Errorf("daemon: plant.%s: %w", name, err)
			}
			if len(p.Figures()) > MaxPlantFigures {
				return nil, fmt.Errorf("daemon: plant.%s: figures: must be at most %d, got %d", name, MaxPlantFigures, len(p.Figures()))
			}
			d.plant, plant = p, p
		}
		d.simb, d.board, err = d.openSim(plant)
	default:
		d.board, err = hal.OpenPeriph(cfg.Board, d.log)
	}
	if err != nil {
		return nil, fmt.Errorf("daemon: board: %w", err)
	}

	// The backend after the board: a backend on a chip reaches it
	// through the board's SPI port (link.go).
	link, err := d.openLink()
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.backend, err = openBackend(cfg, d.backendName, link); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d.feeds = newTickFeeds(cfg.steps)
	// The backend says first whether it runs this network at all (a
	// model or size it has no room for: apu.ErrUnsupported, named).
	if _, err := d.backend.Probe(net); err != nil {
		return nil, fmt.Errorf("daemon: network %s: backend %s: %w", cfg.Network, d.backendName, err)
	}
	if err := d.backend.Load(net); err != nil {
		return nil, fmt.Errorf("daemon: network %s: %w", cfg.Network, err)
	}
	d.backend.Drain(&d.rec) // drop the initial monitor rows

	// Inputs.
	if opts.Record != nil && len(cfg.Inputs) > recording.MaxInputs {
		return nil, fmt.Errorf("daemon: cannot record more than %d inputs (have %d)", recording.MaxInputs, len(cfg.Inputs))
	}
	for i, in := range cfg.Inputs {
		src, err := d.inputSource(in)
		if err != nil {
			return nil, fmt.Errorf("daemon: inputs[%d].part: %w", i, err)
		}
		enc, err := d.encoder(i, in)
		if err != nil {
			return nil, fmt.Errorf("daemon: inputs[%d]: %w", i, err)
		}
		s, err := sensor.NewInput(in.Name, src, enc, in.Safe)
		if err != nil {
			return nil, fmt.Errorf("daemon: inputs[%d]: %w", i, err)
		}
		d.inputs = append(d.inputs, s)
	}

	// Outputs.
	d.byPop = make([][]actuator.Decoder, len(net.Populations))
	for i, o := range cfg.Outputs {
		dec, err := d.decoder(o)
		if err != nil {
			return nil, fmt.Errorf("daemon: outputs[%d]: %w", i, err)
		}
		d.outputs = append(d.outputs, output{name: o.Name, dec: dec})
		idx := popIndex(net, o.Population)
		d.byPop[idx] = append(d.byPop[idx], dec)
	}
	d.linker, _ = d.backend.(apu.LinkStater)
	threads, note := 1, ""
	if t, ok := d.backend.(threader); ok {
		threads, note = t.Threads(), t.ThreadsNote()
	}
	ev := d.log.Info().Str("network", cfg.Network).Str("tick", cfg.tick.String()).Int("steps_per_tick", cfg.steps).
		Str("driver", cfg.Board.Driver).Int("inputs", len(d.inputs)).Int("outputs", len(d.outputs)).
		Str("backend", d.backendName).Int("threads", threads)
	if d.linker != nil {
		ev = ev.Str("link", d.linkName()).Str("on_fault", cmp.Or(cfg.Backend.OnFault, onFaultStop))
	}
	ev.Msg("daemon wired")
	if note != "" {
		d.log.Warn().Int("threads", cfg.Realtime.Threads).Str("reason", note).Msg("realtime.threads: the network runs on one thread")
	}
	return d, nil
}

// logger returns opts.Logger or one built from the config.
func (d *Daemon) logger() zerolog.Logger {
	if d.opts.Logger != nil {
		return *d.opts.Logger
	}
	w := d.opts.Stderr
	if w == nil {
		w = os.Stderr
	}
	format := d.cfg.Logging.Format
	if format == "" || format == "auto" {
		format = "json"
		if IsTerminal(w) {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	level := zerolog.InfoLevel
	if d.cfg.Logging.Level != "" {
		level, _ = zerolog.ParseLevel(d.cfg.Logging.Level) // checked by Parse
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// IsTerminal reports whether w writes to a terminal: an *os.File on a
// character device, or a writer that wraps one and says so with a
// Terminal() bool method (as a writer that shares the terminal with a
// status line does).
func IsTerminal(w io.Writer) bool {
	switch w := w.(type) {
	case *os.File:
		st, err := w.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	case interface{ Terminal() bool }:
		return w.Terminal()
	}
	return false
}

func population(net *models.Network, name string) *models.PopulationSpec {
	for _, p := range net.Populations {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func popIndex(net *models.Network, name string) int {
	for i, p := range net.Populations {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func recordsSpikes(net *models.Network, ps *models.PopulationSpec) bool {
	for _, m := range net.Monitors {
		if m.Population != ps || m.Neurons != nil {
			continue
		}
		for _, r := range m.Record {
			if r == "spikes" {
				return true
			}
		}
	}
	return false
}

// adcSource reads an ADC channel's voltage.
type adcSource struct{ a hal.AnalogIn }

var _ sensor.Source = adcSource{}

func (s adcSource) Read() (float64, error) {
	x, err := s.a.Read()
	return x.Volts, err
}

// pinSource reads a digital input as 0 or 1.
type pinSource struct{ p hal.DigitalIn }

var _ sensor.Source = pinSource{}

func (s pinSource) Read() (float64, error) {
	if s.p.Read() {
		return 1, nil
	}
	return 0, nil
}

func (d *Daemon) source(part string) (sensor.Source, error) {
	if a, err := d.board.ADC(part); err == nil {
		return adcSource{a}, nil
	}
	p, err := d.board.DigitalIn(part)
	if err != nil {
		return nil, err
	}
	return pinSource{p}, nil
}

func (d *Daemon) encoder(i int, in InputConfig) (sensor.Encoder, error) {
	return newEncoder(d.backend, d.feeds, d.cfg.net, d.cfg.steps, in, inputSeed(d.cfg.net, i, in))
}

// inputSeed is the rate encoder's seed: the configured one, or one
// derived from the network's seed and the input's index, so that each
// input has its own stream and a run is repeatable.
func inputSeed(net *models.Network, i int, in InputConfig) uint64 {
	if in.Seed != 0 {
		return in.Seed
	}
	return net.Seed*1_000_003 + uint64(i) + 1
}

// newEncoder builds the encoder of one input into engine (live or
// replay: both must build the very same encoders).
func newEncoder(b apu.Backend, feeds *tickFeeds, net *models.Network, steps int, in InputConfig, seed uint64) (sensor.Encoder, error) {
	ps := population(net, in.Population)
	if ps == nil {
		return nil, fmt.Errorf("no population %q", in.Population)
	}
	enc, ok := encoders[in.Encoder]
	if !ok {
		return nil, fmt.Errorf("unknown encoder %q", in.Encoder)
	}
	return enc.build(encoderEnv{b: b, feeds: feeds, net: net, steps: steps, seed: seed}, in, ps)
}

// addSpikeMonitors makes the engine record the spikes of every output
// population (live and replay add the same monitors).
func addSpikeMonitors(net *models.Network, pops []string) {
	for _, name := range pops {
		ps := population(net, name)
		if ps != nil && !recordsSpikes(net, ps) {
			net.Monitors = append(net.Monitors, &models.MonitorSpec{Population: ps, Record: []string{"spikes"}})
		}
	}
}

func (d *Daemon) decoder(o OutputConfig) (actuator.Decoder, error) {
	dec, ok := decoders[o.Decoder]
	if !ok {
		return nil, fmt.Errorf("unknown decoder %q", o.Decoder)
	}
	return dec.build(d, o, population(d.cfg.net, o.Population))
}

// Plant is the emulated board's plant (for the demo a *sim.Vehicle), or
// nil.
func (d *Daemon) Plant() sim.Reporter { return d.plant }

// Board is the hal board.
func (d *Daemon) Board() *hal.Board { return d.board }

// SimBoard is the emulated board, or nil on real hardware.
func (d *Daemon) SimBoard() *sim.Board { return d.simb }

// Inputs are the wired inputs, in config order.
func (d *Daemon) Inputs() []*sensor.Input { return d.inputs }

// Decoder returns the decoder of the output called name, or nil.
func (d *Daemon) Decoder(name string) actuator.Decoder {
	for _, o := range d.outputs {
		if o.name == name {
			return o.dec
		}
	}
	return nil
}

// Stats are the run's figures; read them after Run returns, or from
// AfterTick.
func (d *Daemon) Stats() Stats { return d.stats }

// Close halts and closes the board and the engine. It is idempotent.
func (d *Daemon) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	if d.board != nil {
		errs = append(errs, d.board.Close())
	}
	if d.backend != nil {
		errs = append(errs, d.backend.Close())
	}
	if d.linkPort != nil {
		errs = append(errs, d.linkPort.Close())
	}
	return errors.Join(errs...)
}

// Run runs the loop on a locked OS thread until ctx is done, opts.Ticks
// ticks have run, or a fault; it then puts the outputs in their safe
// state. It returns nil on a normal stop and the fault otherwise.
func (d *Daemon) Run(ctx context.Context) (err error) {
	if d.cfg.Telemetry != nil && d.tel == nil {
		// Telemetry serves the people watching, the loop serves the
		// machine: a broker port in use or a store that cannot be made
		// is logged and the loop runs without telemetry.
		if tel, err := startTelemetry(d.cfg, d.opts, d.log); err != nil {
			d.log.Error().Err(err).Msg("telemetry off for this run")
		} else {
			d.tel, d.telOwned = tel, true
		}
	}
	if d.cfg.Telemetry != nil && d.tel != nil {
		d.smp = newSampler(d, d.tel)
	}
	if d.tel != nil {
		d.tel.ctl.attach(d)
	}
	if d.opts.Record != nil {
		d.rcd = recording.NewWriter(d.opts.Record, d.recordHeader(), d.log)
	}
	d.figs = handoff.New[Figures](figuresQueue)
	d.figsStop = make(chan struct{})
	done := make(chan struct{})
	go d.consume(done)
	stopHealth := make(chan struct{})
	healthDone := make(chan struct{})
	go d.health(stopHealth, healthDone)
	// The loop runs on a goroutine locked to its own OS thread: the
	// scheduler does not move it, per-thread settings (affinity,
	// SCHED_FIFO) apply to it alone, and since it never unlocks, the
	// thread ends with the goroutine and its settings never leak to
	// other goroutines.
	//
	// On the wall clock the process keeps Ps to spare, so that the
	// loop's thread finds one idle after each sleep, and collects
	// garbage less often (tuneRuntime).
	if _, ok := d.clock.(*realClock); ok {
		defer tuneRuntime()()
		if d.cfg.Realtime.Priority > 0 {
			restore, err := raiseThreads()
			if err != nil {
				d.log.Warn().Err(err).Int("nice", threadNice).
					Msg("realtime: the daemon's threads keep their priority (raising it needs CAP_SYS_NICE); the loop waits longer for them after a preemption")
			} else {
				d.log.Debug().Int("nice", threadNice).Msg("realtime: the daemon's threads raised")
			}
			defer restore()
		}
	}
	var wire0 time.Duration
	if d.emu != nil && d.linker != nil {
		wire0 = d.emu.Stats().Link
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		d.realtime()
		errc <- d.loop(ctx)
	}()
	err = <-errc
	close(d.loopDone)
	if d.emu != nil && d.linker != nil {
		d.stats.EmulatedWire = d.emu.Stats().Link - wire0
	}
	if d.tel != nil {
		d.tel.ctl.detach(d)
		if d.smp != nil && d.smp.n > 0 {
			d.smp.emit(d, d.stats.LastTick) // the last, partial interval
		}
	}
	close(stopHealth)
	<-healthDone
	close(d.figsStop)
	<-done
	var rerr error
	if d.rcd != nil {
		// finish logs what the recording lost, and why.
		if rerr = d.rcd.Close(); rerr != nil {
			rerr = fmt.Errorf("daemon: recording: %w", rerr)
		}
		d.rcd = nil
	}

	serr := d.safe()
	herr := d.board.Halt()
	var terr error
	if d.telOwned {
		terr = d.tel.Close()
		d.tel, d.telOwned = nil, false
	}
	ev := d.log.Info()
	if err != nil {
		ev = d.log.Error().Err(err)
	}
	ev.Int64("ticks", d.stats.Ticks).Int64("overruns", d.stats.Overruns).Int64("skipped", d.stats.Skipped).
		Int64("stale_ticks", d.stats.StaleTicks).Int64("dropped", d.stats.Dropped).
		Int64("lateness_p99_us", d.stats.Lateness.Quantile(0.99).Microseconds()).
		Int64("step_p99_us", d.stats.StepTime.Quantile(0.99).Microseconds()).Msg("loop stopped; outputs safe")
	if d.linker != nil || d.stats.LinkFaults > 0 {
		l := d.linkFigures()
		d.log.Info().Str("link", d.linkName()).Uint64("frames", l.FramesIn+l.FramesOut).Uint64("bytes", l.BytesIn+l.BytesOut).
			Uint64("crc_errors", l.CRCErrors).Uint64("retries", l.Retries).Uint64("timeouts", l.Timeouts).
			Uint64("chip_resets", l.ChipResets).Int64("faults", l.Faults).Int64("reloads", l.Reloads).
			Int64("transfer_us", l.Transfer.Microseconds()).Msg("backend link")
	}
	if d.stats.SpikesDropped > 0 {
		d.log.Warn().Int64("spikes", d.stats.SpikesDropped).Int("per_batch", maxBatchSpikes).Msg("telemetry: spikes left out of full spike batches")
	}
	return errors.Join(err, serr, herr, rerr, terr)
}

func (d *Daemon) loop(ctx context.Context) error {
	d.deadline = d.clock.Now()
	d.plantTime = d.deadline
	for d.opts.Ticks == 0 || d.stats.Ticks < d.opts.Ticks {
		d.clock.SleepUntil(ctx, d.deadline)
		if ctx.Err() != nil {
			return nil
		}
		if err := d.iterate(); err != nil {
			if errors.Is(err, errInputEnded) {
				return nil // a normal stop, logged by inputEnded
			}
			return err
		}
	}
	return nil
}

// iterate runs the tick due at d.deadline (the loop has slept until
// then), records its figures and sets the next deadline.
func (d *Daemon) iterate() error {
	k := d.stats.Ticks + d.stats.Skipped // tick number on the deadline grid
	woke := d.clock.Now()
	late := woke - d.deadline
	d.applyControls()
	if d.simb != nil {
		if err := d.simb.Advance(d.deadline - d.plantTime); err != nil {
			return fmt.Errorf("daemon: tick %d: %w", k, err)
		}
		d.plantTime = d.deadline
	}
	// Paused: the deadlines, the plant and telemetry go on; the
	// sensors are not read (so a recording stays replayable: no row, no
	// encoder state change), the network does not run, the outputs stay
	// at the safe values written on pause.
	ran := !d.paused
	stale := 0
	if ran {
		var err error
		if stale, err = d.tick(); err != nil {
			return fmt.Errorf("daemon: tick %d: %w", k, err)
		}
		if d.rcd != nil {
			d.rcd.Tick(k, d.inputs)
		}
	} else {
		d.stats.PausedTicks++
	}
	if d.opts.AfterTick != nil {
		d.opts.AfterTick(d, k)
	}
	end := d.clock.Now()
	work := end - woke

	d.stats.Ticks++
	d.stats.LastTick = k
	d.progress.Store(d.stats.Ticks)
	d.stats.Lateness.Add(late)
	d.stats.StepTime.Add(work)
	d.stats.MaxLateness = max(d.stats.MaxLateness, late)
	d.stats.MaxStep = max(d.stats.MaxStep, work)

	// The next deadline is on the grid start + n*tick; the ones already
	// past are skipped and counted, never run back to back.
	tick := d.cfg.tick
	d.deadline += tick
	if end > d.deadline {
		missed := int64((end-d.deadline)/tick) + 1
		d.stats.Overruns++
		d.stats.Skipped += missed
		d.deadline += time.Duration(missed) * tick
	}
	f := Figures{Tick: k, Lateness: late, Step: work, Overruns: d.stats.Overruns, Skipped: d.stats.Skipped, Stale: stale}
	for i, o := range d.outputs {
		if i == StatusOutputs {
			break
		}
		if r, ok := o.dec.(*actuator.Rate); ok {
			f.Rates[i] = r.Hz()
		}
	}
	if d.linker != nil || d.stats.LinkFaults > 0 {
		f.Link = d.linkFigures()
		if ran && d.linker != nil {
			d.stats.LinkTime.Add(f.Link.LastTransfer)
		}
	}
	if d.plant != nil {
		// Into the daemon's buffer, then copied: a slice of f handed to
		// an interface method would move f to the heap every tick.
		d.plant.Report(d.plantV[:])
		f.Plant.Of, f.Plant.V = d.plant, d.plantV
	}
	if d.smp != nil {
		d.smp.tick(d, k, late, ran)
	}
	d.send(f)
	return nil
}

// tick does one tick's work; it returns the stalest input's count.
func (d *Daemon) tick() (int, error) {
	if err := d.inputEnded(); err != nil {
		return 0, err
	}
	stale := 0
	for _, in := range d.inputs {
		in.Read()
		stale = max(stale, in.Stale())
	}
	// The encoders give every step's input, then the tick runs in one
	// call (a remote backend: one RUN frame).
	d.feeds.begin()
	for s := 0; s < d.cfg.steps; s++ {
		d.feeds.row = s
		for _, in := range d.inputs {
			if err := in.Step(s); err != nil {
				return stale, err
			}
		}
	}
	if err := d.feeds.run(d.backend); err != nil {
		if errors.Is(err, apu.ErrLink) {
			if err = d.linkFault(err); err == errLinkReloaded {
				return stale, nil // the outputs stay safe for this tick
			}
		}
		return stale, err
	}
	d.backend.Drain(&d.rec)
	d.justReloaded = false

	if stale > d.cfg.StaleTicks {
		if !d.stale {
			d.stale = true
			d.log.Warn().Int("stale_ticks", stale).Msg("input stale: outputs held at their safe values")
			if err := d.safe(); err != nil {
				return stale, err
			}
		}
		d.stats.StaleTicks++
		return stale, nil
	}
	if d.stale {
		d.stale = false
		d.log.Info().Msg("inputs fresh again: outputs resume")
	}
	for _, sp := range d.rec.Spikes {
		for _, dec := range d.byPop[sp.Pop] {
			dec.Spike(int(sp.Neuron))
		}
	}
	for _, o := range d.outputs {
		if err := o.dec.Update(); err != nil {
			return stale, err
		}
	}
	return stale, nil
}

// safe writes every output's safe value, trying all of them.
func (d *Daemon) safe() error {
	var errs []error
	for _, o := range d.outputs {
		if err := o.dec.Safe(); err != nil {
			errs = append(errs, fmt.Errorf("output %q: %w", o.name, err))
		}
	}
	return errors.Join(errs...)
}

// send hands f to the consumer without blocking and without a lock;
// when the queue is full (the consumer is a second behind) f is dropped
// and counted.
func (d *Daemon) send(f Figures) {
	if !d.figs.Push(&f) {
		d.stats.Dropped++
	}
}

// consume logs a summary every SummaryEvery of loop time and passes
// figures on to opts.Consumer.
func (d *Daemon) consume(done chan<- struct{}) {
	defer close(done)
	every := d.opts.SummaryEvery
	if every == 0 {
		every = 10 * time.Second
	}
	var s summary
	if every > 0 {
		s.perSummary = max(1, int64(every/d.cfg.tick))
	}
	poll := time.NewTicker(handoff.Poll)
	defer poll.Stop()
	var f Figures
	for stopped := false; !stopped; {
		select {
		case <-d.figsStop:
			stopped = true // take what is left, then end
		case <-poll.C:
		}
		for d.figs.Pop(&f) {
			d.take(f, &s)
		}
	}
}

// summary is the consumer's state between two summary lines.
type summary struct {
	perSummary int64 // ticks per summary; 0: none
	// Summaries follow tick numbers, not figures received, so that
	// dropped figures do not shift them.
	period           int64
	maxLate, maxStep time.Duration
}

// take passes f to opts.Consumer and logs a summary when one is due.
func (d *Daemon) take(f Figures, s *summary) {
	if d.opts.Consumer != nil {
		d.opts.Consumer(f)
	}
	if s.perSummary == 0 {
		return
	}
	s.maxLate = max(s.maxLate, f.Lateness)
	s.maxStep = max(s.maxStep, f.Step)
	if p := (f.Tick + 1) / s.perSummary; p > s.period {
		s.period = p
		ev := d.log.Info().Int64("tick", f.Tick).Int64("max_lateness_us", s.maxLate.Microseconds()).
			Int64("max_step_us", s.maxStep.Microseconds()).Int64("overruns", f.Overruns).
			Int64("skipped", f.Skipped).Int("stale", f.Stale)
		// What the loop drives, so that a log without a terminal still
		// tells whether the machine does its job: the rate outputs by
		// name and, with an emulated plant, its figures (the demo's
		// vehicle: where it is).
		if n := min(len(d.outputs), StatusOutputs); n > 0 {
			rates := zerolog.Dict()
			for i := range n {
				if _, ok := d.outputs[i].dec.(*actuator.Rate); ok {
					rates.Float64(d.outputs[i].name, math.Round(f.Rates[i]*10)/10)
				}
			}
			ev = ev.Dict("rates_hz", rates)
		}
		if p := f.Plant; p.Of != nil {
			for i, fig := range p.Of.Figures() {
				ev = ev.Float64(fig.Log, round3(p.V[i]))
			}
		}
		if l := f.Link; l.HasLink || l.Faults > 0 {
			ev = ev.Uint64("link_frames", l.FramesIn+l.FramesOut).Uint64("link_crc_errors", l.CRCErrors).
				Uint64("link_retries", l.Retries).Uint64("link_timeouts", l.Timeouts).Int64("link_reloads", l.Reloads)
		}
		ev.Msg("loop")
		s.maxLate, s.maxStep = 0, 0
	}
}

// round3 rounds to 3 decimals (mm, mrad) for log lines.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// realtime applies the config's realtime section to the calling
// thread, logging what it did and, when refused, why.
func (d *Daemon) realtime() {
	if err := tightenTimerSlack(); err != nil {
		d.log.Debug().Err(err).Msg("realtime: timer slack left as is")
	}
	rt := d.cfg.Realtime
	if rt.CPU != nil {
		if err := pinCPU(*rt.CPU); err != nil {
			d.log.Warn().Err(err).Int("cpu", *rt.CPU).Msg("realtime: CPU pinning refused; the loop runs unpinned")
		} else {
			d.log.Info().Int("cpu", *rt.CPU).Msg("realtime: loop pinned")
		}
	}
	if rt.Priority > 0 {
		if err := setFIFO(rt.Priority); err != nil {
			d.log.Warn().Err(err).Int("priority", rt.Priority).
				Msg("realtime: SCHED_FIFO refused (needs CAP_SYS_NICE or LimitRTPRIO); the loop runs at normal priority")
		} else {
			d.log.Info().Int("priority", rt.Priority).Msg("realtime: loop on SCHED_FIFO")
		}
	}
}

// healthPoll is how often the health goroutine looks for the first
// tick.
const healthPoll = 5 * time.Millisecond

// health tells the service manager that the loop is up (READY=1 after
// the first tick) and alive (WATCHDOG=1 only when ticks were completed
// since the previous keep-alive), and STOPPING=1 at the end.
func (d *Daemon) health(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	notify := d.opts.Notify
	if notify == nil {
		<-stop
		return
	}
	defer notify("STOPPING=1")
	poll := time.NewTicker(healthPoll)
	defer poll.Stop()
	for d.progress.Load() == 0 {
		select {
		case <-stop:
			return
		case <-poll.C:
		}
	}
	notify("READY=1")
	if d.opts.WatchdogEvery <= 0 {
		<-stop
		return
	}
	dog := time.NewTicker(d.opts.WatchdogEvery)
	defer dog.Stop()
	last := d.progress.Load()
	for {
		select {
		case <-stop:
			return
		case <-dog.C:
		}
		if now := d.progress.Load(); now != last {
			last = now
			notify("WATCHDOG=1")
		} else {
			d.log.Warn().Int64("ticks", now).Msg("loop made no progress: watchdog keep-alive withheld")
		}
	}
}

// Histogram counts durations: in 1 µs buckets up to 10 ms (fine enough
// for p99.9 of a 1 kHz loop), then in buckets of 1/64 of a power of two
// (at most 1.6% wide) up to 2^40 µs (12.7 days), so that a stall of a
// second reads as about a second, not as the 10 ms of a fixed top
// bucket. It is fixed in size so that adding never allocates.
type Histogram struct {
	buckets [histBuckets + 1 + histLogBuckets]int64
	n       int64
}

const (
	histBuckets = 10_000 // linear buckets, 1 µs each: 0 .. 10 ms
	// Above 10 ms: 64 sub-buckets for each power of two 2^e µs, e from
	// histMinExp (2^13 µs = 8.2 ms <= 10 ms) to histMaxExp.
	histSub        = 64
	histMinExp     = 13
	histMaxExp     = 39
	histLogBuckets = (histMaxExp - histMinExp + 1) * histSub
)

// Add counts d.
func (h *Histogram) Add(d time.Duration) {
	h.buckets[histIndex(int64(d/time.Microsecond))]++
	h.n++
}

// histIndex is the bucket of a duration of us microseconds.
func histIndex(us int64) int {
	switch {
	case us < 0:
		return 0
	case us <= histBuckets:
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 1 // 2^e <= us < 2^(e+1)
	if e > histMaxExp {
		return len(Histogram{}.buckets) - 1
	}
	sub := int(us>>(e-6)) & (histSub - 1) // the 6 bits below the leading one
	return histBuckets + 1 + (e-histMinExp)*histSub + sub
}

// histLower is the smallest duration, in µs, that falls in bucket i.
func histLower(i int) int64 {
	if i <= histBuckets {
		return int64(i)
	}
	i -= histBuckets + 1
	e, sub := i/histSub+histMinExp, i%histSub
	return max(int64(histSub+sub)<<(e-6), histBuckets+1)
}

// Count is the number of durations added.
func (h *Histogram) Count() int64 { return h.n }

// Quantile returns quantile q (0..1), rounded down to its bucket's
// lower bound: exact to the microsecond up to 10 ms, within 1.6% above.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := int64(q*float64(h.n) + 0.5)
	want = max(1, min(want, h.n))
	var seen int64
	for i, c := range h.buckets {
		seen += c
		if seen >= want {
			return time.Duration(histLower(i)) * time.Microsecond
		}
	}
	return time.Duration(histLower(len(h.buckets)-1)) * time.Microsecond
}
