package daemon

import (
	"fmt"
	"io"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/recording"
)

// This file is the daemon's side of a recording (Options.Record): what
// the loop records, and how a replay rebuilds the loop's inputs. The
// format, the writer goroutine and the Replayer are package recording's.
// Each tick the loop hands the writer the values its inputs handed the
// encoders (Daemon.tick), and each generator setting a command applied
// (Daemon.applyControls); skipped ticks have no row, since the network
// did not run for them either.

// recordHeader is the header of the run about to start.
func (d *Daemon) recordHeader() recording.Header {
	h := recording.Header{Backend: d.backendName, Network: d.cfg.Network, NetworkHash: recording.Hash(d.cfg.netData), Dt: d.cfg.net.Dt,
		StepsPerTick: d.cfg.steps, TickNs: int64(d.cfg.tick), Outputs: d.spikePops}
	for i, in := range d.cfg.Inputs {
		h.Inputs = append(h.Inputs, recordInput(in, inputSeed(d.cfg.net, i, in)))
	}
	return h
}

// recordInput is what a recording keeps of an input: what its encoder
// is built from (inputConfig undoes it).
func recordInput(in InputConfig, seed uint64) recording.Input {
	return recording.Input{Name: in.Name, Population: in.Population, Encoder: in.Encoder, Gain: in.Gain, Offset: in.Offset,
		Min: in.Min, Max: in.Max, MaxHz: in.MaxHz, Step: in.Step, Seed: seed,
		File: in.File, AtEnd: in.AtEnd, BatchIndex: in.BatchIndex, Rows: in.rows}
}

// inputConfig is the config of a recorded input, as far as its encoder
// needs (no part: the recording is the source).
func inputConfig(in recording.Input) InputConfig {
	return InputConfig{Name: in.Name, Population: in.Population, Encoder: in.Encoder, Gain: in.Gain, Offset: in.Offset,
		Min: in.Min, Max: in.Max, MaxHz: in.MaxHz, Step: in.Step, Seed: in.Seed,
		File: in.File, AtEnd: in.AtEnd, BatchIndex: in.BatchIndex, rows: in.Rows}
}

// replayWiring rebuilds what the live loop built around its network:
// the same spike monitors, and the same encoders with the same seeds.
type replayWiring struct{}

var _ recording.Wiring = replayWiring{}

// Prepare implements recording.Wiring.
func (replayWiring) Prepare(net *models.Network, outputs []string) { addSpikeMonitors(net, outputs) }

// Inputs implements recording.Wiring.
func (replayWiring) Inputs(b apu.Backend, net *models.Network, h *recording.Header) (recording.Inputs, error) {
	// One step at a time: a replay may stop inside a tick.
	r := &replayInputs{b: b, feeds: newTickFeeds(1), values: make([]float64, len(h.Inputs)), inputs: make([]*sensor.Input, len(h.Inputs))}
	for i, in := range h.Inputs {
		enc, err := newEncoder(b, r.feeds, net, h.StepsPerTick, inputConfig(in), in.Seed)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		if r.inputs[i], err = sensor.NewInput(in.Name, replaySource{&r.values[i]}, enc, 0); err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
	}
	return r, nil
}

// replayInputs are the live loop's inputs fed from a recording.
type replayInputs struct {
	b      apu.Backend
	feeds  *tickFeeds // one step's inputs
	values []float64
	inputs []*sensor.Input
}

var _ recording.Inputs = (*replayInputs)(nil)

// Command implements recording.Inputs, as the loop applies a command.
func (r *replayInputs) Command(kind telemetry.Kind, pop string, values []float64) error {
	return setGenerator(r.b, kind, pop, values)
}

// Tick implements recording.Inputs: every input reads its recorded
// value, as the live tick read its part.
func (r *replayInputs) Tick(values []float64) {
	copy(r.values, values)
	for _, in := range r.inputs {
		in.Read()
	}
}

// Step implements recording.Inputs: one network step as the live tick
// ran it (Daemon.tick).
func (r *replayInputs) Step(s int) error {
	r.feeds.begin()
	for _, in := range r.inputs {
		if err := in.Step(s); err != nil {
			return err
		}
	}
	return r.feeds.run(r.b)
}

// replaySource hands the recorded value to an input.
type replaySource struct{ v *float64 }

var _ sensor.Source = replaySource{}

func (s replaySource) Read() (float64, error) { return *s.v, nil }

// NewReplayer is recording.NewReplayer for a recording the daemon made:
// the replay builds the daemon's encoders and monitors
// (`spikeloop sim --replay` runs it).
func NewReplayer(netData []byte, netName string, r io.Reader, seg int) (*recording.Replayer, error) {
	return recording.NewReplayer(netData, netName, r, seg, replayWiring{})
}

// Replay runs the first segment of a recording the daemon made offline
// against the network file's content (netData; its FNV-1a must match the
// recording's) and returns the spikes the engine recorded, in the order
// the live run's engine recorded them: the same spikes, bit for bit, as
// the live run. ReplaySegment replays another segment.
func Replay(netData []byte, netName string, r io.Reader) ([]apu.Spike, error) {
	return recording.Replay(netData, netName, r, replayWiring{})
}

// ReplaySegment is Replay for segment seg (0 is the first). A segment
// that stops early (cut short, damaged, rows not recorded) returns the
// spikes of the ticks it holds and an error wrapping
// recording.ErrIncomplete that says where it stopped.
func ReplaySegment(netData []byte, netName string, r io.Reader, seg int) ([]apu.Spike, error) {
	return recording.ReplaySegment(netData, netName, r, seg, replayWiring{})
}

// TickSpikes are the spikes the engine recorded during the tick just
// run (valid in an Options.AfterTick hook, until the next tick): the
// live side of a replay comparison.
func (d *Daemon) TickSpikes() []apu.Spike { return d.rec.Spikes }
