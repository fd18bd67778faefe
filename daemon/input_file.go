package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/recording"
)

// File inputs (encoder "file"): an InputTransmitter fed from a .npy or
// .csv file, row k in network step k, read and shaped as `spikeloop sim
// --input` reads it (models.ReadInputFile's formats,
// models.InputTransmitter.Trials' shapes). The daemon runs one network,
// so a file holding a batch of more than one feeds the element that
// batch_index picks; without it the config is refused with the way to
// choose one (or to run the whole batch offline). The whole element is
// read when the config is loaded, so a file that cannot be read or has
// the wrong shape fails the check, not the loop.
//
// The input's value, which a recording keeps like a sensor's reading, is
// the number of the tick's first network step (sensor.StepSource): the
// rows themselves are written once, into the recording's header, so a
// replay needs neither the file nor a row per step per tick.

// The at_end choices.
const (
	atEndStop   = "stop"   // the loop stops before a tick that starts past the last row
	atEndRepeat = "repeat" // row k mod T
	atEndZeros  = "zeros"  // no input after the last row; the loop runs on
)

// maxFileValues bounds the values (rows times units) of a file input:
// they are kept in memory and written whole into a recording's header,
// which must stay below maxChunk.
const maxFileValues = recording.MaxFileValues

// inputFiles is what the config keeps of its file inputs.
type inputFiles struct {
	// data are the files' contents by path, so that Clone (a reload's
	// fallback, a check's dry run) gives the rows the check saw.
	data map[string][]byte
	// stopAt is the network step at which the first file input with
	// at_end stop has no row left; 0: none.
	stopAt int64
}

// errInputEnded stops the loop normally: a file input with at_end stop
// has no rows left.
var errInputEnded = errors.New("a file input with at_end stop has no rows left")

// inputPath is the path of a file input's file: relative to the
// config's folder, as the network file is.
func (c *Config) inputPath(file string) string {
	if filepath.IsAbs(file) || c.file == "" {
		return file
	}
	return filepath.Join(filepath.Dir(c.file), file)
}

// checkFileInput checks input i: for encoder file, its file (read and
// split into rows here), its shape against the population and its
// batch; for the other encoders, that no file field is set.
func (c *Config) checkFileInput(k *checker, i int, ps *models.PopulationSpec) {
	in := &c.Inputs[i]
	f := "inputs[" + strconv.Itoa(i) + "]"
	if in.Encoder != "file" {
		if in.File != "" || in.AtEnd != "" || in.BatchIndex != nil {
			field := ".file"
			switch {
			case in.File != "":
			case in.AtEnd != "":
				field = ".at_end"
			default:
				field = ".batch_index"
			}
			k.add(f+field, ErrInvalid, "set with encoder %q; file, at_end and batch_index belong to encoder file", in.Encoder)
		}
		return
	}
	if in.Part != "" {
		k.add(f+".part", ErrInvalid, "%q; encoder file reads no board part: leave part out", in.Part)
	}
	// The file's values go to the network as they are, as with spikeloop
	// sim --input; a scaling field would be silently ignored.
	for _, u := range []struct {
		name string
		set  bool
	}{{"gain", in.Gain != 0}, {"offset", in.Offset != 0}, {"min", in.Min != 0}, {"max", in.Max != 0},
		{"max_hz", in.MaxHz != 0}, {"step", in.Step != 0}, {"seed", in.Seed != 0}, {"safe", in.Safe != 0}} {
		if u.set {
			k.add(f+"."+u.name, ErrInvalid, "set with encoder file, which feeds the file's values as they are (as spikeloop sim --input does); leave %s out", u.name)
		}
	}
	switch in.AtEnd {
	case "", atEndStop, atEndRepeat, atEndZeros:
	default:
		k.add(f+".at_end", ErrInvalid, `must be "stop" (default), "repeat" or "zeros", got %q`, in.AtEnd)
	}
	var it *models.InputTransmitter
	if ps != nil {
		var ok bool
		if it, ok = ps.Model.(*models.InputTransmitter); !ok {
			k.add(f+".population", ErrMismatch, "must be an InputTransmitter for encoder file, got %q (class %s)", ps.Name, ps.Class.Name)
		}
	}
	if in.File == "" {
		k.add(f+".file", ErrRequired, "must be the path of a .npy or .csv file with encoder file, got nothing")
		return
	}
	path := c.inputPath(in.File)
	data, ok := c.files.data[path]
	if !ok {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			k.add(f+".file", ErrNotFound, "%q: %s (looked for %s)", in.File, fileProblem(err), path)
			return
		}
		if c.files.data == nil {
			c.files.data = map[string][]byte{}
		}
		c.files.data[path] = data
	}
	a, err := models.ParseInputFile(path, data)
	if err != nil {
		k.add(f+".file", ErrInvalid, "%v", err)
		return
	}
	if it == nil {
		return // the population's own error is reported
	}
	trials, err := it.Trials(a.Shape, a.Data)
	if err != nil {
		k.add(f+".file", ErrMismatch, "%q for population %q of %d units: %v", in.File, ps.Name, ps.Size, err)
		return
	}
	b := 0
	switch {
	case in.BatchIndex != nil:
		if b = *in.BatchIndex; b < 0 || b >= len(trials) {
			k.add(f+".batch_index", ErrRange, "must be 0..%d (%q, shape %v, holds a batch of %d), got %d", len(trials)-1, in.File, a.Shape, len(trials), b)
			return
		}
	case len(trials) > 1:
		k.add(f+".file", ErrMismatch, "%q has shape %v, read as %s: a batch of %d; the daemon runs one network: "+
			"set batch_index (0..%d) to feed one element, or run the whole batch offline with spikeloop sim --input %s=FILE (one trial per element)",
			in.File, a.Shape, it.BatchLayout(), len(trials), len(trials)-1, ps.Name)
		return
	}
	rows := trials[b]
	switch {
	case len(rows) == 0:
		k.add(f+".file", ErrInvalid, "must have at least one row (step), got %q of shape %v", in.File, a.Shape)
		return
	case len(rows)*ps.Size > maxFileValues:
		k.add(f+".file", ErrRange, "must hold at most %d values in all (split the file), got %q of %d rows of %d values", maxFileValues, in.File, len(rows), ps.Size)
		return
	}
	in.rows = rows
	if in.AtEnd == "" || in.AtEnd == atEndStop {
		if n := int64(len(rows)); c.files.stopAt == 0 || n < c.files.stopAt {
			c.files.stopAt = n
		}
	}
}

// newFileEncoder is newEncoder's encoder file: the rows checked (or
// recorded) for the input.
func newFileEncoder(feeds *tickFeeds, ps *models.PopulationSpec, in InputConfig) (sensor.Encoder, error) {
	if _, ok := ps.Model.(*models.InputTransmitter); !ok {
		return nil, fmt.Errorf("population %q is not an InputTransmitter", in.Population)
	}
	return sensor.NewSeries(feeds, in.Population, ps.Size, in.rows, in.AtEnd == atEndRepeat)
}

// inputSource is input in's source: a board part, or the engine's step
// count for a file input.
func (d *Daemon) inputSource(in InputConfig) (sensor.Source, error) {
	if in.Encoder == "file" {
		return sensor.StepSource{Now: d.backend}, nil
	}
	return d.source(in.Part)
}

// inputEnded tells whether a file input with at_end stop has no rows
// left for the tick about to run (errInputEnded), and logs it once.
func (d *Daemon) inputEnded() error {
	if at := d.cfg.files.stopAt; at == 0 || d.backend.Now() < at {
		return nil
	}
	d.log.Info().Int64("steps", d.backend.Now()).Msg("file input ended (at_end: stop): the loop stops")
	return errInputEnded
}

// fileSummary describes a checked file input for CheckConfig.
func (c *Config) fileSummary(in InputConfig) string {
	units := 0
	if len(in.rows) > 0 {
		units = len(in.rows[0])
	}
	s := fmt.Sprintf("file: %d rows of %d values, one per network step (%g ms)", len(in.rows), units, float64(len(in.rows))*c.net.Dt)
	if in.BatchIndex != nil {
		s += fmt.Sprintf(", batch element %d", *in.BatchIndex)
	}
	switch in.AtEnd {
	case "", atEndStop:
		s += "; then the loop stops"
	case atEndRepeat:
		s += "; then again from row 0"
	case atEndZeros:
		s += "; then zeros"
	}
	return s
}
