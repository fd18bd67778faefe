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

// run steps the zoo n steps with its input and returns the checksum
// after each step, the spikes and the rows' values.
func run(e *Engine, n int) (sums []uint32, spikes []Spike, vals []int32) {
	var rows []Row
	for i := 0; i < n; i++ {
		drive(e, e.Now())
		e.Step()
		sums = append(sums, e.Checksum())
		spikes = e.DrainSpikes(spikes)
		rows, vals = e.DrainRows(rows, vals)
	}
	return sums, spikes, vals
}

// TestResetEqualsNew: a run after Reset (mid-run, with changed
// parameters and rows) equals a fresh engine's run bit for bit: the
// checksum after every step, the spikes and the recorded values.
func TestResetEqualsNew(t *testing.T) {
	img := zoo()
	fresh := mustNew(t, img)
	want0 := fresh.Checksum()
	sums, spikes, vals := run(fresh, 300)

	e := mustNew(t, img)
	run(e, 137)
	if err := e.SetUnit(0, 0, []int32{q(2)}); err != nil { // Poisson lambda
		t.Fatal(err)
	}
	if err := e.SetRows(4, 1, []int32{One, One}); err != nil {
		t.Fatal(err)
	}
	run(e, 5)
	e.Reset()
	if got := e.Checksum(); got != want0 {
		t.Fatalf("checksum after Reset %08x, fresh %08x", got, want0)
	}
	sums2, spikes2, vals2 := run(e, 300)
	for i := range sums {
		if sums[i] != sums2[i] {
			t.Fatalf("step %d: checksum %08x after Reset, %08x fresh", i, sums2[i], sums[i])
		}
	}
	if len(spikes) != len(spikes2) || len(vals) != len(vals2) {
		t.Fatalf("%d spikes, %d values after Reset; %d, %d fresh", len(spikes2), len(vals2), len(spikes), len(vals))
	}
	for i := range spikes {
		if spikes[i] != spikes2[i] {
			t.Fatalf("spike %d: %+v after Reset, %+v fresh", i, spikes2[i], spikes[i])
		}
	}
	for i := range vals {
		if vals[i] != vals2[i] {
			t.Fatalf("value %d: %d after Reset, %d fresh", i, vals2[i], vals[i])
		}
	}
	// The zoo is not trivial: every population does something.
	per := make([]int, len(img.Pops))
	for _, s := range spikes {
		per[s.Pop]++
	}
	for p, n := range per {
		if n == 0 && p != 2 { // DC emits currents
			t.Errorf("population %d (kind %d) never spiked in 300 steps", p, img.Pops[p].Kind)
		}
	}
	t.Logf("spikes per population: %v", per)
}

// TestChecksumSeesState: changing any one run-time value changes the
// checksum (states, counters, rings, random state, the step).
func TestChecksumSeesState(t *testing.T) {
	e := mustNew(t, zoo())
	run(e, 20)
	base := e.Checksum()
	pokes := map[string]func(){
		"LIF y":         func() { e.pops[6].st[3]++ },
		"refractory":    func() { e.pops[7].ref[0]++ },
		"ExpLIF I_1":    func() { e.pops[7].st[2*10+4]-- },
		"Izh u":         func() { e.pops[8].st[10+9] ^= 1 },
		"spike ring":    func() { e.pops[6].wRing[len(e.pops[6].wRing)-1]++ },
		"current ring":  func() { e.pops[8].iRing[0]++ },
		"random state":  func() { e.pops[1].rng++ },
		"saturations":   func() { e.pops[9].sat++ },
		"now":           func() { e.now++ },
		"Spike next":    func() { e.pops[3].next[1]++ },
		"parameter row": func() { e.pops[2].par[0][2]++ },
	}
	for name, poke := range pokes {
		poke()
		if e.Checksum() == base {
			t.Errorf("%s: checksum unchanged", name)
		}
		// A fresh engine for the next poke (the runs are deterministic).
		e = mustNew(t, zoo())
		run(e, 20)
		if e.Checksum() != base {
			t.Fatal("a rerun gave another checksum")
		}
	}
}

// TestDeterminism: two engines on the same image agree; another seed
// changes the random populations only.
func TestDeterminism(t *testing.T) {
	a, b := mustNew(t, zoo()), mustNew(t, zoo())
	sa, _, _ := run(a, 200)
	sb, _, _ := run(b, 200)
	for i := range sa {
		if sa[i] != sb[i] {
			t.Fatalf("step %d: %08x and %08x", i, sa[i], sb[i])
		}
	}
	img := zoo()
	img.Seed++
	c := mustNew(t, img)
	run(c, 200)
	if c.Checksum() == a.Checksum() {
		t.Error("another seed gave the same state")
	}
	if c.pops[0].rng == a.pops[0].rng || c.pops[1].rng == a.pops[1].rng {
		t.Error("another seed gave the same random streams")
	}
}
