// Package handoff passes values from the daemon's loop to a goroutine of
// lower standing (the figures' consumer, the recording's writer) without
// a lock.
package handoff

import (
	"fmt"
	"sync/atomic"
	"time"
)

// A Queue is the loop's way of passing values (per-tick figures,
// recording rows) to a goroutine of lower standing without taking a
// lock, as the README's layout section asks of the loop: a Go channel locks on every send,
// and the receiving goroutine takes the same lock, so a loop thread
// under SCHED_FIFO could wait on a thread the scheduler has put aside.
//
// One goroutine pushes and one pops; head and tail are atomics, so a
// slot is written before head says it is there and read before tail
// says it is free. When the queue is full, push drops the new value and
// says so (the caller counts it): the values already queued keep their
// order. The consumer is not woken: it polls every Poll, so the
// loop never touches another goroutine's scheduling.
type Queue[T any] struct {
	slots []T
	head  atomic.Uint64 // values pushed
	tail  atomic.Uint64 // values popped
}

// Poll is how often a consumer looks for new values: often
// enough for a status line (4 per second), rare enough that the
// consumers' wake-ups are few next to the loop's; the queues hold
// several times as many ticks (the daemon's figuresQueue, the recording's queue).
const Poll = 100 * time.Millisecond

// New returns a queue of capacity values.
func New[T any](capacity int) *Queue[T] {
	if capacity < 1 {
		panic(fmt.Sprintf("handoff capacity %d", capacity))
	}
	return &Queue[T]{slots: make([]T, capacity)}
}

// Push copies *v into the queue; false: the queue was full and *v was
// dropped. Only the producer calls it.
func (q *Queue[T]) Push(v *T) bool {
	h := q.head.Load()
	if h-q.tail.Load() == uint64(len(q.slots)) {
		return false
	}
	q.slots[h%uint64(len(q.slots))] = *v
	q.head.Store(h + 1)
	return true
}

// Pop copies the oldest value into *dst; false: the queue was empty.
// Only the consumer calls it.
func (q *Queue[T]) Pop(dst *T) bool {
	t := q.tail.Load()
	if t == q.head.Load() {
		return false
	}
	*dst = q.slots[t%uint64(len(q.slots))]
	q.tail.Store(t + 1)
	return true
}
