package daemon

import (
	"fmt"
	"math"
	"strings"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/actuator"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/models"
)

// The encoders and decoders a config can name, each in one place: how
// the config's check takes an entry of it, how the loop (and a replay)
// builds it, and how `spikeloop check` describes it. Adding one is
// adding an entry to encoders or decoders (and its name to the list),
// not a case to several switches. The tables are never changed.

// encoderKind is one value of an input's encoder.
type encoderKind struct {
	// check adds the problems of input in (field f) to k; ps is its
	// population (nil when unknown: already reported).
	check func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec)
	// build makes the encoder of in into ps.
	build func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error)
	// settings describes in's settings for check's summary.
	settings func(c *Config, in InputConfig) string
}

// encoderEnv is what an encoder is built into.
type encoderEnv struct {
	b     apu.Backend
	feeds *tickFeeds
	net   *models.Network
	steps int    // network steps per tick
	seed  uint64 // the input's seed (inputSeed)
}

// encoderNames lists the encoders in the order messages name them.
var encoderNames = []string{"current", "rate", "delta", "dc", "custom", "file"}

var encoders = map[string]encoderKind{
	"current": {
		check: func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
			if it, _ := modelOf[*models.InputTransmitter](ps); ps != nil && (it == nil || !it.Current()) {
				k.add(f+".population", ErrMismatch, "must be an InputTransmitter with inputs_type current for the current encoder, got %q (class %s)", ps.Name, ps.Class.Name)
			}
			c.checkClamp(k, f, in)
		},
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			return sensor.NewCurrent(e.feeds, in.Population, ps.Size, linear(in))
		},
		settings: clampSettings,
	},
	"rate": {
		check: func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
			checkSpikeInput(k, f, in, ps)
			if c.net != nil && in.MaxHz != 0 && (!(in.MaxHz > 0) || in.MaxHz > 1000/c.net.Dt) {
				k.add(f+".max_hz", ErrRange, "must be in (0, %g] (one spike per step of dt %g ms), got %v", 1000/c.net.Dt, c.net.Dt, in.MaxHz)
			}
		},
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			maxHz := in.MaxHz
			if maxHz == 0 {
				maxHz = 1000 / e.net.Dt
			}
			return sensor.NewRate(e.feeds, in.Population, ps.Size, in.Gain, maxHz, e.net.Dt, e.seed)
		},
		settings: func(_ *Config, in InputConfig) string { return fmt.Sprintf(" %g Hz per unit of value", in.Gain) },
	},
	"delta": {
		check: func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
			checkSpikeInput(k, f, in, ps)
			if !(in.Step > 0) || math.IsInf(in.Step, 0) {
				k.add(f+".step", ErrRange, "must be the change per spike, > 0, got %v", in.Step)
			}
			if ps != nil && ps.Size != 2 {
				k.add(f+".population", ErrMismatch, "must have 2 units (up, down) for the delta encoder, got %q of %d units", ps.Name, ps.Size)
			}
		},
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			return sensor.NewDelta(e.feeds, in.Population, in.Step, e.steps)
		},
		settings: func(_ *Config, in InputConfig) string { return fmt.Sprintf(" step %g", in.Step) },
	},
	"dc": {
		check: func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
			if _, ok := modelOf[*models.DCGenerator](ps); ps != nil && !ok {
				k.add(f+".population", ErrMismatch, "must be a DCGenerator for the dc encoder, got %q (class %s)", ps.Name, ps.Class.Name)
			}
			c.checkClamp(k, f, in)
		},
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			if _, ok := ps.Model.(*models.DCGenerator); !ok {
				return nil, fmt.Errorf("population: must be a DCGenerator, got %q", in.Population)
			}
			return sensor.NewDC(dcSetter{e.b, in.Population}, linear(in))
		},
		settings: clampSettings,
	},
	"custom": {
		check: func(c *Config, k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
			if _, ok := modelOf[*models.CustomGenerator](ps); ps != nil && !ok {
				k.add(f+".population", ErrMismatch, "must be a CustomGenerator for the custom encoder, got %q (class %s)", ps.Name, ps.Class.Name)
			}
			c.checkClamp(k, f, in)
			if in.Min < 0 {
				k.add(f+".min", ErrRange, "must be >= 0 (the custom encoder gives spike values), got %v", in.Min)
			}
		},
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			if _, ok := ps.Model.(*models.CustomGenerator); !ok {
				return nil, fmt.Errorf("population: must be a CustomGenerator, got %q", in.Population)
			}
			return sensor.NewCustom(&customSetter{b: e.b, pop: in.Population}, e.b, ps.Size, e.steps, linear(in))
		},
		settings: clampSettings,
	},
	"file": {
		check: func(*Config, *checker, string, InputConfig, *models.PopulationSpec) {}, // checkFileInput, for every input
		build: func(e encoderEnv, in InputConfig, ps *models.PopulationSpec) (sensor.Encoder, error) {
			return newFileEncoder(e.feeds, ps, in)
		},
		settings: func(c *Config, in InputConfig) string { return c.fileSummary(in) },
	},
}

func linear(in InputConfig) sensor.Linear {
	return sensor.Linear{Gain: in.Gain, Offset: in.Offset, Min: in.Min, Max: in.Max}
}

func clampSettings(_ *Config, in InputConfig) string {
	return fmt.Sprintf(" %g*value%+g clamped to [%g, %g]", in.Gain, in.Offset, in.Min, in.Max)
}

// checkSpikeInput: the rate and delta encoders feed spikes.
func checkSpikeInput(k *checker, f string, in InputConfig, ps *models.PopulationSpec) {
	if it, _ := modelOf[*models.InputTransmitter](ps); ps != nil && (it == nil || it.Current()) {
		k.add(f+".population", ErrMismatch, "must be an InputTransmitter with inputs_type spike for the %s encoder, got %q (class %s)", in.Encoder, ps.Name, ps.Class.Name)
	}
}

// decoderKind is one value of an output's decoder.
type decoderKind struct {
	parts []string // the kinds of board part it drives
	// check adds the problems of output o (field f) to k.
	check func(c *Config, k *checker, f string, o OutputConfig)
	// build makes the decoder of o from population ps.
	build func(d *Daemon, o OutputConfig, ps *models.PopulationSpec) (actuator.Decoder, error)
	// settings describes o's settings for check's summary.
	settings func(c *Config, o OutputConfig) string
}

// decoderNames lists the decoders in the order messages name them.
var decoderNames = []string{"pulse", "rate", "vector"}

var decoders = map[string]decoderKind{
	"pulse": {
		parts: []string{partOut},
		check: func(c *Config, k *checker, f string, o OutputConfig) { c.ticksOf(k, f+".width", o.Width) },
		build: func(d *Daemon, o OutputConfig, ps *models.PopulationSpec) (actuator.Decoder, error) {
			out, err := d.board.DigitalOut(o.Part)
			if err != nil {
				return nil, err
			}
			return actuator.NewPulse(out, out.Safe(), d.cfg.ticksOf(&checker{c: d.cfg}, "width", o.Width))
		},
		settings: func(c *Config, o OutputConfig) string { return " width " + orDefault(o.Width, c.tick.String()) },
	},
	"rate": {
		parts: []string{partPWM},
		check: func(c *Config, k *checker, f string, o OutputConfig) {
			c.ticksOf(k, f+".window", o.Window)
			lo, hi := dutyRange(o)
			if !(0 <= lo && lo <= hi && hi <= 1) {
				k.add(f+".min", ErrRange, "must be 0 <= min <= max <= 1, got min %v, max %v", lo, hi)
			}
			if !(0 <= o.Safe && o.Safe <= 1) {
				k.add(f+".safe", ErrRange, "must be a duty in [0, 1], got %v", o.Safe)
			}
		},
		build: func(d *Daemon, o OutputConfig, ps *models.PopulationSpec) (actuator.Decoder, error) {
			out, err := d.board.PWM(o.Part)
			if err != nil {
				return nil, err
			}
			lo, hi := dutyRange(o)
			return actuator.NewRate(out, actuator.RateConfig{Size: ps.Size, Window: d.cfg.ticksOf(&checker{c: d.cfg}, "window", o.Window),
				Tick: d.cfg.tick.Seconds(), Gain: o.Gain, Min: lo, Max: hi, Safe: o.Safe})
		},
		settings: func(c *Config, o OutputConfig) string {
			lo, hi := dutyRange(o)
			return fmt.Sprintf(" window %s, %g duty per Hz in [%g, %g]", orDefault(o.Window, c.tick.String()), o.Gain, lo, hi)
		},
	},
	"vector": {
		parts: []string{partDAC},
		check: func(c *Config, k *checker, f string, o OutputConfig) { c.ticksOf(k, f+".window", o.Window) },
		build: func(d *Daemon, o OutputConfig, ps *models.PopulationSpec) (actuator.Decoder, error) {
			out, err := d.board.DAC(o.Part)
			if err != nil {
				return nil, err
			}
			return actuator.NewVector(out, actuator.VectorConfig{Size: ps.Size, Window: d.cfg.ticksOf(&checker{c: d.cfg}, "window", o.Window),
				From: o.From, To: o.To, Safe: o.Safe})
		},
		settings: func(c *Config, o OutputConfig) string {
			return fmt.Sprintf(" window %s, %g..%g V", orDefault(o.Window, c.tick.String()), o.From, o.To)
		},
	},
}

// dutyRange is a rate output's duty range (default [0, 1]).
func dutyRange(o OutputConfig) (lo, hi float64) {
	lo, hi = 0, 1
	if o.Min != nil {
		lo = *o.Min
	}
	if o.Max != nil {
		hi = *o.Max
	}
	return lo, hi
}

// oneOf lists names for a message: "a", "b" or "c".
func oneOf(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
