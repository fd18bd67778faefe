package handoff

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestHandoff: values come out in order, a full queue refuses the new
// value (the ones queued stay), and a producer and a consumer on two
// goroutines lose nothing they did not refuse (run with -race too).
func TestHandoff(t *testing.T) {
	q := New[int](3)
	for i := 1; i <= 3; i++ {
		if !q.Push(&i) {
			t.Fatalf("push %d refused with room", i)
		}
	}
	four := 4
	if q.Push(&four) {
		t.Fatal("a full queue took a value")
	}
	var v int
	for want := 1; want <= 3; want++ {
		if !q.Pop(&v) || v != want {
			t.Fatalf("pop gave %d, want %d", v, want)
		}
	}
	if q.Pop(&v) {
		t.Fatal("pop from an empty queue")
	}

	q = New[int](64)
	const n = 200_000
	var refused []int
	var wg sync.WaitGroup
	var done atomic.Bool
	wg.Go(func() {
		for i := 0; i < n; i++ {
			if !q.Push(&i) {
				refused = append(refused, i)
			}
		}
		done.Store(true)
	})
	var got []int
	for !done.Load() {
		if q.Pop(&v) {
			got = append(got, v)
		}
	}
	wg.Wait()
	for q.Pop(&v) {
		got = append(got, v)
	}
	if len(got)+len(refused) != n {
		t.Fatalf("%d received + %d refused, want %d", len(got), len(refused), n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %d after %d", got[i], got[i-1])
		}
	}
	t.Logf("%d received, %d refused", len(got), len(refused))
}
