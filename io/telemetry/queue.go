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
	ring[Telemetry, *Telemetry]
}

// SpikeQueue is the same hand-off for spike batches (the spikes topic):
// Push numbers each batch (Seq), Pop sets its Dropped.
type SpikeQueue struct {
	ring[SpikeBatch, *SpikeBatch]
}

// NewQueue returns a Queue holding up to capacity samples (>= 1).
func NewQueue(capacity int) (*Queue, error) {
	q := new(Queue)
	if err := q.init(capacity); err != nil {
		return nil, fmt.Errorf("telemetry queue: %w", err)
	}
	return q, nil
}

// NewSpikeQueue returns a SpikeQueue holding up to capacity batches (>= 1).
func NewSpikeQueue(capacity int) (*SpikeQueue, error) {
	q := new(SpikeQueue)
	if err := q.init(capacity); err != nil {
		return nil, fmt.Errorf("spike queue: %w", err)
	}
	return q, nil
}

// item is what a ring carries: a payload that can copy itself into
// reused storage and take its numbers.
type item[T any] interface {
	*T
	copyFrom(src *T)   // deep copy, reusing the receiver's maps and slices
	setSeq(seq uint64) // the item's number since start
	setDropped(n uint64)
}

// ring is the lock-free single-producer single-consumer ring behind Queue
// and SpikeQueue.
type ring[T any, P item[T]] struct {
	slots []atomic.Pointer[entry[T]] // filled by Push, emptied by Pop
	back  []atomic.Pointer[entry[T]] // buffers Pop has finished with, per slot
	head  atomic.Uint64              // number of items pushed so far

	spare *entry[T] // producer only: the buffer the next Push fills

	next      uint64        // consumer only: index of the next item wanted
	delivered uint64        // consumer only: items returned by Pop
	dropped   atomic.Uint64 // items lost: written by Pop, read by anyone
}

// entry is one item buffer and the index of the item it holds.
type entry[T any] struct {
	idx uint64
	t   T
}

// init makes an empty ring of capacity items.
func (q *ring[T, P]) init(capacity int) error {
	if capacity < 1 {
		return fmt.Errorf("capacity: must be >= 1, got %d", capacity)
	}
	q.slots = make([]atomic.Pointer[entry[T]], capacity)
	q.back = make([]atomic.Pointer[entry[T]], capacity)
	q.spare = new(entry[T])
	return nil
}

// Cap returns the number of items the queue holds.
func (q *ring[T, P]) Cap() int { return len(q.slots) }

// Push copies s into the queue, numbering it: Seq is the number of
// samples pushed before it. When the queue is full the oldest sample is
// overwritten. Only one goroutine (the loop) may call Push. It never
// blocks and touches no channel: the consumer polls (a channel send
// would lock the channel, which the consumer's select locks too, and
// make the loop a point where Go's scheduler may requeue it).
func (q *ring[T, P]) Push(s *T) {
	h := q.head.Load()
	e := q.spare
	e.idx = h
	P(&e.t).copyFrom(s)
	P(&e.t).setSeq(h) // so that a reader sees a gap where a sample was lost
	i := h % uint64(len(q.slots))
	old := q.slots[i].Swap(e)
	q.head.Store(h + 1)
	if old == nil {
		// Pop took the last sample of this slot; reuse its buffer if Pop
		// is done with it, else start a new one (only until every slot
		// has cycled once, or when the publisher is a lap behind).
		old = q.back[i].Swap(nil)
		if old == nil {
			old = new(entry[T])
		}
	}
	q.spare = old
}

// Pop copies the oldest sample not yet popped into dst and reports
// whether there was one. dst.Dropped is set to the number of samples
// overwritten before they could be popped, since start. Only one
// goroutine (the publisher) may call Pop.
func (q *ring[T, P]) Pop(dst *T) bool {
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
		P(dst).copyFrom(&e.t)
		P(dst).setDropped(q.next - q.delivered)
		q.back[i].Store(e)
		return true
	}
}

// Dropped returns the number of samples lost so far (as of the last Pop).
func (q *ring[T, P]) Dropped() uint64 { return q.dropped.Load() }

func (t *Telemetry) setSeq(seq uint64)    { t.Seq = seq }
func (t *Telemetry) setDropped(n uint64)  { t.Dropped = n }
func (b *SpikeBatch) setSeq(seq uint64)   { b.Seq = seq }
func (b *SpikeBatch) setDropped(n uint64) { b.Dropped = n }

// copyFrom makes b a deep copy of src, reusing b's trains and their
// slices, so that copying batches of the usual size allocates nothing.
func (b *SpikeBatch) copyFrom(src *SpikeBatch) {
	trains := b.Trains
	*b = *src
	if src.Trains == nil {
		b.Trains = nil
		return
	}
	if cap(trains) < len(src.Trains) {
		trains = append(trains[:cap(trains)], make([]SpikeTrain, len(src.Trains)-cap(trains))...)
	}
	trains = trains[:len(src.Trains)]
	for i := range src.Trains {
		d, s := &trains[i], &src.Trains[i]
		d.Population = s.Population
		d.Neuron = append(d.Neuron[:0], s.Neuron...)
		d.StampMs = append(d.StampMs[:0], s.StampMs...)
	}
	b.Trains = trains
}

// copyFrom makes t a deep copy of src, reusing t's maps and slices so
// that a copy of a sample with the same shape allocates nothing.
func (t *Telemetry) copyFrom(src *Telemetry) { copyTelemetry(t, src) }

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
