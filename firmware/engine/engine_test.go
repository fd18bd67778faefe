package engine

import (
	"testing"
)

// TestNoAllocs: a step, with the host's input and the drains into
// reused buffers, allocates nothing.
func TestNoAllocs(t *testing.T) {
	e := mustNew(t, zoo())
	var sp []Spike
	var rows []Row
	var vals []int32
	sp = make([]Spike, 0, 1024)
	rows = make([]Row, 0, 1024)
	vals = make([]int32, 0, 4096)
	n := testing.AllocsPerRun(500, func() {
		drive(e, e.Now())
		e.Step()
		sp = e.DrainSpikes(sp[:0])
		rows, vals = e.DrainRows(rows[:0], vals[:0])
		_ = e.Checksum()
	})
	if n != 0 {
		t.Errorf("%v allocations per step", n)
	}
	if e.Dropped() != 0 {
		t.Errorf("%d records dropped while draining every step", e.Dropped())
	}
}

// TestRAM: RAM(img) is exactly the bytes of the arrays New allocated.
func TestRAM(t *testing.T) {
	img := zoo()
	e := mustNew(t, img)
	if got, want := RAM(img), e.allocated(); got != want || got <= 0 {
		t.Errorf("RAM = %d, allocated %d", got, want)
	}
}
