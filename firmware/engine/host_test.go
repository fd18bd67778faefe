package engine

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// TestSaturationCounted: results that leave int32 saturate and are
// counted on the population that owns them, nowhere else: two
// deliveries of 32767<<16 into one accumulator (the second saturates,
// on the target), then the target's sum y + W (saturates again, at the
// threshold MaxInt32, so the neuron spikes).
func TestSaturationCounted(t *testing.T) {
	gen := image.Pop{Kind: image.KindSpike, Size: 2, SpikeOff: []uint32{0, 1, 2}, SpikeStep: []int64{0, 0}, SpikeVal: []int32{One, One}}
	tgt := image.Pop{Kind: image.KindLIF, Ports: 1, Size: 2, Coefs: []image.Coef{{M: 1}, {}},
		Consts: []int32{math.MaxInt32, 0}, Unit: [][]int32{{0, 0}, {q(100), q(-100)}}}
	all := image.Synapse{Pre: 0, Post: 1, Shift: 16, Off: []uint32{0, 1, 2}, Target: []uint32{0, 0}, Weight: []int16{32767, 32767}, Delay: []uint16{1, 1}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{gen, tgt}, Synapses: []image.Synapse{all}}
	e := mustNew(t, img)
	e.Step()
	if got := e.Saturations(1); got != 1 {
		t.Fatalf("after step 0: %d saturations on the target, want 1 (the second delivery)", got)
	}
	e.Step()
	// y saturated at MaxInt32, which is the threshold: a spike, reset to 0.
	if got := e.State(1, 0); got[0] != 0 || got[1] != q(-100) || e.pops[1].ref[0] != 0 || len(e.pops[1].spiked) != 1 {
		t.Errorf("y = %v, spiked %v, want [0 %d] after a spike of unit 0", got, e.pops[1].spiked, q(-100))
	}
	if got := e.Saturations(1); got != 2 {
		t.Errorf("%d saturations on the target, want 2", got)
	}
	if e.Saturations(0) != 0 || e.Saturations(5) != 0 {
		t.Error("saturations counted elsewhere")
	}
	e.Reset()
	if e.Saturations(1) != 0 {
		t.Error("Reset kept the saturation count")
	}
}

// TestHostCalls: SetInput is for the next step only, SetUnit changes a
// parameter row from the next step on, SetRows starts a Custom's new
// rows at Now(), Reset restores the image's values, and bad arguments
// are errors naming the argument.
func TestHostCalls(t *testing.T) {
	in := image.Pop{Kind: image.KindInput, Flags: image.FlagBinary, Size: 2}
	dc := image.Pop{Kind: image.KindDC, Flags: image.FlagCurrent, Size: 2, Win: always, Unit: [][]int32{{q(1), q(2)}}}
	cu := image.Pop{Kind: image.KindCustom, Size: 2, Win: image.Window{First: 0, End: 100}, RowWidth: 2, K0: 1, Rows: []int32{One, 0, 0, 3 * One}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{in, dc, cu}}
	e := mustNew(t, img)
	out := func(p int) [2]int32 { s := e.State(p, 0); return [2]int32{s[0], s[1]} }

	if err := e.SetInput(0, []int32{5 * One, 0}); err != nil {
		t.Fatal(err)
	}
	e.Step() // step 0
	if out(0) != [2]int32{One, 0} || out(2) != [2]int32{0, 0} || out(1) != [2]int32{q(1), q(2)} {
		t.Fatalf("step 0: input %v (binary), custom %v, dc %v", out(0), out(2), out(1))
	}
	if err := e.SetUnit(1, image.DCAmp, []int32{q(-7)}); err != nil {
		t.Fatal(err)
	}
	e.Step() // step 1: no input given; custom row 0
	if out(0) != [2]int32{0, 0} || out(2) != [2]int32{One, 0} || out(1) != [2]int32{q(-7), q(-7)} {
		t.Fatalf("step 1: input %v, custom %v, dc %v", out(0), out(2), out(1))
	}
	if err := e.SetRows(2, 1, []int32{2 * One, 4 * One}); err != nil {
		t.Fatal(err)
	}
	e.Step() // step 2: new row 0 (width 1: every unit)
	if out(2) != [2]int32{2 * One, 2 * One} {
		t.Fatalf("step 2: custom %v after SetRows", out(2))
	}
	e.Run(2) // step 3: row 1; step 4: past the rows
	if out(2) != [2]int32{0, 0} {
		t.Fatalf("step 4: custom %v past its rows", out(2))
	}
	e.Reset()
	e.Run(3) // the image's rows and amplitude again: step 2 is row 1
	if out(2) != [2]int32{0, 3 * One} || out(1) != [2]int32{q(1), q(2)} {
		t.Fatalf("after Reset: custom %v, dc %v", out(2), out(1))
	}

	for _, tc := range []struct {
		err  error
		want string
	}{
		{e.SetInput(1, []int32{0, 0}), "pop = 1: not an Input"},
		{e.SetInput(0, []int32{0}), "len(v) = 1: want the population's size 2"},
		{e.SetInput(9, nil), "pop = 9: no such population"},
		{e.SetUnit(1, 1, []int32{0}), "row = 1: not a parameter row"},
		{e.SetUnit(0, 0, []int32{0}), "row = 0: not a parameter row"},
		{e.SetUnit(1, 0, []int32{0, 0, 0}), "len(v) = 3"},
		{e.SetRows(1, 1, nil), "pop = 1: not a Custom"},
		{e.SetRows(2, 3, []int32{0, 0, 0}), "width = 3"},
		{e.SetRows(2, 2, []int32{0, 0, 0}), "len(rows) = 3: not a multiple of width 2"},
	} {
		var ee *Error
		if !errors.As(tc.err, &ee) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", tc.err, tc.want)
		}
	}
	if e.State(0, 1) != nil || e.State(-1, 0) != nil || e.State(3, 0) != nil {
		t.Error("State out of range is not nil")
	}
	pois := mustNew(t, &image.Image{Version: image.Version, Pops: []image.Pop{{Kind: image.KindPoisson, Size: 1, Win: always,
		Unit: [][]int32{{0}, {1 << 30}}}}})
	if err := pois.SetUnit(0, image.PoissonExpNeg, []int32{1<<30 + 1}); err == nil || !strings.Contains(err.Error(), "v = 1073741825") {
		t.Errorf("ExpNeg above 1.0: %v", err)
	}
	if err := pois.SetUnit(0, image.PoissonLambda, []int32{-1}); err == nil {
		t.Error("a negative lambda was taken")
	}
}

// TestNewRefuses: New returns Validate's error for an invalid image and
// never panics; RAM gives 0 for it.
func TestNewRefuses(t *testing.T) {
	img := zoo()
	img.Synapses[0].Target[3] = 999
	if _, err := New(img); err == nil || !strings.Contains(err.Error(), "target[3]") {
		t.Errorf("New: %v, want the target named", err)
	}
	if RAM(img) != 0 {
		t.Error("RAM of an invalid image is not 0")
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
	// The engine's own check catches what it relies on even without
	// Validate (here: called directly).
	img = zoo()
	img.Pops[3].SpikeOff[1] = 99
	if err := check(img); err == nil {
		t.Error("check accepted a SpikeOff beyond the table")
	}
}

// TestRecordsDropped: records beyond the buffers' capacity are counted,
// never stored by allocation; Reserve makes room for more steps; what
// was kept is the oldest.
func TestRecordsDropped(t *testing.T) {
	p := image.Pop{Kind: image.KindLIF, Ports: 1, Size: 5, Coefs: []image.Coef{{M: 1}, {M: 1}},
		Consts: []int32{q(1), 0}, Unit: [][]int32{fill(5, q(2)), fill(5, 0)}} // spikes every step
	img := &image.Image{Version: image.Version, Pops: []image.Pop{p},
		Monitors: []image.Monitor{{Pop: 0, Spikes: true, States: []uint8{0}, Every: 1}}}
	e := mustNew(t, img)
	e.Run(3)
	// Capacity: 5 spikes (one step), 2 rows (initial + one step).
	if got := e.Dropped(); got != 10+2 {
		t.Errorf("dropped %d, want 12 (10 spikes, 2 rows)", got)
	}
	sp := e.DrainSpikes(nil)
	rows, _ := e.DrainRows(nil, nil)
	if len(sp) != 5 || sp[0].Stamp != 1 || len(rows) != 2 || rows[1].Stamp != 1 {
		t.Errorf("kept %d spikes (first %+v), %d rows: want the oldest, 5 and 2", len(sp), sp[0], len(rows))
	}
	e.Reset()
	e.Reserve(3)
	e.Run(3)
	if e.Dropped() != 0 {
		t.Errorf("dropped %d after Reserve(3)", e.Dropped())
	}
	if sp := e.DrainSpikes(nil); len(sp) != 15 {
		t.Errorf("%d spikes after Reserve(3), want 15", len(sp))
	}
}
