package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/models"
)

// A recording (Options.Record) lets a live run be replayed offline, bit
// for bit: it holds everything the network saw from the world. It is a
// msgp stream of
//
//  1. a header map: "format" "spikeloop-record", "version" 1, "network"
//     (name), "network_fnv64" (FNV-1a of the network file's bytes),
//     "dt", "steps_per_tick", "tick_ns", "inputs" (one map per input:
//     name, population, encoder, gain, offset, min, max, max_hz, step,
//     seed — the seed actually used) and "outputs" (the decoded
//     populations, whose spike monitors the daemon adds);
//  2. one array per tick run: [tick, value of input 0, value of input 1,
//     ...], the values handed to the encoders (a failed read already
//     replaced by the safe value);
//  3. a trailer map: "ticks" (rows written), "dropped" (rows lost
//     because the writer fell behind; a recording with drops cannot be
//     replayed).
//
// Skipped ticks have no row: the network did not run for them either.
// Rows go from the loop to the writer goroutine through a bounded queue,
// so the loop never waits for the disk.

const (
	recordFormat  = "spikeloop-record"
	recordVersion = 1
	// maxRecordInputs bounds the inputs of a recorded run, so that a row
	// is a fixed-size value passed without allocation.
	maxRecordInputs = 32
	// recordQueue is about 4 s of rows at 1 kHz.
	recordQueue = 4096
)

type recordRow struct {
	tick int64
	n    int
	v    [maxRecordInputs]float64
}

type recordInput struct {
	InputConfig
	seed uint64
}

type recordHeader struct {
	network      string
	networkHash  uint64
	dt           float64
	stepsPerTick int
	tickNs       int64
	inputs       []recordInput
	outputs      []string
}

// recorder is the loop's side of a recording.
type recorder struct {
	rows    chan recordRow
	dropped int64 // written by the loop only
	done    chan error
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func (d *Daemon) recordHeader() recordHeader {
	h := recordHeader{network: d.cfg.Network, networkHash: fnv64(d.cfg.netData), dt: d.cfg.net.Dt,
		stepsPerTick: d.cfg.steps, tickNs: int64(d.cfg.tick), outputs: d.cfg.outputPops()}
	for i, in := range d.cfg.Inputs {
		h.inputs = append(h.inputs, recordInput{in, inputSeed(d.cfg.net, i, in)})
	}
	return h
}

// startRecord starts the writer goroutine; it writes the header at once.
func (d *Daemon) startRecord(w io.Writer) *recorder {
	r := &recorder{rows: make(chan recordRow, recordQueue), done: make(chan error, 1)}
	h := d.recordHeader()
	go func() {
		bw := bufio.NewWriterSize(w, 64<<10)
		mw := msgp.NewWriter(bw)
		err := writeHeader(mw, h)
		var ticks int64
		for row := range r.rows {
			if err != nil {
				continue // drain; the error is reported once
			}
			err = mw.WriteArrayHeader(uint32(1 + row.n))
			if err == nil {
				err = mw.WriteInt64(row.tick)
			}
			for _, v := range row.v[:row.n] {
				if err == nil {
					err = mw.WriteFloat64(v)
				}
			}
			ticks++
		}
		// The loop has stopped: r.dropped is final (the channel close
		// orders it before this read).
		if err == nil {
			err = mw.WriteMapHeader(2)
		}
		for _, kv := range []struct {
			k string
			v int64
		}{{"ticks", ticks}, {"dropped", r.dropped}} {
			if err == nil {
				err = mw.WriteString(kv.k)
			}
			if err == nil {
				err = mw.WriteInt64(kv.v)
			}
		}
		if err == nil {
			err = mw.Flush()
		}
		if err == nil {
			err = bw.Flush()
		}
		r.done <- err
	}()
	return r
}

// push hands the tick's input values to the writer without blocking.
func (r *recorder) push(tick int64, inputs []*sensor.Input) {
	row := recordRow{tick: tick, n: len(inputs)}
	for i, in := range inputs {
		row.v[i] = in.Value()
	}
	select {
	case r.rows <- row:
	default:
		r.dropped++
	}
}

// finish closes the queue and waits for the writer.
func (r *recorder) finish() error {
	close(r.rows)
	return <-r.done
}

func writeHeader(mw *msgp.Writer, h recordHeader) error {
	w := errWriter{mw: mw}
	w.mapHeader(9)
	w.str("format")
	w.str(recordFormat)
	w.str("version")
	w.int(recordVersion)
	w.str("network")
	w.str(h.network)
	w.str("network_fnv64")
	w.uint(h.networkHash)
	w.str("dt")
	w.float(h.dt)
	w.str("steps_per_tick")
	w.int(int64(h.stepsPerTick))
	w.str("tick_ns")
	w.int(h.tickNs)
	w.str("inputs")
	w.arrayHeader(len(h.inputs))
	for _, in := range h.inputs {
		w.mapHeader(10)
		w.str("name")
		w.str(in.Name)
		w.str("population")
		w.str(in.Population)
		w.str("encoder")
		w.str(in.Encoder)
		for _, f := range []struct {
			k string
			v float64
		}{{"gain", in.Gain}, {"offset", in.Offset}, {"min", in.Min}, {"max", in.Max}, {"max_hz", in.MaxHz}, {"step", in.Step}} {
			w.str(f.k)
			w.float(f.v)
		}
		w.str("seed")
		w.uint(in.seed)
	}
	w.str("outputs")
	w.arrayHeader(len(h.outputs))
	for _, o := range h.outputs {
		w.str(o)
	}
	return w.err
}

// errWriter keeps the first error of a sequence of msgp writes.
type errWriter struct {
	mw  *msgp.Writer
	err error
}

func (w *errWriter) do(f func() error) {
	if w.err == nil {
		w.err = f()
	}
}
func (w *errWriter) mapHeader(n int) { w.do(func() error { return w.mw.WriteMapHeader(uint32(n)) }) }
func (w *errWriter) arrayHeader(n int) {
	w.do(func() error { return w.mw.WriteArrayHeader(uint32(n)) })
}
func (w *errWriter) str(s string)    { w.do(func() error { return w.mw.WriteString(s) }) }
func (w *errWriter) int(i int64)     { w.do(func() error { return w.mw.WriteInt64(i) }) }
func (w *errWriter) uint(u uint64)   { w.do(func() error { return w.mw.WriteUint64(u) }) }
func (w *errWriter) float(f float64) { w.do(func() error { return w.mw.WriteFloat64(f) }) }

// ErrRecord is wrapped by every error about a recording's content.
var ErrRecord = errors.New("recording")

func readHeader(mr *msgp.Reader) (recordHeader, error) {
	var h recordHeader
	n, err := mr.ReadMapHeader()
	if err != nil {
		return h, fmt.Errorf("%w: header: %w", ErrRecord, err)
	}
	seen := map[string]bool{}
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return h, fmt.Errorf("%w: header: %w", ErrRecord, err)
		}
		seen[key] = true
		switch key {
		case "format":
			var f string
			if f, err = mr.ReadString(); err == nil && f != recordFormat {
				err = fmt.Errorf("format %q, want %q", f, recordFormat)
			}
		case "version":
			var v int64
			if v, err = mr.ReadInt64(); err == nil && v != recordVersion {
				err = fmt.Errorf("version %d, this build reads %d", v, recordVersion)
			}
		case "network":
			h.network, err = mr.ReadString()
		case "network_fnv64":
			h.networkHash, err = mr.ReadUint64()
		case "dt":
			h.dt, err = mr.ReadFloat64()
		case "steps_per_tick":
			var v int64
			v, err = mr.ReadInt64()
			h.stepsPerTick = int(v)
		case "tick_ns":
			h.tickNs, err = mr.ReadInt64()
		case "inputs":
			h.inputs, err = readInputs(mr)
		case "outputs":
			var m uint32
			if m, err = mr.ReadArrayHeader(); err == nil {
				for ; m > 0 && err == nil; m-- {
					var s string
					s, err = mr.ReadString()
					h.outputs = append(h.outputs, s)
				}
			}
		default:
			err = mr.Skip() // a later version's field
		}
		if err != nil {
			return h, fmt.Errorf("%w: header %q: %w", ErrRecord, key, err)
		}
	}
	for _, k := range []string{"format", "version", "network_fnv64", "dt", "steps_per_tick", "inputs"} {
		if !seen[k] {
			return h, fmt.Errorf("%w: header lacks %q", ErrRecord, k)
		}
	}
	if h.stepsPerTick < 1 || len(h.inputs) > maxRecordInputs {
		return h, fmt.Errorf("%w: header: %d steps per tick, %d inputs", ErrRecord, h.stepsPerTick, len(h.inputs))
	}
	return h, nil
}

func readInputs(mr *msgp.Reader) ([]recordInput, error) {
	n, err := mr.ReadArrayHeader()
	if err != nil {
		return nil, err
	}
	var ins []recordInput
	for ; n > 0; n-- {
		var in recordInput
		m, err := mr.ReadMapHeader()
		if err != nil {
			return nil, err
		}
		for ; m > 0; m-- {
			key, err := mr.ReadString()
			if err != nil {
				return nil, err
			}
			switch key {
			case "name":
				in.Name, err = mr.ReadString()
			case "population":
				in.Population, err = mr.ReadString()
			case "encoder":
				in.Encoder, err = mr.ReadString()
			case "gain":
				in.Gain, err = mr.ReadFloat64()
			case "offset":
				in.Offset, err = mr.ReadFloat64()
			case "min":
				in.Min, err = mr.ReadFloat64()
			case "max":
				in.Max, err = mr.ReadFloat64()
			case "max_hz":
				in.MaxHz, err = mr.ReadFloat64()
			case "step":
				in.Step, err = mr.ReadFloat64()
			case "seed":
				in.seed, err = mr.ReadUint64()
			default:
				err = mr.Skip()
			}
			if err != nil {
				return nil, fmt.Errorf("input %d %q: %w", len(ins), key, err)
			}
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// short explains an end of file in the middle of a recording.
func short(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the recording is cut short (the daemon did not stop cleanly?)", err)
	}
	return err
}

// replaySource hands the recorded value to an input.
type replaySource struct{ v *float64 }

func (s replaySource) Read() (float64, error) { return *s.v, nil }

// Replay runs a recording offline against the network file's content
// (netData; its FNV-1a must match the recording's) and returns the
// spikes the engine recorded, in the order the live run's engine
// recorded them: the same spikes, bit for bit, as the live run.
func Replay(netData []byte, netName string, r io.Reader) ([]apu.Spike, error) {
	mr := msgp.NewReader(r)
	h, err := readHeader(mr)
	if err != nil {
		return nil, err
	}
	if got := fnv64(netData); got != h.networkHash {
		return nil, fmt.Errorf("%w: network %s is not the one recorded (%s): FNV-1a %016x, recorded %016x", ErrRecord, netName, h.network, got, h.networkHash)
	}
	net, err := models.Load(netData, netName, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if net.Dt != h.dt {
		return nil, fmt.Errorf("%w: dt %g, recorded %g", ErrRecord, net.Dt, h.dt)
	}
	addSpikeMonitors(net, h.outputs)
	engine := cpu.New()
	if err := engine.Load(net); err != nil {
		return nil, err
	}
	var rec apu.Record
	engine.Drain(&rec)

	values := make([]float64, len(h.inputs))
	inputs := make([]*sensor.Input, len(h.inputs))
	for i, in := range h.inputs {
		enc, err := newEncoder(engine, net, h.stepsPerTick, in.InputConfig, in.seed)
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %w", ErrRecord, in.Name, err)
		}
		if inputs[i], err = sensor.NewInput(in.Name, replaySource{&values[i]}, enc, 0); err != nil {
			return nil, err
		}
	}

	var spikes []apu.Spike
	var rows int64
	for {
		t, err := mr.NextType()
		if err != nil {
			return nil, fmt.Errorf("%w: after %d ticks: %w", ErrRecord, rows, short(err))
		}
		if t == msgp.MapType {
			break // the trailer
		}
		n, err := mr.ReadArrayHeader()
		if err != nil {
			return nil, fmt.Errorf("%w: tick row %d: %w", ErrRecord, rows, short(err))
		}
		if int(n) != 1+len(inputs) {
			return nil, fmt.Errorf("%w: tick row %d: %d fields, want %d", ErrRecord, rows, n, 1+len(inputs))
		}
		if _, err := mr.ReadInt64(); err != nil {
			return nil, fmt.Errorf("%w: tick row %d: %w", ErrRecord, rows, short(err))
		}
		for i := range values {
			if values[i], err = mr.ReadFloat64(); err != nil {
				return nil, fmt.Errorf("%w: tick row %d: %w", ErrRecord, rows, short(err))
			}
		}
		// The live tick, step for step (Daemon.tick).
		for _, in := range inputs {
			in.Read()
		}
		for s := 0; s < h.stepsPerTick; s++ {
			for _, in := range inputs {
				if err := in.Step(s); err != nil {
					return nil, err
				}
			}
			if err := engine.Advance(1); err != nil {
				return nil, err
			}
		}
		engine.Drain(&rec)
		spikes = append(spikes, rec.Spikes...)
		rows++
	}
	n, err := mr.ReadMapHeader()
	if err != nil {
		return nil, fmt.Errorf("%w: trailer: %w", ErrRecord, err)
	}
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return nil, fmt.Errorf("%w: trailer: %w", ErrRecord, err)
		}
		v, err := mr.ReadInt64()
		if err != nil {
			return nil, fmt.Errorf("%w: trailer %q: %w", ErrRecord, key, err)
		}
		switch {
		case key == "dropped" && v != 0:
			return nil, fmt.Errorf("%w: %d ticks were dropped while recording (the disk was too slow); it cannot be replayed", ErrRecord, v)
		case key == "ticks" && v != rows:
			return nil, fmt.Errorf("%w: %d tick rows, the trailer says %d", ErrRecord, rows, v)
		}
	}
	return spikes, nil
}
