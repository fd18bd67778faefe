package cpu

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// A row's list takes deliveries up to its capacity, then gives up
// (whole); clearQueued zeroes exactly the listed entries of a listed row,
// leaves a whole row to clearInputs, and empties both lists.
func TestQueuedLists(t *testing.T) {
	rows := [][]float64{make([]float64, 64), make([]float64, 64)}
	q := []queued{{at: make([]int32, 0, queueCap(64))}, {at: make([]int32, 0, queueCap(64))}}
	queue(&q[0], []uint16{3, 9, 3})
	rows[0][3], rows[0][9] = 1.5, -2
	queue(&q[1], []int32{1, 2, 3})
	queue(&q[1], []int32{4, 5}) // 5 > queueCap(64) = 4
	if q[0].whole || !slices.Equal(q[0].at, []int32{3, 9, 3}) {
		t.Fatalf("row 0: list %v, whole %v; want [3 9 3], listed", q[0].at, q[0].whole)
	}
	if !q[1].whole {
		t.Fatalf("row 1: %d writes listed in a list of %d, not given up", len(q[1].at), cap(q[1].at))
	}
	rows[1][60] = 7 // a write the list does not hold
	clearInputs(0, 64, nil, rows, q)
	if rows[1][60] != 0 {
		t.Errorf("row 1 (whole): entry 60 = %g after clearInputs, want 0", rows[1][60])
	}
	rows[0][40] = 4 // not listed: must survive, which shows the row was not cleared whole
	clearQueued(rows, q)
	if rows[0][3] != 0 || rows[0][9] != 0 || rows[0][40] != 4 {
		t.Errorf("row 0 after clearQueued: [3] %g, [9] %g, [40] %g; want 0, 0, 4", rows[0][3], rows[0][9], rows[0][40])
	}
	for r := range q {
		if len(q[r].at) != 0 || q[r].whole {
			t.Errorf("row %d: list %v, whole %v after the clear; want empty", r, q[r].at, q[r].whole)
		}
	}
}

// Clearing only the written neurons of a row gives what clearing every
// row whole gives, bit for bit, on one and two threads: CUBA at 3,000
// neurons (about 60 writes per step into a row of 2,400, within its list
// of 150), a generator that writes all 2,400 at once at a few steps (past
// the list: the row is cleared whole), and an entry with a delay per
// connection (not listed: whole).
func TestQueuedMatchWhole(t *testing.T) {
	src := CUBASource(3000) + `  - {population: exc, record: [V, I_syn_0, I_syn_1], neurons: [0, 1, 1234, 2399], every: 2}
  - {population: inh, record: [V], neurons: [0, 599]}
`
	delays := make([]string, 600) // burst -> inh: 0.1 to 0.7 ms, one per connection
	for i := range delays {
		delays[i] = fmt.Sprint(0.1 * float64(1+i%7))
	}
	src = strings.Replace(src, "synapses:\n", "  burst: {model: SpikeGenerator, size: 1, params: {spike_times: [5.0, 5.1, 12.3, 20.0]}}\nsynapses:\n", 1)
	src = strings.Replace(src, "monitors:\n", `  - {pre: burst, post: exc, conn: {rule: all_to_all}, weight: 3.0, delay: 0.2, receptor: 0}
  - {pre: burst, post: inh, conn: {rule: all_to_all}, weight: -2.0, delay: [`+strings.Join(delays, ", ")+`], receptor: 1}
monitors:
`, 1)
	lim := models.DefaultLimits
	lim.MaxPairs = 0
	net, err := models.Load([]byte(src), "cuba3000.yaml", models.NewRegistry(), lim)
	if err != nil {
		t.Fatal(err)
	}
	run := func(whole bool, threads int) apu.Record {
		e := New(WithThreads(threads, nil))
		e.wholeRows = whole
		if err := e.Load(net); err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.Threads() != threads {
			t.Fatalf("runs on %d threads, want %d (%s)", e.Threads(), threads, e.ThreadsNote())
		}
		if err := e.Advance(300); err != nil {
			t.Fatal(err)
		}
		var rec apu.Record
		e.Drain(&rec)
		return rec
	}
	want := run(true, 1)
	if len(want.Spikes) < 500 {
		t.Fatalf("%d spikes in 30 ms: too few to test anything", len(want.Spikes))
	}
	for _, threads := range []int{1, 2} {
		got := run(false, threads)
		if !reflect.DeepEqual(got.Spikes, want.Spikes) {
			t.Errorf("%d threads: %d spikes, differing from the %d with rows cleared whole", threads, len(got.Spikes), len(want.Spikes))
		}
		for i := range want.Traces {
			if !reflect.DeepEqual(got.Traces[i].Values, want.Traces[i].Values) {
				t.Errorf("%d threads: trace %s differs from the one with rows cleared whole", threads, want.Traces[i].State)
			}
		}
	}
}
