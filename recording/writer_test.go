package recording

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/hal/haltest"
	"github.com/spikeloop/spikeloop/internal/handoff"
	"github.com/spikeloop/spikeloop/io/sensor"
	"github.com/spikeloop/spikeloop/io/telemetry"
)

// TestRecordingQueueFull: rows that find the queue full are counted by
// the loop, the writer stops the recording before the first of them,
// counts the rows it takes after it, and the end chunk says so: the
// recording replays up to the first row lost.
func TestRecordingQueueFull(t *testing.T) {
	r := &Writer{rows: handoff.New[entry](4), done: make(chan error, 1)}
	var buf, logs bytes.Buffer // one goroutine: the test calls the writer's steps itself
	rw := &writer{r: r, cw: newChunkWriter(&buf), log: zerolog.New(&logs), cut: -1}
	rw.begin(Header{Network: "n.yaml", Dt: 0.1, StepsPerTick: 10, TickNs: 1e6, Inputs: []Input{{Name: "x"}}})
	in, err := sensor.NewInput("x", haltest.NewSource(1), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []*sensor.Input{in}
	for k := int64(0); k < 10; k++ { // 4 queued, 6 dropped from tick 4
		r.Tick(k, inputs)
	}
	rw.drain()
	for k := int64(10); k < 12; k++ { // queued, not written
		r.Tick(k, inputs)
	}
	rw.drain()
	rw.end()
	segs, err := Scan(bytes.NewReader(buf.Bytes()))
	if len(segs) != 1 || segs[0].Ticks != 4 || segs[0].Dropped != 8 || segs[0].FirstDropped != 4 || !segs[0].Complete || !errors.Is(err, ErrIncomplete) ||
		!strings.Contains(err.Error(), "segment 1 stops after 4 ticks (up to tick 3): 8 rows were not recorded from tick 4 on (the writer fell behind") {
		t.Fatalf("%+v, %v", segs, err)
	}
	if !strings.Contains(logs.String(), `"dropped":8,"from_tick":4`) {
		t.Errorf("log: %s", logs.String())
	}
}

// TestWriterAllocatesNothing: the loop's side of a recording, a tick row,
// a command row and a row that finds the queue full, allocates nothing.
func TestWriterAllocatesNothing(t *testing.T) {
	r := &Writer{rows: handoff.New[entry](16), done: make(chan error, 1)} // nobody drains it
	in, err := sensor.NewInput("x", haltest.NewSource(1), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []*sensor.Input{in}
	values := []float64{700}
	k := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		r.Tick(k, inputs)
		r.Command(k, telemetry.KindDCAmplitude, "search", values)
		k++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per tick", allocs)
	}
	if got := r.dropped.Load(); got != 2*1001-16 {
		t.Errorf("%d rows dropped, want %d (the queue holds 16)", got, 2*1001-16)
	}
	if r.firstDrop.Load() != 8 {
		t.Errorf("first drop at tick %d, want 8", r.firstDrop.Load())
	}
}
