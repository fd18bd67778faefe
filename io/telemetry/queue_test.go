package telemetry

import (
	"sync"
	"testing"
	"time"
)

// sample is a Telemetry of the usual shape with Seq and values set from seq.
func sample(seq uint64, s *Telemetry) *Telemetry {
	if s.Rates == nil {
		s.Rates, s.Counts = Floats{}, Counts{}
		s.States = Series{"motor.V": make([]float64, 3)}
		s.Sensors, s.Actuators, s.Plant = Floats{}, Floats{}, Floats{}
	}
	x := float64(seq)
	s.Version, s.Board, s.Seq, s.Tick, s.TimeMs = SchemaVersion, "demo", seq, 10*seq, x
	s.Rates["left"], s.Rates["right"] = x, 2*x
	s.Counts["left"], s.Counts["right"] = seq, 2*seq
	s.States["motor.V"][0], s.States["motor.V"][1], s.States["motor.V"][2] = -x, x, 0
	s.Sensors["light_l"], s.Actuators["motor_l"], s.Plant["x"] = x, x, x
	s.Loop.Overruns = seq
	return s
}

func newQueue(t testing.TB, capacity int) *Queue {
	t.Helper()
	q, err := NewQueue(capacity)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQueueDropsOldest(t *testing.T) {
	q := newQueue(t, 4)
	var s, got Telemetry
	for seq := range uint64(10) {
		q.Push(sample(seq, &s))
	}
	for want := uint64(6); want < 10; want++ {
		if !q.Pop(&got) {
			t.Fatalf("Pop: empty, want seq %d", want)
		}
		if got.Seq != want || got.Dropped != 6 {
			t.Errorf("Pop: seq %d dropped %d, want seq %d dropped 6", got.Seq, got.Dropped, want)
		}
	}
	if q.Pop(&got) {
		t.Errorf("Pop: seq %d from an empty queue", got.Seq)
	}
	if q.Dropped() != 6 {
		t.Errorf("Dropped() = %d, want 6", q.Dropped())
	}
}

func TestQueueInOrderNoDrops(t *testing.T) {
	q := newQueue(t, 3)
	var s, got Telemetry
	next := uint64(0)
	for seq := range uint64(20) {
		q.Push(sample(seq, &s))
		if seq%2 == 1 { // pop two every second push: never full
			for range 2 {
				if !q.Pop(&got) || got.Seq != next || got.Dropped != 0 {
					t.Fatalf("Pop: seq %d dropped %d, want %d and 0", got.Seq, got.Dropped, next)
				}
				next++
			}
		}
	}
}

func TestQueueDeepCopy(t *testing.T) {
	q := newQueue(t, 2)
	var s, got Telemetry
	q.Push(sample(5, &s))
	sample(9, &s) // the loop reuses its sample: the queue must hold a copy
	if !q.Pop(&got) {
		t.Fatal("Pop: empty")
	}
	want := sample(5, &Telemetry{})
	if got.Seq != 0 || got.Tick != 50 || got.Rates["right"] != 10 || got.States["motor.V"][0] != -5 || got.Plant["x"] != 5 || got.Counts["left"] != 5 {
		t.Errorf("popped %+v\nwant %+v", got, want)
	}
	// Keys that disappear from the sample disappear from the copy.
	delete(s.Rates, "left")
	s.Plant = nil
	q.Push(&s)
	q.Pop(&got)
	if _, ok := got.Rates["left"]; ok || got.Plant != nil {
		t.Errorf("stale keys after copy: rates %v plant %v", got.Rates, got.Plant)
	}
}

func TestNewQueueCapacity(t *testing.T) {
	if _, err := NewQueue(0); err == nil || err.Error() != "telemetry queue: capacity: must be >= 1, got 0" {
		t.Errorf("NewQueue(0): %v", err)
	}
}

// TestQueuePushAllocs checks the loop's side allocates nothing in steady
// state, with the publisher keeping up and with the queue full.
func TestQueuePushAllocs(t *testing.T) {
	q := newQueue(t, 8)
	var s, got Telemetry
	seq := uint64(0)
	for range 3 * q.Cap() { // every slot and spare buffer has seen a sample
		q.Push(sample(seq, &s))
		q.Pop(&got)
		seq++
	}
	if a := testing.AllocsPerRun(1000, func() {
		q.Push(sample(seq, &s))
		seq++
		q.Pop(&got)
	}); a != 0 {
		t.Errorf("Push+Pop: %v allocations per run, want 0", a)
	}
	for range 3 * q.Cap() {
		q.Push(sample(seq, &s))
		seq++
	}
	if a := testing.AllocsPerRun(1000, func() {
		q.Push(sample(seq, &s))
		seq++
	}); a != 0 {
		t.Errorf("Push into a full queue: %v allocations per run, want 0", a)
	}
}

// TestQueueConcurrent runs the loop and the publisher at once (run with
// -race): samples come out in order, and every sample pushed is either
// popped or counted as dropped.
func TestQueueConcurrent(t *testing.T) {
	const total = 200000
	q := newQueue(t, 16)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		var s Telemetry
		for seq := range uint64(total) {
			q.Push(sample(seq, &s))
		}
		close(done)
	})
	var got Telemetry
	popped, last := uint64(0), int64(-1)
	drain := func() {
		for q.Pop(&got) {
			if int64(got.Seq) <= last {
				t.Fatalf("seq %d after %d", got.Seq, last)
			}
			if got.States["motor.V"][1] != float64(got.Seq) || got.Counts["right"] != 2*got.Seq {
				t.Fatalf("torn sample: %+v", got)
			}
			last = int64(got.Seq)
			popped++
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(50 * time.Microsecond): // the publisher polls too
		}
		drain()
	}
	wg.Wait()
	drain()
	if popped+q.Dropped() != total {
		t.Errorf("popped %d + dropped %d != pushed %d", popped, q.Dropped(), total)
	}
	if last != total-1 {
		t.Errorf("last seq %d, want %d", last, total-1)
	}
	t.Logf("popped %d, dropped %d", popped, q.Dropped())
}

func BenchmarkQueuePush(b *testing.B) {
	q := newQueue(b, 64)
	var s Telemetry
	sample(0, &s)
	b.ReportAllocs()
	for b.Loop() {
		q.Push(&s)
	}
}

// batch is a SpikeBatch of the usual shape with values set from k.
func batch(k uint64, b *SpikeBatch) *SpikeBatch {
	if b.Trains == nil {
		b.Trains = []SpikeTrain{{Population: "left"}, {Population: "right"}}
	}
	b.Version, b.Board = SchemaVersion, "demo"
	x := float64(k)
	b.Trains[0].Neuron = append(b.Trains[0].Neuron[:0], 0, uint32(k%7))
	b.Trains[0].StampMs = append(b.Trains[0].StampMs[:0], x, x+0.5)
	b.Trains[1].Neuron = append(b.Trains[1].Neuron[:0], 3)
	b.Trains[1].StampMs = append(b.Trains[1].StampMs[:0], x+0.25)
	return b
}

func TestSpikeQueue(t *testing.T) {
	q, err := NewSpikeQueue(2)
	if err != nil {
		t.Fatal(err)
	}
	var b, got SpikeBatch
	for k := range uint64(5) {
		q.Push(batch(k, &b))
	}
	batch(99, &b) // the loop reuses its batch: the queue holds copies
	for want := uint64(3); want < 5; want++ {
		if !q.Pop(&got) || got.Seq != want || got.Dropped != 3 {
			t.Fatalf("Pop: seq %d dropped %d, want %d and 3", got.Seq, got.Dropped, want)
		}
		if got.Trains[0].StampMs[1] != float64(want)+0.5 || got.Trains[1].Neuron[0] != 3 || got.Trains[1].Population != "right" {
			t.Errorf("batch %d: %+v", want, got)
		}
	}
	if q.Pop(&got) {
		t.Error("Pop from an empty queue")
	}
	if _, err := NewSpikeQueue(0); err == nil || err.Error() != "spike queue: capacity: must be >= 1, got 0" {
		t.Errorf("NewSpikeQueue(0): %v", err)
	}
	k := uint64(0)
	for range 10 {
		q.Push(batch(k, &b))
		q.Pop(&got)
		k++
	}
	if a := testing.AllocsPerRun(1000, func() {
		q.Push(batch(k, &b))
		k++
		q.Pop(&got)
	}); a != 0 {
		t.Errorf("SpikeQueue Push+Pop: %v allocations per run, want 0", a)
	}
}
