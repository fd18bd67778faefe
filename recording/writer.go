package recording

import (
	"bytes"
	"io"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tinylib/msgp/msgp"

	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
)

// A Writer is the loop's side of a recording: Tick and Command hand
// rows to the writer goroutine without blocking or allocating.
type Writer struct {
	rows *handoff.Queue[entry]
	// dropped counts the rows that found the queue full; firstDrop is
	// the tick of the first, stored before dropped becomes 1. Only the
	// loop writes them; the writer reads them (atomics: no lock, no
	// allocation).
	dropped   atomic.Int64
	firstDrop atomic.Int64
	stop      chan struct{} // closed by Close: the loop has stopped
	done      chan error
}

// NewWriter starts the writer goroutine, which writes header h to w
// at once, then the rows the loop hands it, then (Close) the end chunk.
// It logs what it cannot write to log. When w is an *os.File, it is
// synced every second and truncated back to the last complete chunk
// after a failed write.
func NewWriter(w io.Writer, h Header, log zerolog.Logger) *Writer {
	r := &Writer{rows: handoff.New[entry](queueSize), stop: make(chan struct{}), done: make(chan error, 1)}
	rw := &writer{r: r, cw: newChunkWriter(w), log: log, cut: -1}
	go rw.run(h)
	return r
}

// Tick hands the tick's input values to the writer without blocking:
// the values the inputs handed their encoders (at most MaxInputs).
func (r *Writer) Tick(tick int64, inputs []*sensor.Input) {
	row := entry{tick: tick, n: len(inputs)}
	for i, in := range inputs {
		row.v[i] = in.Value()
	}
	if !r.rows.Push(&row) {
		r.drop(tick)
	}
}

// Command records a generator setting applied at the start of tick. A
// command row that finds the queue full is counted as dropped like a
// tick row (the recording stops before it).
// values must not change after (the row holds them until written).
func (r *Writer) Command(tick int64, kind telemetry.Kind, pop string, values []float64) {
	row := entry{tick: tick, cmd: true, kind: kind, pop: pop, values: values}
	if !r.rows.Push(&row) {
		r.drop(tick)
	}
}

func (r *Writer) drop(tick int64) {
	if r.dropped.Load() == 0 {
		r.firstDrop.Store(tick)
	}
	r.dropped.Add(1)
}

// Close tells the writer the loop has stopped and waits for it. The
// writer logs what the recording lost; a failed write is not an error
// of the run (the loop ran on), so Close returns nil unless the
// recording could not be closed.
func (r *Writer) Close() error {
	close(r.stop)
	return <-r.done
}

// writer is the writer goroutine's side of a recording.
type writer struct {
	r   *Writer
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

func (rw *writer) run(h Header) {
	rw.begin(h)
	poll := time.NewTicker(handoff.Poll)
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
func (rw *writer) begin(h Header) {
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
func (rw *writer) end() {
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
func (rw *writer) drain() {
	var row entry
	for rw.r.rows.Pop(&row) {
		// A row pushed after a drop was popped after the drop was
		// counted (the loop counts it before the next push), so this
		// check sees every drop before the first row behind it.
		if rw.cut < 0 && rw.r.dropped.Load() > 0 {
			rw.cut = rw.r.firstDrop.Load()
			rw.cause = "the writer fell behind (the queue was full)"
			rw.log.Error().Int64("tick", rw.cut).Int("queue", queueSize).
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

func (rw *writer) flushRows() {
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
func (rw *writer) failed(tick int64, err error) {
	if rw.cut < 0 || tick < rw.cut {
		rw.cut = tick
	}
	rw.cause = "write failed: " + err.Error()
	rw.log.Error().Err(err).Int64("tick", tick).
		Msg("recording: write failed; the recording stops before this tick (it replays up to there), the loop runs on, rows are counted as dropped")
}
