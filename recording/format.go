// Package recording holds the daemon's recording format and its replay.
// A recording (the daemon's Options.Record) lets a live run be replayed offline, bit
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
// drains the queue every handoff.Poll (100 ms) and writes what it took
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
package recording

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/io/telemetry"
)

const (
	recordFormat  = "spikeloop-record"
	recordVersion = 3
	// MaxInputs bounds the inputs of a recorded run, so that a row
	// is a fixed-size value passed without allocation.
	MaxInputs = 32
	// queueSize is about 4 s of rows at 1 kHz.
	queueSize = 4096
	// MaxFileValues bounds a file input's values (rows times units).
	MaxFileValues = 1 << 24
	// legacyBackend is the backend of a recording whose header names
	// none: it was made before the header named one, on the only
	// backend there was.
	legacyBackend = "cpu"
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

// Header is a segment's header: what a replay needs to run the network
// as the live run did.
type Header struct {
	Backend      string  // the backend the run ran on ("cpu" when the header names none: recorded before it did)
	Network      string  // the network file, as the config named it
	NetworkHash  uint64  // Hash of the network file's bytes
	Dt           float64 // ms
	StepsPerTick int
	TickNs       int64
	Inputs       []Input
	Outputs      []string // the decoded populations, whose spike monitors the live run added
}

// Input is one recorded input: what its encoder was built from, and the
// seed it used.
type Input struct {
	Name, Population, Encoder           string
	Gain, Offset, Min, Max, MaxHz, Step float64
	Seed                                uint64 // the seed actually used
	// A file input (Encoder "file"): its file, what it does at its end,
	// its batch index and its rows, so that a replay needs no input file.
	File       string
	AtEnd      string
	BatchIndex *int
	Rows       [][]float64
}

// entry is a row on its way to the writer: a tick row, or (cmd) a
// generator setting a command applied.
type entry struct {
	tick   int64
	n      int
	v      [MaxInputs]float64
	cmd    bool
	kind   telemetry.Kind
	pop    string
	values []float64 // the command's, not shared
}

// Hash is the FNV-1a of a network file's bytes, which a replay checks.
func Hash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
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
func (cw *chunkWriter) add(row *entry) {
	if cw.rows == 0 {
		cw.first = row.tick
	}
	cw.rows++
	cw.payload = appendRow(cw.payload, row)
	if !row.cmd {
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
func appendRow(b []byte, row *entry) []byte {
	if row.cmd {
		b = msgp.AppendArrayHeader(b, 4)
		b = msgp.AppendInt64(b, row.tick)
		b = msgp.AppendString(b, string(row.kind))
		b = msgp.AppendString(b, row.pop)
		b = msgp.AppendArrayHeader(b, uint32(len(row.values)))
		for _, v := range row.values {
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

func writeHeader(mw *msgp.Writer, h Header) error {
	w := errWriter{mw: mw}
	w.mapHeader(10)
	w.str("format")
	w.str(recordFormat)
	w.str("version")
	w.int(recordVersion)
	// A field readers of the same version without it skip (an unknown
	// key), so it needed no new version.
	w.str("backend")
	w.str(h.Backend)
	w.str("network")
	w.str(h.Network)
	w.str("network_fnv64")
	w.uint(h.NetworkHash)
	w.str("dt")
	w.float(h.Dt)
	w.str("steps_per_tick")
	w.int(int64(h.StepsPerTick))
	w.str("tick_ns")
	w.int(h.TickNs)
	w.str("inputs")
	w.arrayHeader(len(h.Inputs))
	for _, in := range h.Inputs {
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
		w.uint(in.Seed)
		if in.Encoder == "file" {
			writeFileInput(&w, in)
		}
	}
	w.str("outputs")
	w.arrayHeader(len(h.Outputs))
	for _, o := range h.Outputs {
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

func readHeader(mr *msgp.Reader) (Header, error) {
	var h Header
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
				err = fmt.Errorf("format: must be %q, got %q", recordFormat, f)
			}
		case "version":
			var v int64
			if v, err = mr.ReadInt64(); err == nil && v != recordVersion {
				err = versionError(v)
			}
		case "backend":
			h.Backend, err = mr.ReadString()
		case "network":
			h.Network, err = mr.ReadString()
		case "network_fnv64":
			h.NetworkHash, err = mr.ReadUint64()
		case "dt":
			h.Dt, err = mr.ReadFloat64()
		case "steps_per_tick":
			var v int64
			v, err = mr.ReadInt64()
			h.StepsPerTick = int(v)
		case "tick_ns":
			h.TickNs, err = mr.ReadInt64()
		case "inputs":
			h.Inputs, err = readInputs(mr)
		case "outputs":
			var m uint32
			if m, err = mr.ReadArrayHeader(); err == nil {
				for ; m > 0 && err == nil; m-- {
					var s string
					s, err = mr.ReadString()
					h.Outputs = append(h.Outputs, s)
				}
			}
		default:
			err = mr.Skip() // a later version's field
		}
		if err != nil {
			return h, fmt.Errorf("header %q: %w", key, err)
		}
	}
	if h.Backend == "" {
		h.Backend = legacyBackend // recorded before the header named it
	}
	for _, k := range []string{"format", "version", "network_fnv64", "dt", "steps_per_tick", "inputs"} {
		if !seen[k] {
			return h, fmt.Errorf("header lacks %q", k)
		}
	}
	// A tick of more than maxStepsPerTick steps is no control loop (and
	// the product of ticks and steps must not overflow).
	if h.StepsPerTick < 1 || h.StepsPerTick > maxStepsPerTick || len(h.Inputs) > MaxInputs {
		return h, fmt.Errorf("header: %d steps per tick, %d inputs", h.StepsPerTick, len(h.Inputs))
	}
	return h, nil
}

func readInputs(mr *msgp.Reader) ([]Input, error) {
	n, err := mr.ReadArrayHeader()
	if err != nil {
		return nil, err
	}
	var ins []Input
	for ; n > 0; n-- {
		var in Input
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
				in.Seed, err = mr.ReadUint64()
			case "file", "at_end", "batch_index", "shape", "data":
				err = readFileInput(mr, key, &in, &shape)
			default:
				err = mr.Skip()
			}
			if err != nil {
				return nil, fmt.Errorf("input %d %q: %w", len(ins), key, err)
			}
		}
		if err := fileRows(&in, shape); err != nil {
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

// fileHeaderFields are the fields a file input adds to its map in a
// recording's header.
const fileHeaderFields = 5

// writeFileInput writes a file input's fields into its header map.
func writeFileInput(w *errWriter, in Input) {
	w.str("file")
	w.str(in.File)
	w.str("at_end")
	w.str(in.AtEnd)
	w.str("batch_index")
	b := int64(0)
	if in.BatchIndex != nil {
		b = int64(*in.BatchIndex)
	}
	w.int(b)
	units := 0
	if len(in.Rows) > 0 {
		units = len(in.Rows[0])
	}
	w.str("shape")
	w.arrayHeader(2)
	w.int(int64(len(in.Rows)))
	w.int(int64(units))
	w.str("data")
	w.arrayHeader(len(in.Rows) * units)
	for _, row := range in.Rows {
		for _, x := range row {
			w.float(x)
		}
	}
}

// readFileInput reads one of a file input's header fields; the rows are
// made by fileRows once the whole map is read.
func readFileInput(mr *msgp.Reader, key string, in *Input, shape *[]int64) error {
	var err error
	switch key {
	case "file":
		in.File, err = mr.ReadString()
	case "at_end":
		in.AtEnd, err = mr.ReadString()
	case "batch_index":
		var b int64
		if b, err = mr.ReadInt64(); err == nil {
			bi := int(b)
			in.BatchIndex = &bi
		}
	case "shape":
		var n uint32
		if n, err = mr.ReadArrayHeader(); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("dimensions: must be 2 (rows, units), got %d", n)
		}
		*shape = make([]int64, 2)
		for i := range *shape {
			if (*shape)[i], err = mr.ReadInt64(); err != nil {
				return err
			}
		}
	case "data":
		var n uint32
		if n, err = mr.ReadArrayHeader(); err != nil {
			return err
		}
		if n > MaxFileValues {
			return fmt.Errorf("values: must be at most %d, got %d", MaxFileValues, n)
		}
		// Appended one by one: a damaged count must not allocate more
		// than the chunk holds.
		flat := []float64{}
		for ; n > 0; n-- {
			x, err := mr.ReadFloat64()
			if err != nil {
				return err
			}
			flat = append(flat, x)
		}
		in.Rows = [][]float64{flat} // split by fileRows
	}
	return err
}

// fileRows splits a recorded file input's data into its rows.
func fileRows(in *Input, shape []int64) error {
	if in.Encoder != "file" {
		return nil
	}
	if len(shape) != 2 || len(in.Rows) != 1 {
		return errors.New(`a file input without "shape" or "data"`)
	}
	flat := in.Rows[0]
	t, f := shape[0], shape[1]
	if n := int64(len(flat)); t < 1 || f < 1 || t > n || f > n || t*f != n {
		return fmt.Errorf("file input of shape [%d %d] with %d values", t, f, len(flat))
	}
	in.Rows = make([][]float64, t)
	for k := range in.Rows {
		in.Rows[k] = flat[int64(k)*f : int64(k+1)*f : int64(k+1)*f]
	}
	return nil
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

// Errors about a recording. Every one wraps ErrRecording; ErrIncomplete
// also says that what comes before the problem replays.
var (
	// ErrRecording is wrapped by every error about a recording's content.
	ErrRecording = errors.New("recording")
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
	return target == ErrRecording || target == ErrIncomplete && e.incomplete || target == ErrNotRecording && e.notRec
}

// recErr wraps an error about segment seg (0-based) of a recording. A
// single-run recording's messages do not talk about segments.
func recErr(seg int, err error) error {
	if seg == 0 {
		return fmt.Errorf("%w: %w", ErrRecording, err)
	}
	return fmt.Errorf("%w: segment %d: %w", ErrRecording, seg+1, err)
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
func openSegment(cr *chunkReader) (Header, error) {
	kind, payload, err := cr.next()
	if err != nil {
		return Header{}, err
	}
	if kind != chunkHeader {
		return Header{}, fmt.Errorf("the chunk at byte %d (kind %q) is not a segment's header", cr.at, kind)
	}
	return readHeader(newRecordReader(bytes.NewReader(payload)))
}

// command is a command row.
type command struct {
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
func readRow(mr *msgp.Reader, row int64, values []float64, onCmd func(command) error) (bool, int64, error) {
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
			return false, 0, fmt.Errorf("tick row %d: fields: must be %d (the tick and %d inputs), got %d", row, 1+len(values), len(values), n)
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
func readCommand(mr *msgp.Reader, n uint32) (command, error) {
	var c command
	if n != 4 {
		return c, fmt.Errorf("fields: must be 4 (tick, kind, population, values), got %d", n)
	}
	kind, err := mr.ReadString()
	if err != nil {
		return c, err
	}
	c.kind = telemetry.Kind(kind)
	switch c.kind {
	case telemetry.KindDCAmplitude, telemetry.KindPoissonRate, telemetry.KindBernoulliProb:
	default:
		return c, fmt.Errorf("kind: must be a generator setting (%s, %s or %s), got %q", telemetry.KindDCAmplitude, telemetry.KindPoissonRate, telemetry.KindBernoulliProb, kind)
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
