package daemon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// A recording (Options.Record) lets a live run be replayed offline, bit
// for bit: it holds everything the network saw from the world. Format
// version 3 is a sequence of chunks, each one
//
//	"SLRC" | kind (1 byte) | payload length | CRC-32C (Castagnoli) of
//	the kind and the length | CRC-32C of the payload | payload
//
// (the length and the CRCs are uint32, little-endian), so that a reader
// can tell a complete chunk from a cut or damaged one, and a damaged
// length from a cut. (Versions 1 and 2 were an unframed msgp stream;
// they are refused with a message that names their version.) A run
// writes one segment: a header chunk, rows chunks, an end chunk.
// Under Serve each run (the first and each reload) appends its own
// segment to the same file. The payloads are msgp:
//
//   - 'H', the header: a map of "format" "spikeloop-record", "version"
//     3, "network" (name), "network_fnv64" (FNV-1a of the network file's
//     bytes), "dt", "steps_per_tick", "tick_ns", "inputs" (one map per
//     input: name, population, encoder, gain, offset, min, max, max_hz,
//     step, seed — the seed actually used; a file input adds file, at_end,
//     batch_index, shape [rows, units] and data, its rows in C order, so
//     that a replay needs no input file) and "outputs" (the decoded
//     populations, whose spike monitors the daemon adds);
//   - 'R', rows, one msgp array after the other (a row never spans two
//     chunks): one per tick run, [tick, value of input 0, value of input
//     1, ...], the values handed to the encoders (a failed read already
//     replaced by the safe value; for a file input the number of the
//     tick's first network step, which picks its rows); before it, one per generator setting a
//     command applied at the start of that tick: [tick, kind
//     ("dc_amplitude", "poisson_rate", "bernoulli_prob"), population,
//     [values]] (told apart from a tick row by its second field, a
//     string);
//   - 'E', the end: a map of "ticks" (tick rows written), "dropped" (rows,
//     tick or command, not written) and, when rows were dropped,
//     "first_dropped" (the tick of the first) and "cause".
//
// Skipped ticks have no row: the network did not run for them either.
// Rows go from the loop to the writer goroutine through a lock-free
// queue (handoff), so the loop never waits for the disk. The writer
// drains the queue every handoffPoll (100 ms) and writes what it took
// as one chunk or more, with one write each, so that a crash of the
// process (SIGKILL, panic, OOM kill) loses only the rows queued since
// the writer's last poll: at most ~100 ms of rows (plus the writer's
// scheduling delay on a loaded machine; the queue holds 4 s). When the file has a Sync
// method (an *os.File) it is synced every recordSync (1 s), so that a
// power cut loses at most ~1.1 s. A reader replays everything up to the
// last complete chunk and says where the recording stopped.
//
// A row that is not recorded is counted once, exactly: one that finds
// the queue full (the loop counts it), and every one the writer takes
// and does not write: the rows of a chunk whose write failed (a full
// disk: logged at once) and all rows after it, or after a queue
// overflow (logged as the writer sees it). The recording stops before
// the first row not recorded, since a replay cannot skip a tick: the rows before it stay a valid, replayable recording (a
// failed write of an *os.File is truncated back to the last complete
// chunk), the loop runs on, and the count and its cause are logged when
// the run ends (and written into the end chunk when the disk takes it).

const (
	recordFormat  = "spikeloop-record"
	recordVersion = 3
	// maxRecordInputs bounds the inputs of a recorded run, so that a row
	// is a fixed-size value passed without allocation.
	maxRecordInputs = 32
	// recordQueue is about 4 s of rows at 1 kHz.
	recordQueue = 4096
	// maxStepsPerTick bounds a header's steps per tick.
	maxStepsPerTick = 1 << 20
	// recordSync is how often the writer syncs a file that can be.
	recordSync = time.Second
	// chunkTarget is the payload size past which the writer closes a rows
	// chunk (a chunk usually holds one poll's rows: ~3 KB at 1 kHz with
	// two inputs).
	chunkTarget = 64 << 10
	// maxChunk bounds a chunk's payload (a command row for a generator of
	// maxRecordValues values is the largest thing written).
	maxChunk = 1 << 28
)

// The chunk framing.
const (
	chunkMagic  = "SLRC"
	chunkHead   = 17 // magic, kind, length, the CRCs of the head and the payload
	chunkHeader = 'H'
	chunkRows   = 'R'
	chunkEnd    = 'E'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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
	backend      string // the backend the run ran on (absent before: "cpu")
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
	rows *handoff[recordRow]
	// dropped counts the rows that found the queue full; firstDrop is
	// the tick of the first, stored before dropped becomes 1. Only the
	// loop writes them; the writer reads them (atomics: no lock, no
	// allocation).
	dropped   atomic.Int64
	firstDrop atomic.Int64
	stop      chan struct{} // closed by finish: the loop has stopped
	done      chan error
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func (d *Daemon) recordHeader() recordHeader {
	h := recordHeader{backend: d.backendName, network: d.cfg.Network, networkHash: fnv64(d.cfg.netData), dt: d.cfg.net.Dt,
		stepsPerTick: d.cfg.steps, tickNs: int64(d.cfg.tick), outputs: d.spikePops}
	for i, in := range d.cfg.Inputs {
		h.inputs = append(h.inputs, recordInput{in, inputSeed(d.cfg.net, i, in)})
	}
	return h
}

// startRecord starts the writer goroutine; it writes the header at once.
func (d *Daemon) startRecord(w io.Writer) *recorder {
	r := &recorder{rows: newHandoff[recordRow](recordQueue), stop: make(chan struct{}), done: make(chan error, 1)}
	rw := &recordWriter{r: r, cw: newChunkWriter(w), log: d.log, cut: -1}
	go rw.run(d.recordHeader())
	return r
}

// push hands the tick's input values to the writer without blocking.
func (r *recorder) push(tick int64, inputs []*sensor.Input) {
	row := recordRow{tick: tick, n: len(inputs)}
	for i, in := range inputs {
		row.v[i] = in.Value()
	}
	if !r.rows.push(&row) {
		r.drop(tick)
	}
}

// command records a generator setting applied at the start of tick. A
// command row that finds the queue full is counted as dropped like a
// tick row (the recording stops before it).
func (r *recorder) command(tick int64, c *ctlRequest) {
	row := recordRow{tick: tick, cmd: c}
	if !r.rows.push(&row) {
		r.drop(tick)
	}
}

func (r *recorder) drop(tick int64) {
	if r.dropped.Load() == 0 {
		r.firstDrop.Store(tick)
	}
	r.dropped.Add(1)
}

// finish tells the writer the loop has stopped and waits for it. The
// writer logs what the recording lost; a failed write is not an error
// of the run (the loop ran on), so finish returns nil unless the
// recording could not be closed.
func (r *recorder) finish() error {
	close(r.stop)
	return <-r.done
}

// recordWriter is the writer goroutine's side of a recording.
type recordWriter struct {
	r   *recorder
	cw  *chunkWriter
	log zerolog.Logger
	// cut is the tick of the first row not recorded (-1: none yet);
	// every row from it on is not written. cause says why.
	cut    int64
	cause  string
	lost   int64 // rows taken from the queue and not written
	ticks  int64 // tick rows written
	syncer interface{ Sync() error }
}

func (rw *recordWriter) run(h recordHeader) {
	rw.begin(h)
	poll := time.NewTicker(handoffPoll)
	defer poll.Stop()
	lastSync := time.Now()
	for stopped := false; !stopped; {
		select {
		case <-rw.r.stop:
			stopped = true // write what is left, then the end chunk
		case <-poll.C:
		}
		rw.drain()
		if rw.syncer != nil && rw.cw.err == nil && time.Since(lastSync) >= recordSync {
			lastSync = time.Now()
			if err := rw.syncer.Sync(); err != nil {
				rw.log.Error().Err(err).Msg("recording: cannot sync the file; a power cut may lose more than the last second")
				rw.syncer = nil
			}
		}
	}
	rw.end()
	rw.r.done <- nil
}

// begin writes the header chunk.
func (rw *recordWriter) begin(h recordHeader) {
	rw.syncer, _ = rw.cw.w.(interface{ Sync() error })
	var hb bytes.Buffer
	mw := msgp.NewWriter(&hb)
	if err := writeHeader(mw, h); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	mw.Flush()
	rw.cw.payload = append(rw.cw.payload, hb.Bytes()...)
	if err := rw.cw.flush(chunkHeader); err != nil {
		rw.failed(0, err)
	}
}

// end writes the end chunk and logs what the recording lost; the loop
// has stopped, so r.dropped is final.
func (rw *recordWriter) end() {
	dropped := rw.r.dropped.Load() + rw.lost
	if dropped > 0 && rw.cut < 0 { // drops the last drain saw no row behind
		rw.cut, rw.cause = rw.r.firstDrop.Load(), "the writer fell behind (the queue was full)"
	}
	if rw.cw.err == nil {
		fields := uint32(2)
		if dropped > 0 {
			fields = 4
		}
		b := msgp.AppendMapHeader(nil, fields)
		b = msgp.AppendString(b, "ticks")
		b = msgp.AppendInt64(b, rw.ticks)
		b = msgp.AppendString(b, "dropped")
		b = msgp.AppendInt64(b, dropped)
		if dropped > 0 {
			b = msgp.AppendString(b, "first_dropped")
			b = msgp.AppendInt64(b, rw.cut)
			b = msgp.AppendString(b, "cause")
			b = msgp.AppendString(b, rw.cause)
		}
		rw.cw.payload = append(rw.cw.payload, b...)
		if err := rw.cw.flush(chunkEnd); err != nil {
			rw.log.Error().Err(err).Msg("recording: cannot write the end chunk; the recording replays all the same (as one cut short)")
		} else if rw.syncer != nil {
			_ = rw.syncer.Sync()
		}
	}
	if dropped > 0 {
		rw.log.Error().Int64("dropped", dropped).Int64("from_tick", rw.cut).Int64("ticks_recorded", rw.ticks).Str("cause", rw.cause).
			Msg("recording: rows not recorded; the recording replays up to the first of them")
	}
}

// drain writes the rows in the queue (as chunks of at most chunkTarget
// bytes) and flushes them.
func (rw *recordWriter) drain() {
	var row recordRow
	for rw.r.rows.pop(&row) {
		// A row pushed after a drop was popped after the drop was
		// counted (the loop counts it before the next push), so this
		// check sees every drop before the first row behind it.
		if rw.cut < 0 && rw.r.dropped.Load() > 0 {
			rw.cut = rw.r.firstDrop.Load()
			rw.cause = "the writer fell behind (the queue was full)"
			rw.log.Error().Int64("tick", rw.cut).Int("queue", recordQueue).
				Msg("recording: the writer fell behind; the recording stops before this tick (it replays up to there), the loop runs on, rows are counted as dropped")
		}
		if rw.cut >= 0 && row.tick >= rw.cut || rw.cw.err != nil {
			rw.lost++
			continue
		}
		rw.cw.add(&row)
		if len(rw.cw.payload) >= chunkTarget {
			rw.flushRows()
		}
	}
	rw.flushRows()
}

func (rw *recordWriter) flushRows() {
	if rw.cw.rows == 0 {
		return
	}
	first, rows, ticks := rw.cw.first, rw.cw.rows, rw.cw.ticks
	if err := rw.cw.flush(chunkRows); err != nil {
		rw.lost += int64(rows)
		rw.failed(first, err)
		return
	}
	rw.ticks += int64(ticks)
}

// failed notes the first failed write, at the row of tick.
func (rw *recordWriter) failed(tick int64, err error) {
	if rw.cut < 0 || tick < rw.cut {
		rw.cut = tick
	}
	rw.cause = "write failed: " + err.Error()
	rw.log.Error().Err(err).Int64("tick", tick).
		Msg("recording: write failed; the recording stops before this tick (it replays up to there), the loop runs on, rows are counted as dropped")
}

// chunkWriter writes chunks; after a failed write it writes nothing.
type chunkWriter struct {
	w       io.Writer
	payload []byte // the chunk being built
	buf     []byte // head and payload, as written
	rows    int    // rows in payload
	ticks   int    // tick rows in payload
	first   int64  // the tick of the first row in payload
	err     error
	// The file's offset at the start and the bytes of the complete
	// chunks written since, when w can be truncated back after a failed
	// write (base < 0: it cannot).
	base, good int64
}

type truncater interface {
	io.Seeker
	Truncate(int64) error
}

func newChunkWriter(w io.Writer) *chunkWriter {
	cw := &chunkWriter{w: w, base: -1}
	if t, ok := w.(truncater); ok {
		if off, err := t.Seek(0, io.SeekCurrent); err == nil {
			cw.base = off
		}
	}
	return cw
}

// add appends row to the payload.
func (cw *chunkWriter) add(row *recordRow) {
	if cw.rows == 0 {
		cw.first = row.tick
	}
	cw.rows++
	cw.payload = appendRow(cw.payload, row)
	if row.cmd == nil {
		cw.ticks++
	}
}

// flush writes the payload as one chunk of kind and empties it. A
// failed write is kept in cw.err; when it can, flush truncates the file
// back to the end of the last complete chunk.
func (cw *chunkWriter) flush(kind byte) error {
	payload := cw.payload
	cw.payload, cw.rows, cw.ticks = cw.payload[:0], 0, 0
	if cw.err != nil {
		return cw.err
	}
	cw.buf = appendChunk(cw.buf[:0], kind, payload)
	n, err := cw.w.Write(cw.buf)
	if err == nil && n < len(cw.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		cw.err = err
		if cw.base >= 0 && n > 0 {
			t := cw.w.(truncater)
			end := cw.base + cw.good
			if terr := t.Truncate(end); terr == nil {
				_, _ = t.Seek(end, io.SeekStart)
			}
		}
		return err
	}
	cw.good += int64(n)
	return nil
}

// appendChunk appends a chunk of kind holding payload to b.
func appendChunk(b []byte, kind byte, payload []byte) []byte {
	b = append(b, chunkMagic...)
	b = append(b, kind)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[len(b)-5:], castagnoli))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// appendRow appends a tick row or a command row.
func appendRow(b []byte, row *recordRow) []byte {
	if c := row.cmd; c != nil {
		b = msgp.AppendArrayHeader(b, 4)
		b = msgp.AppendInt64(b, row.tick)
		b = msgp.AppendString(b, string(c.kind))
		b = msgp.AppendString(b, c.pop)
		b = msgp.AppendArrayHeader(b, uint32(len(c.values)))
		for _, v := range c.values {
			b = msgp.AppendFloat64(b, v)
		}
		return b
	}
	b = msgp.AppendArrayHeader(b, uint32(1+row.n))
	b = msgp.AppendInt64(b, row.tick)
	for _, v := range row.v[:row.n] {
		b = msgp.AppendFloat64(b, v)
	}
	return b
}
func writeHeader(mw *msgp.Writer, h recordHeader) error {
	w := errWriter{mw: mw}
	w.mapHeader(10)
	w.str("format")
	w.str(recordFormat)
	w.str("version")
	w.int(recordVersion)
	// A field readers of the same version without it skip (an unknown
	// key), so it needed no new version.
	w.str("backend")
	w.str(h.backend)
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
		if in.Encoder == "file" {
			w.mapHeader(10 + fileHeaderFields)
		} else {
			w.mapHeader(10)
		}
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
		if in.Encoder == "file" {
			writeFileInput(&w, in.InputConfig)
		}
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

func readHeader(mr *msgp.Reader) (recordHeader, error) {
	var h recordHeader
	n, err := mr.ReadMapHeader()
	if err != nil {
		return h, fmt.Errorf("header: %w", err)
	}
	seen := map[string]bool{}
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return h, fmt.Errorf("header: %w", err)
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
				err = versionError(v)
			}
		case "backend":
			h.backend, err = mr.ReadString()
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
			return h, fmt.Errorf("header %q: %w", key, err)
		}
	}
	if h.backend == "" {
		h.backend = defaultBackend // recorded before the header named it
	}
	for _, k := range []string{"format", "version", "network_fnv64", "dt", "steps_per_tick", "inputs"} {
		if !seen[k] {
			return h, fmt.Errorf("header lacks %q", k)
		}
	}
	// A tick of more than maxStepsPerTick steps is no control loop (and
	// the product of ticks and steps must not overflow).
	if h.stepsPerTick < 1 || h.stepsPerTick > maxStepsPerTick || len(h.inputs) > maxRecordInputs {
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
		var shape []int64 // a file input's (rows, units)
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
			case "file", "at_end", "batch_index", "shape", "data":
				err = readFileInput(mr, key, &in.InputConfig, &shape)
			default:
				err = mr.Skip()
			}
			if err != nil {
				return nil, fmt.Errorf("input %d %q: %w", len(ins), key, err)
			}
		}
		if err := fileRows(&in.InputConfig, shape); err != nil {
			return nil, fmt.Errorf("input %d: %w", len(ins), err)
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// versionError says which spikeloop reads a recording of version v.
func versionError(v int64) error {
	if v > recordVersion {
		return fmt.Errorf("format version %d, written by a newer spikeloop; this build reads version %d", v, recordVersion)
	}
	return fmt.Errorf("format version %d, written by an older spikeloop; this build reads version %d (replay it with the spikeloop that recorded it)", v, recordVersion)
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

// Errors about a recording. Every one wraps ErrRecord; ErrIncomplete
// also says that what comes before the problem replays.
var (
	// ErrRecord is wrapped by every error about a recording's content.
	ErrRecord = errors.New("recording")
	// ErrIncomplete: the recording stops before the end of a run (the
	// file is cut short or damaged, or rows were not recorded); the
	// segments (and ticks) before that point replay.
	ErrIncomplete = errors.New("the recording is incomplete")
	// ErrNotRecording: the file does not start with a recording's chunk.
	ErrNotRecording = errors.New("not a spikeloop recording (no header)")
)

// recordError is an error about a recording.
type recordError struct {
	msg        string
	incomplete bool
	notRec     bool
}

func (e *recordError) Error() string { return e.msg }

func (e *recordError) Is(target error) bool {
	return target == ErrRecord || target == ErrIncomplete && e.incomplete || target == ErrNotRecording && e.notRec
}

// recErr wraps an error about segment seg (0-based) of a recording. A
// single-run recording's messages do not talk about segments.
func recErr(seg int, err error) error {
	if seg == 0 {
		return fmt.Errorf("%w: %w", ErrRecord, err)
	}
	return fmt.Errorf("%w: segment %d: %w", ErrRecord, seg+1, err)
}

// chunkError is a chunk that cannot be read: cut short (the file ends
// inside it) or damaged.
type chunkError struct {
	off int64
	cut bool
	msg string
}

func (e *chunkError) Error() string {
	if e.cut {
		return fmt.Sprintf("the file ends inside the chunk at byte %d (cut short: the daemon was killed, or the disk was full)", e.off)
	}
	return fmt.Sprintf("the chunk at byte %d is damaged (%s)", e.off, e.msg)
}

// chunkReader reads a recording's chunks.
type chunkReader struct {
	r       *bufio.Reader
	off     int64 // offset of the next chunk
	at      int64 // offset of the chunk last read
	kind    byte
	payload bytes.Buffer
	again   bool // unread: next returns the same chunk again
	head    [chunkHead]byte
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{r: bufio.NewReader(r)}
}

// next reads the next chunk: io.EOF at the end of the file (between
// chunks), a *chunkError for a cut or damaged chunk, a *recordError
// (ErrNotRecording) for a file that is not a recording. The payload is
// valid until the next call.
func (c *chunkReader) next() (kind byte, payload []byte, err error) {
	if c.again {
		c.again = false
		return c.kind, c.payload.Bytes(), nil
	}
	c.at = c.off
	if c.off == 0 {
		if b, _ := c.r.Peek(len(chunkMagic)); len(b) == 0 {
			return 0, nil, io.EOF
		} else if string(b) != chunkMagic {
			return 0, nil, notRecording(c.r)
		}
	}
	n, err := io.ReadFull(c.r, c.head[:])
	switch {
	case n == 0 && err == io.EOF:
		return 0, nil, io.EOF
	case err != nil && string(c.head[:min(n, 4)]) != chunkMagic[:min(n, 4)]:
		return 0, nil, &chunkError{off: c.at, msg: "no chunk starts there"}
	case err != nil:
		return 0, nil, &chunkError{off: c.at, cut: true}
	case string(c.head[:4]) != chunkMagic:
		return 0, nil, &chunkError{off: c.at, msg: "no chunk starts there"}
	}
	if crc32.Checksum(c.head[4:9], castagnoli) != binary.LittleEndian.Uint32(c.head[9:]) {
		return 0, nil, &chunkError{off: c.at, msg: "the checksum of its kind and length does not match"}
	}
	size := binary.LittleEndian.Uint32(c.head[5:])
	if size > maxChunk {
		return 0, nil, &chunkError{off: c.at, msg: fmt.Sprintf("a length of %d bytes", size)}
	}
	c.payload.Reset()
	// Read as it comes, not sized by the length: a damaged length must
	// not allocate more than the file holds.
	if m, _ := io.CopyN(&c.payload, c.r, int64(size)); m < int64(size) {
		return 0, nil, &chunkError{off: c.at, cut: true}
	}
	if crc32.Checksum(c.payload.Bytes(), castagnoli) != binary.LittleEndian.Uint32(c.head[13:]) {
		return 0, nil, &chunkError{off: c.at, msg: "the checksum of its payload does not match"}
	}
	c.off += chunkHead + int64(size)
	c.kind = c.head[4]
	return c.kind, c.payload.Bytes(), nil
}

// unread makes next return the chunk just read again.
func (c *chunkReader) unread() { c.again = true }

// notRecording explains a file that does not start with a chunk: a
// recording of an older format (an unframed msgp stream starting with
// its header map) or something else.
func notRecording(r *bufio.Reader) error {
	b, _ := r.Peek(4096)
	mr := newRecordReader(bytes.NewReader(b))
	if n, err := mr.ReadMapHeader(); err == nil && n < 64 {
		var format string
		version := int64(-1)
		for ; n > 0; n-- {
			key, err := mr.ReadString()
			if err != nil {
				break
			}
			switch key {
			case "format":
				format, err = mr.ReadString()
			case "version":
				version, err = mr.ReadInt64()
			default:
				err = mr.Skip()
			}
			if err != nil {
				break
			}
		}
		if format == recordFormat && version >= 0 {
			return &recordError{msg: "recording: " + versionError(version).Error()}
		}
	}
	return &recordError{msg: ErrNotRecording.Error(), notRec: true}
}

// openSegment reads the header chunk of the next segment; io.EOF: there
// is none.
func openSegment(cr *chunkReader) (recordHeader, error) {
	kind, payload, err := cr.next()
	if err != nil {
		return recordHeader{}, err
	}
	if kind != chunkHeader {
		return recordHeader{}, fmt.Errorf("the chunk at byte %d (kind %q) is not a segment's header", cr.at, kind)
	}
	return readHeader(newRecordReader(bytes.NewReader(payload)))
}

// segReader reads the rows of one segment, chunk after chunk, up to its
// end chunk, the next segment's header, or the point where the file is
// cut short or damaged.
type segReader struct {
	cr       *chunkReader
	mr       *msgp.Reader
	pr       bytes.Reader
	rows     int64 // tick rows read
	lastTick int64 // the tick of the last tick row (-1: none)
	done     bool
	// How the segment ended: complete (its end chunk was read), with
	// dropped rows (from the end chunk), or stopped early (stop says
	// why; broken: the file cannot be read past it).
	complete bool
	trailer  recordTrailer
	stop     string
	broken   bool
}

func newSegReader(cr *chunkReader) *segReader {
	s := &segReader{cr: cr, lastTick: -1}
	s.mr = newRecordReader(&s.pr)
	return s
}

// next reads the next tick row into values (whose length is the
// header's input count), handing the command rows before it to onCmd;
// at the end of the segment it returns false. An error is a chunk whose
// checksum is right and whose content is not (a bug of the writer, or a
// deliberate forgery): nothing past it is read.
func (s *segReader) next(values []float64, onCmd func(recordCmd) error) (bool, error) {
	for !s.done {
		more, tick, err := readRow(s.mr, s.rows, values, onCmd)
		if err != nil {
			return false, fmt.Errorf("chunk at byte %d: %w", s.cr.at, err)
		}
		if more {
			s.rows++
			s.lastTick = tick
			return true, nil
		}
		kind, payload, err := s.cr.next()
		var ce *chunkError
		switch {
		case errors.Is(err, io.EOF):
			s.stopped("the file ends without the segment's end chunk (the daemon was killed, or a write failed: its log says which)", false)
		case errors.As(err, &ce):
			s.stopped(ce.Error(), true)
		case err != nil:
			return false, err
		case kind == chunkRows:
			s.pr.Reset(payload)
			s.mr.Reset(&s.pr)
		case kind == chunkEnd:
			if s.trailer, err = readTrailer(newRecordReader(bytes.NewReader(payload)), s.rows); err != nil {
				return false, fmt.Errorf("chunk at byte %d: %w", s.cr.at, err)
			}
			s.done, s.complete = true, true
			if s.trailer.dropped > 0 {
				s.stop = fmt.Sprintf("%d rows were not recorded from tick %d on (%s)", s.trailer.dropped, s.trailer.firstDropped, s.trailer.cause)
			}
		case kind == chunkHeader:
			s.cr.unread()
			s.stopped(fmt.Sprintf("the segment has no end chunk: the next one starts at byte %d (the daemon was killed, or a write failed)", s.cr.at), false)
		default:
			return false, fmt.Errorf("the chunk at byte %d has an unknown kind %q", s.cr.at, kind)
		}
	}
	return false, nil
}

func (s *segReader) stopped(why string, broken bool) {
	s.done, s.stop, s.broken = true, why, broken
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
	Ticks        int64         // tick rows (ticks the network ran) that replay
	LastTick     int64         // the loop's tick number of the last of them (-1: none)
	Commands     int64         // generator settings applied by commands
	// Complete: the segment ends with its end chunk (the run stopped
	// cleanly). Stop, when not empty, says why the rows end before the
	// run did: the file is cut short or damaged, or rows were not
	// recorded (Dropped of them, from the tick FirstDropped on). The
	// rows before that point replay all the same.
	Complete     bool
	Stop         string
	Dropped      int64
	FirstDropped int64
}

// Steps is the number of network steps the segment's ticks ran.
func (s RecordSegment) Steps() int64 { return s.Ticks * int64(s.StepsPerTick) }

// Duration is the loop time the segment's rows cover (skipped ticks,
// which have no row, are not counted: the network did not run for
// them).
func (s RecordSegment) Duration() time.Duration { return time.Duration(s.Ticks) * s.Tick }

// stopError is the ErrIncomplete error for segment i, which stops early.
func (s RecordSegment) stopError(i int) error {
	at := "before its first tick"
	if s.Ticks > 0 {
		at = fmt.Sprintf("after %d ticks (up to tick %d)", s.Ticks, s.LastTick)
	}
	return &recordError{msg: fmt.Sprintf("recording: segment %d stops %s: %s", i+1, at, s.Stop), incomplete: true}
}

// ScanRecording reads a whole recording and returns its segments in
// order, checking every chunk and row. A recording that stops early
// (cut short, damaged, rows not recorded) returns the segments that
// replay, the last one or more marked with Stop, and an error wrapping
// ErrIncomplete that says where it stopped; a recording of which
// nothing replays returns no segments. Every error wraps ErrRecord.
func ScanRecording(r io.Reader) ([]RecordSegment, error) {
	cr := newChunkReader(r)
	var segs []RecordSegment
	var stops []error
	for i := 0; ; i++ {
		h, err := openSegment(cr)
		var ce *chunkError
		switch {
		case errors.Is(err, io.EOF) && i == 0:
			return nil, &recordError{msg: "recording: the file is empty"}
		case errors.Is(err, io.EOF):
			return segs, errors.Join(stops...)
		case errors.As(err, &ce) && i > 0:
			stops = append(stops, &recordError{msg: fmt.Sprintf("recording: segment %d: %v", i+1, ce), incomplete: true})
			return segs, errors.Join(stops...)
		case errors.Is(err, ErrRecord):
			return nil, err
		case err != nil:
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
		sr := newSegReader(cr)
		for {
			more, err := sr.next(values, func(recordCmd) error { seg.Commands++; return nil })
			if err != nil {
				return nil, recErr(i, err)
			}
			if !more {
				break
			}
		}
		seg.Ticks, seg.LastTick, seg.Complete, seg.Stop = sr.rows, sr.lastTick, sr.complete, sr.stop
		seg.Dropped, seg.FirstDropped = sr.trailer.dropped, sr.trailer.firstDropped
		segs = append(segs, seg)
		if seg.Stop != "" {
			stops = append(stops, seg.stopError(i))
		}
		if sr.broken {
			return segs, errors.Join(stops...)
		}
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
// header's input count), handing the command rows before it to onCmd,
// and returns the row's tick; at the end of the chunk's payload it
// returns false.
func readRow(mr *msgp.Reader, row int64, values []float64, onCmd func(recordCmd) error) (bool, int64, error) {
	for {
		if _, err := mr.NextType(); err != nil {
			if errors.Is(err, io.EOF) {
				return false, 0, nil
			}
			return false, 0, fmt.Errorf("tick row %d: %w", row, err)
		}
		n, err := mr.ReadArrayHeader()
		if err != nil {
			return false, 0, fmt.Errorf("tick row %d: %w", row, err)
		}
		tick, err := mr.ReadInt64()
		if err != nil {
			return false, 0, fmt.Errorf("tick row %d: %w", row, err)
		}
		if t, err := mr.NextType(); err == nil && t == msgp.StrType {
			c, err := readCommand(mr, n)
			if err != nil {
				return false, 0, fmt.Errorf("command before tick row %d: %w", row, err)
			}
			if err := onCmd(c); err != nil {
				return false, 0, fmt.Errorf("command before tick row %d: %w", row, err)
			}
			continue
		}
		if int(n) != 1+len(values) {
			return false, 0, fmt.Errorf("tick row %d: %d fields, want %d (the tick and %d inputs)", row, n, 1+len(values), len(values))
		}
		for i := range values {
			if values[i], err = mr.ReadFloat64(); err != nil {
				return false, 0, fmt.Errorf("tick row %d, input %d: %w", row, i, err)
			}
		}
		return true, tick, nil
	}
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

// recordTrailer is a segment's end chunk.
type recordTrailer struct {
	dropped      int64
	firstDropped int64
	cause        string
}

// readTrailer reads a segment's end chunk after rows tick rows.
func readTrailer(mr *msgp.Reader, rows int64) (recordTrailer, error) {
	var t recordTrailer
	n, err := mr.ReadMapHeader()
	if err != nil {
		return t, fmt.Errorf("end chunk: %w", err)
	}
	sawTicks := false
	for ; n > 0; n-- {
		key, err := mr.ReadString()
		if err != nil {
			return t, fmt.Errorf("end chunk: %w", err)
		}
		var v int64
		switch key {
		case "ticks", "dropped", "first_dropped":
			v, err = mr.ReadInt64()
		case "cause":
			t.cause, err = mr.ReadString()
		default:
			err = mr.Skip() // a later version's field
		}
		if err != nil {
			return t, fmt.Errorf("end chunk %q: %w", key, err)
		}
		switch key {
		case "ticks":
			sawTicks = true
			if v != rows {
				return t, fmt.Errorf("%d tick rows, the end chunk says %d", rows, v)
			}
		case "dropped":
			if v < 0 {
				return t, fmt.Errorf("end chunk: %d dropped rows", v)
			}
			t.dropped = v
		case "first_dropped":
			t.firstDropped = v
		}
	}
	if !sawTicks {
		return t, errors.New(`end chunk lacks "ticks"`)
	}
	if t.dropped > 0 && t.cause == "" {
		t.cause = "no cause given"
	}
	return t, nil
}

// replaySource hands the recorded value to an input.
type replaySource struct{ v *float64 }

var _ sensor.Source = replaySource{}

func (s replaySource) Read() (float64, error) { return *s.v, nil }

// A Replayer is an apu.Backend that runs one segment of a recording:
// each step runs the network as the live loop's tick did, feeding the
// recorded input values through the same encoders with the same seeds.
// Load it with its Network (offline.Run does, which then writes the
// outputs of `spikeloop sim`); the spikes it records are those of the
// live run, bit for bit.
type Replayer struct {
	sr          *segReader
	seg         int
	h           recordHeader
	net         *models.Network
	engine      apu.Backend // the backend the steps run on
	backendName string
	feeds       *tickFeeds // one step's inputs
	values      []float64
	inputs      []*sensor.Input
	s           int   // the step within the current tick
	err         error // sticky, as apu.Backend asks
}

var _ apu.Backend = (*Replayer)(nil)

// NewReplayer reads recording r up to the start of segment seg (0 is
// the first; ScanRecording lists them), checks that netData (named
// netName in messages, which also anchors the file's relative paths) is
// the network recorded, and loads it with the spike monitors the daemon
// added for the outputs. The network's Duration is left as in its file:
// set it to the segment's length (RecordSegment.Steps() steps) to
// replay the whole segment; stepping past the end is an error. A
// segment that stops early replays up to where it stops.
func NewReplayer(netData []byte, netName string, r io.Reader, seg int) (*Replayer, error) {
	if seg < 0 {
		return nil, fmt.Errorf("%w: segment %d: segments are counted from 0", ErrRecord, seg)
	}
	cr := newChunkReader(r)
	var h recordHeader
	for i := 0; ; i++ {
		var err error
		h, err = openSegment(cr)
		var ce *chunkError
		switch {
		case errors.Is(err, io.EOF) && i == 0:
			return nil, &recordError{msg: "recording: the file is empty"}
		case errors.Is(err, io.EOF) || errors.As(err, &ce) && i > 0:
			return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d", ErrRecord, seg+1, i)
		case errors.Is(err, ErrRecord):
			return nil, err
		case err != nil:
			return nil, recErr(i, err)
		}
		if i == seg {
			break
		}
		sr := newSegReader(cr)
		values := make([]float64, len(h.inputs))
		for {
			more, err := sr.next(values, func(recordCmd) error { return nil })
			if err != nil {
				return nil, recErr(i, err)
			}
			if !more {
				break
			}
		}
		if sr.broken {
			return nil, fmt.Errorf("%w: segment %d asked for, the recording has %d (%s)", ErrRecord, seg+1, i+1, sr.stop)
		}
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
	b, err := apu.Open(h.backend, apu.Options{})
	if err != nil {
		return nil, recErr(seg, fmt.Errorf("the recording ran on %w", err))
	}
	return &Replayer{sr: newSegReader(cr), seg: seg, h: h, net: net, engine: b, backendName: h.backend, feeds: newTickFeeds(1), values: make([]float64, len(h.inputs))}, nil
}

// Backend is the name of the backend the replay runs on: the one the
// recording names, or the one UseBackend chose.
func (p *Replayer) Backend() string { return p.backendName }

// UseBackend makes the replay run on backend name instead of the one the
// recording names (`spikeloop sim --replay --backend`). Call it before
// Load.
func (p *Replayer) UseBackend(name string) error {
	if p.inputs != nil {
		return errors.New("daemon: Replayer.UseBackend after Load")
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
		return errors.New("daemon: Replayer.Load: load the network Replayer.Network returns")
	}
	if err := p.engine.Load(net); err != nil {
		return err
	}
	p.inputs = make([]*sensor.Input, len(p.h.inputs))
	for i, in := range p.h.inputs {
		enc, err := newEncoder(p.engine, p.feeds, net, p.h.stepsPerTick, in.InputConfig, in.seed)
		if err != nil {
			return recErr(p.seg, fmt.Errorf("input %q: %w", in.Name, err))
		}
		if p.inputs[i], err = sensor.NewInput(in.Name, replaySource{&p.values[i]}, enc, 0); err != nil {
			return recErr(p.seg, fmt.Errorf("input %q: %w", in.Name, err))
		}
	}
	return nil
}

// Probe implements apu.Backend: what the backend it replays on says.
func (p *Replayer) Probe(net *models.Network) (apu.Probe, error) { return p.engine.Probe(net) }

// Run implements apu.Backend: n steps of the recorded run. The recording
// feeds the inputs; other feeds are refused (ErrUnsupported).
func (p *Replayer) Run(n int, feeds []apu.Feed) error {
	if len(feeds) > 0 {
		return fmt.Errorf("daemon: Replayer: a replay takes its inputs from the recording, not from Run: %w", apu.ErrUnsupported)
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
	return fmt.Errorf("daemon: Replayer: a replay runs its recording once; replay it again instead of resetting: %w", apu.ErrUnsupported)
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
			p.err = recErr(p.seg, fmt.Errorf("the segment ends after %d ticks (%d steps); the run asks for more", p.sr.rows, p.sr.rows*int64(p.h.stepsPerTick)))
		}
	}
	return p.err
}

// step runs one network step as the live tick did (Daemon.tick): at a
// tick's first step the tick's row is read and every input reads its
// recorded value. At the end of the segment it returns false.
func (p *Replayer) step() (bool, error) {
	if p.inputs == nil && len(p.h.inputs) > 0 {
		return false, errors.New("daemon: Replayer: Advance before Load")
	}
	if p.s == 0 {
		more, err := p.sr.next(p.values, func(c recordCmd) error {
			return setGenerator(p.engine, c.kind, c.pop, c.values)
		})
		if err != nil {
			return false, recErr(p.seg, err)
		}
		if !more {
			return false, nil
		}
		for _, in := range p.inputs {
			in.Read()
		}
	}
	p.feeds.begin()
	for _, in := range p.inputs {
		if err := in.Step(p.s); err != nil {
			return false, err
		}
	}
	if err := p.feeds.run(p.engine); err != nil {
		return false, err
	}
	if p.s++; p.s == p.h.stepsPerTick {
		p.s = 0
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

// ReplaySegment is Replay for segment seg (0 is the first). A segment
// that stops early (cut short, damaged, rows not recorded) returns the
// spikes of the ticks it holds and an error wrapping ErrIncomplete that
// says where it stopped.
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
				if p.sr.stop != "" {
					s := RecordSegment{Ticks: p.sr.rows, LastTick: p.sr.lastTick, Stop: p.sr.stop}
					return spikes, s.stopError(seg)
				}
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
