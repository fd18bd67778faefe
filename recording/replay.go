package recording

import (
	"errors"
	"fmt"
	"io"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// Wiring is what the program that recorded a run does around its
// network, so that a replay does the same: the daemon provides it
// (daemon.NewReplayer), and a replay built with another program's
// wiring would not be the live run.
type Wiring interface {
	// Prepare adds to net, before it is loaded, what the live run
	// added: the outputs' spike monitors.
	Prepare(net *models.Network, outputs []string)
	// Inputs builds the run's inputs, as the live run built them, on
	// backend b loaded with net.
	Inputs(b apu.Backend, net *models.Network, h *Header) (Inputs, error)
}

// Inputs are a replayed run's inputs.
type Inputs interface {
	// Command applies a recorded generator setting (a command the live
	// run applied at the start of the tick about to be read).
	Command(kind telemetry.Kind, pop string, values []float64) error
	// Tick hands the inputs a tick's recorded values, one per input of
	// the header, in order.
	Tick(values []float64)
	// Step runs step s (from 0) of the tick on the backend: the inputs'
	// values for that step, and one network step.
	Step(s int) error
}

// A Replayer is an apu.Backend that runs one segment of a recording:
// each step runs the network as the live loop's tick did, feeding the
// recorded input values through the same encoders with the same seeds.
// Load it with its Network (offline.Run does, which then writes the
// outputs of `spikeloop sim`); the spikes it records are those of the
// live run, bit for bit.
type Replayer struct {
	sr          *segReader
	seg         int
	h           Header
	wiring      Wiring
	net         *models.Network
	engine      apu.Backend // the backend the steps run on
	backendName string
	values      []float64
	inputs      Inputs // nil before Load
	s           int    // the step within the current tick
	err         error  // sticky, as apu.Backend asks
}

var _ apu.Backend = (*Replayer)(nil)

// NewReplayer reads recording r up to the start of segment seg (0 is
// the first; Scan lists them), checks that netData (named
// netName in messages, which also anchors the file's relative paths) is
// the network recorded, and loads it with the spike monitors the daemon
// added for the outputs. The network's Duration is left as in its file:
// set it to the segment's length (Segment.Steps() steps) to
// replay the whole segment; stepping past the end is an error. A
// segment that stops early replays up to where it stops.
func NewReplayer(netData []byte, netName string, r io.Reader, seg int, w Wiring) (*Replayer, error) {
	if seg < 0 {
		return nil, fmt.Errorf("%w: segment: must be >= 0 (segments are counted from 0), got %d", ErrRecording, seg)
	}
	cr := newChunkReader(r)
	var h Header
	for i := 0; ; i++ {
		var err error
		h, err = openSegment(cr)
		var ce *chunkError
		switch {
		case errors.Is(err, io.EOF) && i == 0:
			return nil, &recordError{msg: "recording: the file is empty"}
		case errors.Is(err, io.EOF) || errors.As(err, &ce) && i > 0:
			return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d", ErrRecording, seg+1, i)
		case errors.Is(err, ErrRecording):
			return nil, err
		case err != nil:
			return nil, recErr(i, err)
		}
		if i == seg {
			break
		}
		sr := newSegReader(cr)
		values := make([]float64, len(h.Inputs))
		for {
			more, err := sr.next(values, func(command) error { return nil })
			if err != nil {
				return nil, recErr(i, err)
			}
			if !more {
				break
			}
		}
		if sr.broken {
			return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d (%s)", ErrRecording, seg+1, i+1, sr.stop)
		}
	}
	if got := Hash(netData); got != h.NetworkHash {
		return nil, recErr(seg, fmt.Errorf("network %s is not the one recorded (%s): FNV-1a %016x, recorded %016x", netName, h.Network, got, h.NetworkHash))
	}
	net, err := models.Load(netData, netName, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if net.Dt != h.Dt {
		return nil, recErr(seg, fmt.Errorf("dt: must be the recorded %g, got %g", h.Dt, net.Dt))
	}
	w.Prepare(net, h.Outputs)
	// A recording made on a chip replays on the backend that computes
	// the chip's bits in-process (apu.StandIn: "fixed" for "apu").
	name := apu.StandIn(h.Backend)
	b, err := apu.Open(name, apu.Options{})
	if err != nil {
		return nil, recErr(seg, fmt.Errorf("the recording ran on %w", err))
	}
	return &Replayer{sr: newSegReader(cr), seg: seg, h: h, wiring: w, net: net, engine: b, backendName: name, values: make([]float64, len(h.Inputs))}, nil
}

// Header is the header of the segment replayed.
func (p *Replayer) Header() Header { return p.h }

// Backend is the name of the backend the replay runs on: the one the
// recording names, or the one UseBackend chose.
func (p *Replayer) Backend() string { return p.backendName }

// UseBackend makes the replay run on backend name instead of the one the
// recording names (`spikeloop sim --replay --backend`). Call it before
// Load.
func (p *Replayer) UseBackend(name string) error {
	if p.inputs != nil {
		return errors.New("recording: Replayer.UseBackend after Load")
	}
	b, err := apu.Open(name, apu.Options{})
	if err != nil {
		return err
	}
	if err := p.engine.Close(); err != nil {
		return errors.Join(err, b.Close())
	}
	p.engine, p.backendName = b, name
	return nil
}

// Network is the network to load and run: the network file with the
// outputs' spike monitors added.
func (p *Replayer) Network() *models.Network { return p.net }

// Load implements apu.Backend; net must be p.Network().
func (p *Replayer) Load(net *models.Network) error {
	if net != p.net {
		return errors.New("recording: Replayer.Load: load the network Replayer.Network returns")
	}
	if err := p.engine.Load(net); err != nil {
		return err
	}
	in, err := p.wiring.Inputs(p.engine, net, &p.h)
	if err != nil {
		return recErr(p.seg, err)
	}
	p.inputs = in
	return nil
}

// Probe implements apu.Backend: what the backend it replays on says.
func (p *Replayer) Probe(net *models.Network) (apu.Probe, error) { return p.engine.Probe(net) }

// Run implements apu.Backend: n steps of the recorded run. The recording
// feeds the inputs; other feeds are refused (ErrUnsupported).
func (p *Replayer) Run(n int, feeds []apu.Feed) error {
	if len(feeds) > 0 {
		return fmt.Errorf("recording: Replayer: a replay takes its inputs from the recording, not from Run: %w", apu.ErrUnsupported)
	}
	return p.Advance(n)
}

// Set implements apu.Backend.
func (p *Replayer) Set(pop string, s apu.Setting, values []float64) error {
	return p.engine.Set(pop, s, values)
}

// State implements apu.Backend.
func (p *Replayer) State(pop, state string, units []int, dst []float64) ([]float64, error) {
	return p.engine.State(pop, state, units, dst)
}

// Reset implements apu.Backend: a replay cannot go back (ErrUnsupported).
func (p *Replayer) Reset() error {
	return fmt.Errorf("recording: Replayer: a replay runs its recording once; replay it again instead of resetting: %w", apu.ErrUnsupported)
}

// Now implements apu.Backend.
func (p *Replayer) Now() int64 { return p.engine.Now() }

// Drain implements apu.Backend.
func (p *Replayer) Drain(dst *apu.Record) { p.engine.Drain(dst) }

// Close implements apu.Backend.
func (p *Replayer) Close() error { return p.engine.Close() }

// Advance implements apu.Backend: n steps of the recorded run.
func (p *Replayer) Advance(n int) error {
	for ; n > 0 && p.err == nil; n-- {
		more, err := p.step()
		switch {
		case err != nil:
			p.err = err
		case !more:
			p.err = recErr(p.seg, fmt.Errorf("the segment ends after %d ticks (%d steps); the run asks for more", p.sr.rows, p.sr.rows*int64(p.h.StepsPerTick)))
		}
	}
	return p.err
}

// step runs one network step as the live tick did (Daemon.tick): at a
// tick's first step the tick's row is read and every input reads its
// recorded value. At the end of the segment it returns false.
func (p *Replayer) step() (bool, error) {
	if p.inputs == nil {
		return false, errors.New("recording: Replayer: Advance before Load")
	}
	if p.s == 0 {
		more, err := p.sr.next(p.values, func(c command) error {
			return p.inputs.Command(c.kind, c.pop, c.values)
		})
		if err != nil {
			return false, recErr(p.seg, err)
		}
		if !more {
			return false, nil
		}
		p.inputs.Tick(p.values)
	}
	if err := p.inputs.Step(p.s); err != nil {
		return false, err
	}
	if p.s++; p.s == p.h.StepsPerTick {
		p.s = 0
	}
	return true, nil
}

// Replay runs the first segment of a recording offline against the
// network file's content (netData; its FNV-1a must match the
// recording's) and returns the spikes the engine recorded, in the order
// the live run's engine recorded them: the same spikes, bit for bit, as
// the live run. ReplaySegment replays another segment.
func Replay(netData []byte, netName string, r io.Reader, w Wiring) ([]apu.Spike, error) {
	return ReplaySegment(netData, netName, r, 0, w)
}

// ReplaySegment is Replay for segment seg (0 is the first). A segment
// that stops early (cut short, damaged, rows not recorded) returns the
// spikes of the ticks it holds and an error wrapping ErrIncomplete that
// says where it stopped.
func ReplaySegment(netData []byte, netName string, r io.Reader, seg int, w Wiring) ([]apu.Spike, error) {
	p, err := NewReplayer(netData, netName, r, seg, w)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if err := p.Load(p.net); err != nil {
		return nil, err
	}
	var rec apu.Record
	p.Drain(&rec) // the monitors' initial rows
	var spikes []apu.Spike
	for {
		// One tick at a time, as the live loop drains.
		for s := 0; s < p.h.StepsPerTick; s++ {
			more, err := p.step()
			if err != nil {
				return nil, err
			}
			if !more { // rows start at a tick's first step: s == 0
				if p.sr.stop != "" {
					s := Segment{Ticks: p.sr.rows, LastTick: p.sr.lastTick, Stop: p.sr.stop}
					return spikes, s.stopError(seg)
				}
				return spikes, nil
			}
		}
		p.Drain(&rec)
		spikes = append(spikes, rec.Spikes...)
	}
}
