package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// A recording (Options.Record) lets a live run be replayed offline, bit
// for bit: it holds everything the network saw from the world. It is a
// msgp stream of
//
//  1. a header map: "format" "spikeloop-record", "version" 2, "network"
//     (name), "network_fnv64" (FNV-1a of the network file's bytes),
//     "dt", "steps_per_tick", "tick_ns", "inputs" (one map per input:
//     name, population, encoder, gain, offset, min, max, max_hz, step,
//     seed — the seed actually used) and "outputs" (the decoded
//     populations, whose spike monitors the daemon adds);
//  2. one array per tick run: [tick, value of input 0, value of input 1,
//     ...], the values handed to the encoders (a failed read already
//     replaced by the safe value); before it, one array per generator
//     setting a command applied at the start of that tick: [tick, kind
//     ("dc_amplitude", "poisson_rate", "bernoulli_prob"), population,
//     [values]] (told apart from a tick row by its second field, a
//     string);
//  3. a trailer map: "ticks" (rows written), "dropped" (rows lost
//     because the writer fell behind; a recording with drops cannot be
//     replayed).
//
// Skipped ticks have no row: the network did not run for them either.
// Rows go from the loop to the writer goroutine through a bounded queue,
// so the loop never waits for the disk.

const (
	recordFormat  = "spikeloop-record"
	recordVersion = 2
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
	cmd  *ctlRequest // not nil: a command row, not a tick row
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
	rows    *handoff[recordRow]
	dropped int64         // written by the loop only
	stop    chan struct{} // closed by finish: the loop has stopped
	done    chan error
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func (d *Daemon) recordHeader() recordHeader {
	h := recordHeader{network: d.cfg.Network, networkHash: fnv64(d.cfg.netData), dt: d.cfg.net.Dt,
		stepsPerTick: d.cfg.steps, tickNs: int64(d.cfg.tick), outputs: d.spikePops}
	for i, in := range d.cfg.Inputs {
		h.inputs = append(h.inputs, recordInput{in, inputSeed(d.cfg.net, i, in)})
	}
	return h
}

// startRecord starts the writer goroutine; it writes the header at once.
func (d *Daemon) startRecord(w io.Writer) *recorder {
	r := &recorder{rows: newHandoff[recordRow](recordQueue), stop: make(chan struct{}), done: make(chan error, 1)}
	h := d.recordHeader()
	go func() {
		bw := bufio.NewWriterSize(w, 64<<10)
		mw := msgp.NewWriter(bw)
		err := writeHeader(mw, h)
		var ticks int64
		poll := time.NewTicker(handoffPoll)
		defer poll.Stop()
		var row recordRow
		for stopped := false; !stopped; {
			select {
			case <-r.stop:
				stopped = true // write what is left, then the trailer
			case <-poll.C:
			}
			for r.rows.pop(&row) && err == nil {
				err = writeRow(mw, &row)
				if row.cmd == nil {
					ticks++
				}
			}
		}
		// The loop has stopped: r.dropped is final (closing stop orders
		// it before this read).
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

// writeRow writes a tick row or a command row.
func writeRow(mw *msgp.Writer, row *recordRow) error {
	w := errWriter{mw: mw}
	if c := row.cmd; c != nil {
		w.arrayHeader(4)
		w.int(row.tick)
		w.str(string(c.kind))
		w.str(c.pop)
		w.arrayHeader(len(c.values))
		for _, v := range c.values {
			w.float(v)
		}
		return w.err
	}
	w.arrayHeader(1 + row.n)
	w.int(row.tick)
	for _, v := range row.v[:row.n] {
		w.float(v)
	}
	return w.err
}

// push hands the tick's input values to the writer without blocking.
func (r *recorder) push(tick int64, inputs []*sensor.Input) {
	row := recordRow{tick: tick, n: len(inputs)}
	for i, in := range inputs {
		row.v[i] = in.Value()
	}
	if !r.rows.push(&row) {
		r.dropped++
	}
}

// command records a generator setting applied at the start of tick. A
// command row that finds the queue full is counted as dropped like a
// tick row: the recording then refuses to replay rather than replay
// without it.
func (r *recorder) command(tick int64, c *ctlRequest) {
	row := recordRow{tick: tick, cmd: c}
	if !r.rows.push(&row) {
		r.dropped++
	}
}

// finish tells the writer the loop has stopped and waits for it.
func (r *recorder) finish() error {
	close(r.stop)
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
		return h, fmt.Errorf("header: %w", short(err))
	}
	seen := map[string]bool{}
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return h, fmt.Errorf("header: %w", short(err))
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
			// Version 2 added command rows; a version 1 file has none.
			if v, err = mr.ReadInt64(); err == nil && (v < 1 || v > recordVersion) {
				err = fmt.Errorf("version %d, this build reads 1..%d", v, recordVersion)
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
			return h, fmt.Errorf("header %q: %w", key, short(err))
		}
	}
	for _, k := range []string{"format", "version", "network_fnv64", "dt", "steps_per_tick", "inputs"} {
		if !seen[k] {
			return h, fmt.Errorf("header lacks %q", k)
		}
	}
	if h.stepsPerTick < 1 || len(h.inputs) > maxRecordInputs {
		return h, fmt.Errorf("header: %d steps per tick, %d inputs", h.stepsPerTick, len(h.inputs))
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

// maxRecordString bounds every string of a recording (names, kinds): a
// damaged length must not make the reader allocate gigabytes
// (FuzzScanRecording found that).
const maxRecordString = 64 << 10

func newRecordReader(r io.Reader) *msgp.Reader {
	mr := msgp.NewReader(r)
	mr.SetMaxStringLength(maxRecordString)
	return mr
}

// short explains an end of file in the middle of a recording.
func short(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the recording is cut short (the daemon did not stop cleanly?)", err)
	}
	return err
}

// recErr wraps an error about segment seg (0-based) of a recording. A
// single-run recording's messages do not talk about segments.
func recErr(seg int, err error) error {
	if seg == 0 {
		return fmt.Errorf("%w: %w", ErrRecord, err)
	}
	return fmt.Errorf("%w: segment %d: %w", ErrRecord, seg+1, err)
}

// RecordSegment describes one run of a recording. A recording holds one
// segment per run written to it: under Serve (`spikeloop run`) the first
// run and each run a reload (SIGHUP) starts append their own segment,
// with its own header, so a reload may change the network.
type RecordSegment struct {
	Network      string        // the network file, as the config named it
	NetworkHash  uint64        // FNV-1a of the network file's bytes
	Dt           float64       // ms
	StepsPerTick int           // network steps per tick
	Tick         time.Duration // the control period
	Inputs       []string      // input names, in row order
	Outputs      []string      // the decoded populations
	Ticks        int64         // tick rows (ticks the network ran)
	Commands     int64         // generator settings applied by commands
	Dropped      int64         // rows lost while recording; > 0: cannot be replayed
}

// Steps is the number of network steps the segment's ticks ran.
func (s RecordSegment) Steps() int64 { return s.Ticks * int64(s.StepsPerTick) }

// Duration is the loop time the segment's rows cover (skipped ticks,
// which have no row, are not counted: the network did not run for
// them).
func (s RecordSegment) Duration() time.Duration { return time.Duration(s.Ticks) * s.Tick }

// ScanRecording reads a whole recording and returns its segments in
// order. It checks the framing of every segment (header, tick rows of
// the header's width, trailer whose tick count matches the rows); an
// error wraps ErrRecord and says where the recording is broken.
func ScanRecording(r io.Reader) ([]RecordSegment, error) {
	mr := newRecordReader(r)
	var segs []RecordSegment
	for i := 0; ; i++ {
		if _, err := mr.NextType(); err != nil {
			switch {
			case i > 0 && errors.Is(err, io.EOF):
				return segs, nil
			case errors.Is(err, io.EOF):
				return nil, fmt.Errorf("%w: the file is empty", ErrRecord)
			}
			return nil, recErr(i, fmt.Errorf("header: %w", err))
		}
		h, err := readHeader(mr)
		if err != nil {
			return nil, recErr(i, err)
		}
		seg := RecordSegment{Network: h.network, NetworkHash: h.networkHash, Dt: h.dt, StepsPerTick: h.stepsPerTick,
			Tick: time.Duration(h.tickNs), Outputs: h.outputs}
		if seg.Tick <= 0 {
			seg.Tick = time.Duration(math.Round(float64(h.stepsPerTick) * h.dt * 1e6))
		}
		for _, in := range h.inputs {
			seg.Inputs = append(seg.Inputs, in.Name)
		}
		values := make([]float64, len(h.inputs))
		for {
			more, err := readRow(mr, seg.Ticks, values, func(recordCmd) error { seg.Commands++; return nil })
			if err != nil {
				return nil, recErr(i, err)
			}
			if !more {
				break
			}
			seg.Ticks++
		}
		if seg.Dropped, err = readTrailer(mr, seg.Ticks); err != nil {
			return nil, recErr(i, err)
		}
		segs = append(segs, seg)
	}
}

// recordCmd is a command row.
type recordCmd struct {
	kind   telemetry.Kind
	pop    string
	values []float64
}

// maxRecordValues bounds a command row's values (a generator's size is
// bounded by the network loader's limits; this keeps a corrupt file from
// asking for a huge slice).
const maxRecordValues = 1 << 24

// readRow reads tick row number row into values (whose length is the
// header's input count), handing the command rows before it to onCmd;
// at the trailer it returns false and leaves the trailer unread.
func readRow(mr *msgp.Reader, row int64, values []float64, onCmd func(recordCmd) error) (bool, error) {
	for {
		t, err := mr.NextType()
		if err != nil {
			return false, fmt.Errorf("after %d ticks: %w", row, short(err))
		}
		if t == msgp.MapType {
			return false, nil
		}
		n, err := mr.ReadArrayHeader()
		if err != nil {
			return false, fmt.Errorf("tick row %d: %w", row, short(err))
		}
		if _, err := mr.ReadInt64(); err != nil {
			return false, fmt.Errorf("tick row %d: %w", row, short(err))
		}
		if t, err := mr.NextType(); err == nil && t == msgp.StrType {
			c, err := readCommand(mr, n)
			if err != nil {
				return false, fmt.Errorf("command before tick row %d: %w", row, short(err))
			}
			if err := onCmd(c); err != nil {
				return false, fmt.Errorf("command before tick row %d: %w", row, err)
			}
			continue
		}
		if int(n) != 1+len(values) {
			return false, fmt.Errorf("tick row %d: %d fields, want %d (the tick and %d inputs)", row, n, 1+len(values), len(values))
		}
		break
	}
	var err error
	for i := range values {
		if values[i], err = mr.ReadFloat64(); err != nil {
			return false, fmt.Errorf("tick row %d, input %d: %w", row, i, short(err))
		}
	}
	return true, nil
}

// readCommand reads the rest of a command row of n fields (the tick is
// read).
func readCommand(mr *msgp.Reader, n uint32) (recordCmd, error) {
	var c recordCmd
	if n != 4 {
		return c, fmt.Errorf("%d fields, want 4 (tick, kind, population, values)", n)
	}
	kind, err := mr.ReadString()
	if err != nil {
		return c, err
	}
	c.kind = telemetry.Kind(kind)
	switch c.kind {
	case telemetry.KindDCAmplitude, telemetry.KindPoissonRate, telemetry.KindBernoulliProb:
	default:
		return c, fmt.Errorf("kind %q is not a generator setting", kind)
	}
	if c.pop, err = mr.ReadString(); err != nil {
		return c, err
	}
	m, err := mr.ReadArrayHeader()
	if err != nil {
		return c, err
	}
	if m == 0 || m > maxRecordValues {
		return c, fmt.Errorf("%d values", m)
	}
	// Grown as read, not sized by the count: a damaged count must not
	// allocate more than the file holds.
	for ; m > 0; m-- {
		v, err := mr.ReadFloat64()
		if err != nil {
			return c, err
		}
		c.values = append(c.values, v)
	}
	return c, nil
}

// readTrailer reads a segment's trailer after rows tick rows and
// returns its count of dropped rows.
func readTrailer(mr *msgp.Reader, rows int64) (dropped int64, err error) {
	n, err := mr.ReadMapHeader()
	if err != nil {
		return 0, fmt.Errorf("trailer: %w", short(err))
	}
	sawTicks := false
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return 0, fmt.Errorf("trailer: %w", short(err))
		}
		var v int64
		switch key {
		case "ticks", "dropped":
			v, err = mr.ReadInt64()
		default:
			err = mr.Skip() // a later version's field
		}
		if err != nil {
			return 0, fmt.Errorf("trailer %q: %w", key, short(err))
		}
		switch key {
		case "ticks":
			sawTicks = true
			if v != rows {
				return 0, fmt.Errorf("%d tick rows, the trailer says %d", rows, v)
			}
		case "dropped":
			if v < 0 {
				return 0, fmt.Errorf("trailer: %d dropped rows", v)
			}
			dropped = v
		}
	}
	if !sawTicks {
		return 0, errors.New(`trailer lacks "ticks"`)
	}
	return dropped, nil
}

// skipSegment reads one whole segment (header, rows, trailer).
func skipSegment(mr *msgp.Reader) error {
	h, err := readHeader(mr)
	if err != nil {
		return err
	}
	values := make([]float64, len(h.inputs))
	var rows int64
	for {
		more, err := readRow(mr, rows, values, func(recordCmd) error { return nil })
		if err != nil {
			return err
		}
		if !more {
			break
		}
		rows++
	}
	_, err = readTrailer(mr, rows)
	return err
}

// replaySource hands the recorded value to an input.
type replaySource struct{ v *float64 }

func (s replaySource) Read() (float64, error) { return *s.v, nil }

// A Replayer is an apu.Backend that runs one segment of a recording:
// each step runs the network as the live loop's tick did, feeding the
// recorded input values through the same encoders with the same seeds.
// Load it with its Network (offline.Run does, which then writes the
// outputs of `spikeloop sim`); the spikes it records are those of the
// live run, bit for bit.
type Replayer struct {
	mr     *msgp.Reader
	seg    int
	h      recordHeader
	net    *models.Network
	engine *cpu.Engine
	values []float64
	inputs []*sensor.Input
	s      int   // the step within the current tick
	rows   int64 // tick rows read
	ended  bool  // the trailer was read
	err    error // sticky, as apu.Backend asks
}

// NewReplayer reads recording r up to the start of segment seg (0 is
// the first; ScanRecording lists them), checks that netData (named
// netName in messages, which also anchors the file's relative paths) is
// the network recorded, and loads it with the spike monitors the daemon
// added for the outputs. The network's Duration is left as in its file:
// set it to the segment's length (RecordSegment.Steps() steps) to
// replay the whole segment; stepping past the end is an error.
func NewReplayer(netData []byte, netName string, r io.Reader, seg int) (*Replayer, error) {
	if seg < 0 {
		return nil, fmt.Errorf("%w: segment %d: segments are counted from 0", ErrRecord, seg)
	}
	mr := newRecordReader(r)
	for i := 0; i < seg; i++ {
		if _, err := mr.NextType(); err != nil {
			if errors.Is(err, io.EOF) && i > 0 {
				return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d", ErrRecord, seg+1, i)
			}
			return nil, recErr(i, short(err))
		}
		if err := skipSegment(mr); err != nil {
			return nil, recErr(i, err)
		}
	}
	if seg > 0 {
		if _, err := mr.NextType(); errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d", ErrRecord, seg+1, seg)
		}
	}
	h, err := readHeader(mr)
	if err != nil {
		return nil, recErr(seg, err)
	}
	if got := fnv64(netData); got != h.networkHash {
		return nil, recErr(seg, fmt.Errorf("network %s is not the one recorded (%s): FNV-1a %016x, recorded %016x", netName, h.network, got, h.networkHash))
	}
	net, err := models.Load(netData, netName, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if net.Dt != h.dt {
		return nil, recErr(seg, fmt.Errorf("dt %g, recorded %g", net.Dt, h.dt))
	}
	addSpikeMonitors(net, h.outputs)
	return &Replayer{mr: mr, seg: seg, h: h, net: net, engine: cpu.New(), values: make([]float64, len(h.inputs))}, nil
}

// Network is the network to load and run: the network file with the
// outputs' spike monitors added.
func (p *Replayer) Network() *models.Network { return p.net }

// Load implements apu.Backend; net must be p.Network().
func (p *Replayer) Load(net *models.Network) error {
	if net != p.net {
		return errors.New("daemon: Replayer.Load: load the network Replayer.Network returns")
	}
	if err := p.engine.Load(net); err != nil {
		return err
	}
	p.inputs = make([]*sensor.Input, len(p.h.inputs))
	for i, in := range p.h.inputs {
		enc, err := newEncoder(p.engine, net, p.h.stepsPerTick, in.InputConfig, in.seed)
		if err != nil {
			return recErr(p.seg, fmt.Errorf("input %q: %w", in.Name, err))
		}
		if p.inputs[i], err = sensor.NewInput(in.Name, replaySource{&p.values[i]}, enc, 0); err != nil {
			return recErr(p.seg, fmt.Errorf("input %q: %w", in.Name, err))
		}
	}
	return nil
}

// SetInput implements apu.Backend (the recording feeds the inputs; this
// feeds other InputTransmitters for one step).
func (p *Replayer) SetInput(pop string, values []float64) error {
	return p.engine.SetInput(pop, values)
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
			p.err = recErr(p.seg, fmt.Errorf("the segment ends after %d ticks (%d steps); the run asks for more", p.rows, p.rows*int64(p.h.stepsPerTick)))
		}
	}
	return p.err
}

// step runs one network step as the live tick did (Daemon.tick): at a
// tick's first step the tick's row is read and every input reads its
// recorded value. At the trailer it returns false.
func (p *Replayer) step() (bool, error) {
	if p.inputs == nil && len(p.h.inputs) > 0 {
		return false, errors.New("daemon: Replayer: Advance before Load")
	}
	if p.ended {
		return false, nil
	}
	if p.s == 0 {
		more, err := readRow(p.mr, p.rows, p.values, func(c recordCmd) error {
			return setGenerator(p.engine, c.kind, c.pop, c.values)
		})
		if err != nil {
			return false, recErr(p.seg, err)
		}
		if !more {
			dropped, err := readTrailer(p.mr, p.rows)
			if err == nil && dropped > 0 {
				err = fmt.Errorf("%d ticks were dropped while recording (the disk was too slow); it cannot be replayed", dropped)
			}
			if err != nil {
				return false, recErr(p.seg, err)
			}
			p.ended = true
			return false, nil
		}
		for _, in := range p.inputs {
			in.Read()
		}
	}
	for _, in := range p.inputs {
		if err := in.Step(p.s); err != nil {
			return false, err
		}
	}
	if err := p.engine.Advance(1); err != nil {
		return false, err
	}
	if p.s++; p.s == p.h.stepsPerTick {
		p.s = 0
		p.rows++
	}
	return true, nil
}

// Replay runs the first segment of a recording offline against the
// network file's content (netData; its FNV-1a must match the
// recording's) and returns the spikes the engine recorded, in the order
// the live run's engine recorded them: the same spikes, bit for bit, as
// the live run. ReplaySegment replays another segment.
func Replay(netData []byte, netName string, r io.Reader) ([]apu.Spike, error) {
	return ReplaySegment(netData, netName, r, 0)
}

// ReplaySegment is Replay for segment seg (0 is the first).
func ReplaySegment(netData []byte, netName string, r io.Reader, seg int) ([]apu.Spike, error) {
	p, err := NewReplayer(netData, netName, r, seg)
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
		for s := 0; s < p.h.stepsPerTick; s++ {
			more, err := p.step()
			if err != nil {
				return nil, err
			}
			if !more { // rows start at a tick's first step: s == 0
				return spikes, nil
			}
		}
		p.Drain(&rec)
		spikes = append(spikes, rec.Spikes...)
	}
}

// TickSpikes are the spikes the engine recorded during the tick just
// run (valid in an Options.AfterTick hook, until the next tick): the
// live side of a replay comparison.
func (d *Daemon) TickSpikes() []apu.Spike { return d.rec.Spikes }
