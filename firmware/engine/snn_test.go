package engine

import (
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// TestSNNZeroDelayChain: Input -> SNNIF -> SNNLIF with delay 0 on both
// synapses: what the host gives for step k reaches both layers in step
// k, spikes included. The expected potentials are computed in float64,
// exact at these magnitudes, with each product rounded half up to 2^-16
// (rnd): SNNIF h = v + X, threshold 1.0 (a value exactly at the
// threshold fires), hard reset to 0; SNNLIF h = v + 0.5·X - 0.25·(v -
// 0.5) with a soft reset by 1.0.
func TestSNNZeroDelayChain(t *testing.T) {
	in := image.Pop{Kind: image.KindInput, Size: 1}
	snnIF := image.Pop{Kind: image.KindSNNIF, Ports: 1, Size: 1, Consts: []int32{One, 0}, Unit: [][]int32{{0}}}
	snnLIF := image.Pop{Kind: image.KindSNNLIF, Flags: image.FlagSoftReset, Ports: 1, Size: 1,
		Coefs:  []image.Coef{{M: 1, Shift: 1}, {M: 1, Shift: 2}},
		Consts: []int32{One, One, One / 2}, Unit: [][]int32{{0}}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{in, snnIF, snnLIF},
		Synapses: []image.Synapse{oneToOne(0, 1, 1, 1, 14, 0), oneToOne(1, 2, 1, 3, 16, 0)}, // 0.25, then 3.0
		Monitors: []image.Monitor{{Pop: 1, Spikes: true, States: []uint8{0}, Every: 1}, {Pop: 2, Spikes: true, States: []uint8{0}, Every: 1}}}
	e := mustNew(t, img)
	// Input 2.0 in steps 0..4: SNNIF gets X = 0.5 per step.
	var wantSpikesIF, wantSpikesLIF []int64
	vIF, vLIF := 0.0, 0.0
	var spikes []Spike
	for k := int64(0); k < 12; k++ {
		x := 0.0
		if k < 5 {
			x = 0.5
			if err := e.SetInput(0, []int32{2 * One}); err != nil {
				t.Fatal(err)
			}
		}
		h := vIF + x
		xl := 0.0
		if h >= 1 {
			wantSpikesIF = append(wantSpikesIF, k+1)
			h = 0
			xl = 3
		}
		vIF = h
		hl := vLIF + rnd(0.5*xl) - rnd(0.25*(vLIF-0.5))
		if hl >= 1 {
			wantSpikesLIF = append(wantSpikesLIF, k+1)
			hl--
		}
		vLIF = hl
		e.Step()
		spikes = e.DrainSpikes(spikes)
		if got := float64(e.State(1, 0)[0]) / One; got != vIF {
			t.Fatalf("step %d: SNNIF v %v, want %v", k, got, vIF)
		}
		if got := float64(e.State(2, 0)[0]) / One; got != vLIF {
			t.Fatalf("step %d: SNNLIF v %v, want %v", k, got, vLIF)
		}
	}
	var gotIF, gotLIF []int64
	for _, s := range spikes {
		if s.Pop == 1 {
			gotIF = append(gotIF, s.Stamp)
		} else {
			gotLIF = append(gotLIF, s.Stamp)
		}
	}
	if len(wantSpikesIF) == 0 || len(wantSpikesLIF) == 0 {
		t.Fatal("the worked example has no spike")
	}
	if !equal(gotIF, wantSpikesIF) || !equal(gotLIF, wantSpikesLIF) {
		t.Errorf("spikes SNNIF %v, SNNLIF %v; want %v, %v", gotIF, gotLIF, wantSpikesIF, wantSpikesLIF)
	}
}

// rnd rounds x half up to a multiple of 2^-16.
func rnd(x float64) float64 { return math.Floor(x*One+0.5) / One }

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
