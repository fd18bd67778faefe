package telemetry

import (
	"fmt"
	"sync/atomic"
)

// Queue is the loop's hand-off of telemetry samples to the publisher: a
// ring of fixed capacity between one producer (the loop) and one consumer
// (the publisher).
//
// Push never blocks, takes no lock and, once every slot has held a sample
// of the usual shape (same map keys, same state lengths), allocates
// nothing: when the ring is full it overwrites the oldest sample. Pop
// returns samples oldest first, skipping the ones overwritten, and counts
// them; the count goes out in each sample's Dropped field.
//
// How: every slot is an atomic pointer to a sample buffer, nil once
// consumed. Push fills a buffer it owns and swaps it into the slot,
// keeping what comes out (an unconsumed, overwritten sample) as its next
// buffer; Pop swaps nil in, so each buffer belongs to exactly one side
// at a time and no sample is read while written. Pop hands consumed
// buffers back through a second array of atomic pointers, so that Push
// reuses their maps and slices instead of allocating.
type Queue struct {
	slots []atomic.Pointer[entry] // filled by Push, emptied by Pop
	back  []atomic.Pointer[entry] // buffers Pop has finished with, per slot
	head  atomic.Uint64           // number of samples pushed so far
	ready chan struct{}           // capacity 1: "something was pushed"

	spare *entry // producer only: the buffer the next Push fills

	next      uint64        // consumer only: index of the next sample wanted
	delivered uint64        // consumer only: samples returned by Pop
	dropped   atomic.Uint64 // samples lost: written by Pop, read by anyone
}

// entry is one sample buffer and the index of the sample it holds.
type entry struct {
	idx uint64
	t   Telemetry
}

// NewQueue returns a Queue holding up to capacity samples (>= 1).
func NewQueue(capacity int) (*Queue, error) {
	if capacity < 1 {
		return nil, fmt.Errorf("telemetry queue: capacity %d, want >= 1", capacity)
	}
	return &Queue{
		slots: make([]atomic.Pointer[entry], capacity),
		back:  make([]atomic.Pointer[entry], capacity),
		ready: make(chan struct{}, 1),
		spare: new(entry),
	}, nil
}

// Cap returns the number of samples the queue holds.
func (q *Queue) Cap() int { return len(q.slots) }

// Push copies s into the queue, numbering it: Seq is the number of
// samples pushed before it. When the queue is full the oldest sample is
// overwritten. Only one goroutine (the loop) may call Push. It never
// blocks: the notification to Ready is a send that is skipped when one is
// already pending.
func (q *Queue) Push(s *Telemetry) {
	h := q.head.Load()
	e := q.spare
	e.idx = h
	copyTelemetry(&e.t, s)
	e.t.Seq = h // so that a reader sees a gap where a sample was lost
	i := h % uint64(len(q.slots))
	old := q.slots[i].Swap(e)
	q.head.Store(h + 1)
	if old == nil {
		// Pop took the last sample of this slot; reuse its buffer if Pop
		// is done with it, else start a new one (only until every slot
		// has cycled once, or when the publisher is a lap behind).
		old = q.back[i].Swap(nil)
		if old == nil {
			old = new(entry)
		}
	}
	q.spare = old
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled after a Push; the consumer then Pops until empty.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Pop copies the oldest sample not yet popped into dst and reports
// whether there was one. dst.Dropped is set to the number of samples
// overwritten before they could be popped, since start. Only one
// goroutine (the publisher) may call Pop.
func (q *Queue) Pop(dst *Telemetry) bool {
	n := uint64(len(q.slots))
	for {
		h := q.head.Load()
		if q.next >= h {
			return false
		}
		if h-q.next > n {
			q.next = h - n // everything older was overwritten
		}
		i := q.next % n
		e := q.slots[i].Swap(nil)
		if e == nil {
			// Cannot happen (index next < head was written to slot i and
			// only Pop empties it); step on rather than spin.
			q.next++
			continue
		}
		// e.idx > next when Push lapped us between the Load and the Swap:
		// the samples in between are lost, and e is the oldest left.
		q.next = e.idx + 1
		q.delivered++
		q.dropped.Store(q.next - q.delivered)
		copyTelemetry(dst, &e.t)
		dst.Dropped = q.next - q.delivered
		q.back[i].Store(e)
		return true
	}
}

// Dropped returns the number of samples lost so far (as of the last Pop).
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// copyTelemetry makes dst a deep copy of src, reusing dst's maps and
// slices so that a copy of a sample with the same shape allocates nothing.
func copyTelemetry(dst, src *Telemetry) {
	rates, counts, states := dst.Rates, dst.Counts, dst.States
	sensors, actuators, plant := dst.Sensors, dst.Actuators, dst.Plant
	*dst = *src
	dst.Rates = copyFloats(rates, src.Rates)
	dst.Counts = copyCounts(counts, src.Counts)
	dst.States = copySeries(states, src.States)
	dst.Sensors = copyFloats(sensors, src.Sensors)
	dst.Actuators = copyFloats(actuators, src.Actuators)
	dst.Plant = copyFloats(plant, src.Plant)
}

// copyFloats returns src's contents in dst's storage (nil stays nil).
func copyFloats(dst, src Floats) Floats {
	if src == nil {
		return nil
	}
	if dst == nil {
		dst = make(Floats, len(src))
	}
	for k := range dst {
		if _, ok := src[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// copyCounts returns src's contents in dst's storage (nil stays nil).
func copyCounts(dst, src Counts) Counts {
	if src == nil {
		return nil
	}
	if dst == nil {
		dst = make(Counts, len(src))
	}
	for k := range dst {
		if _, ok := src[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// copySeries returns src's contents in dst's storage, reusing each
// name's slice (nil stays nil).
func copySeries(dst, src Series) Series {
	if src == nil {
		return nil
	}
	if dst == nil {
		dst = make(Series, len(src))
	}
	for k := range dst {
		if _, ok := src[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range src {
		dst[k] = append(dst[k][:0], v...)
	}
	return dst
}
