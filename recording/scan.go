package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

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
func (s *segReader) next(values []float64, onCmd func(command) error) (bool, error) {
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

// Segment describes one run of a recording. A recording holds one
// segment per run written to it: under Serve (`spikeloop run`) the first
// run and each run a reload (SIGHUP) starts append their own segment,
// with its own header, so a reload may change the network.
type Segment struct {
	Backend      string        // the backend the run ran on
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
func (s Segment) Steps() int64 { return s.Ticks * int64(s.StepsPerTick) }

// Duration is the loop time the segment's rows cover (skipped ticks,
// which have no row, are not counted: the network did not run for
// them).
func (s Segment) Duration() time.Duration { return time.Duration(s.Ticks) * s.Tick }

// stopError is the ErrIncomplete error for segment i, which stops early.
func (s Segment) stopError(i int) error {
	at := "before its first tick"
	if s.Ticks > 0 {
		at = fmt.Sprintf("after %d ticks (up to tick %d)", s.Ticks, s.LastTick)
	}
	return &recordError{msg: fmt.Sprintf("recording: segment %d stops %s: %s", i+1, at, s.Stop), incomplete: true}
}

// Scan reads a whole recording and returns its segments in
// order, checking every chunk and row. A recording that stops early
// (cut short, damaged, rows not recorded) returns the segments that
// replay, the last one or more marked with Stop, and an error wrapping
// ErrIncomplete that says where it stopped; a recording of which
// nothing replays returns no segments. Every error wraps ErrRecording.
func Scan(r io.Reader) ([]Segment, error) {
	cr := newChunkReader(r)
	var segs []Segment
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
		case errors.Is(err, ErrRecording):
			return nil, err
		case err != nil:
			return nil, recErr(i, err)
		}
		seg := Segment{Backend: h.Backend, Network: h.Network, NetworkHash: h.NetworkHash, Dt: h.Dt, StepsPerTick: h.StepsPerTick,
			Tick: time.Duration(h.TickNs), Outputs: h.Outputs}
		if seg.Tick <= 0 {
			seg.Tick = time.Duration(math.Round(float64(h.StepsPerTick) * h.Dt * 1e6))
		}
		for _, in := range h.Inputs {
			seg.Inputs = append(seg.Inputs, in.Name)
		}
		values := make([]float64, len(h.Inputs))
		sr := newSegReader(cr)
		for {
			more, err := sr.next(values, func(command) error { seg.Commands++; return nil })
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
