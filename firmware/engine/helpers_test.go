package engine

import (
	"github.com/spikeloop/spikeloop/firmware/image/imagetest"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// The numbers of hand-made images: firmware/image/imagetest.
var (
	q    = imagetest.Q
	coef = imagetest.Coef
	fill = imagetest.Fill
)

// Test images are built by hand here, with float64 only to quantize the
// parameters the way a compiler would; the expected values are worked
// out independently in each test.

// coefVal is the value a Coef stands for.
func coefVal(c image.Coef) float64 { return float64(c.M) * math.Ldexp(1, -int(c.Shift)) }

// lifPop is a LIF population with NEST iaf_psc_delta's propagators for
// dt, tau (ms), R (GOhm), potentials relative to rest (mV).
func lifPop(n int, dt, tau, r, th, reset, ie float64, refSteps uint32) image.Pop {
	p33 := math.Exp(-dt / tau)
	return image.Pop{
		Kind: image.KindLIF, Ports: 1, Size: uint32(n), RefSteps: refSteps,
		Coefs:  []image.Coef{image.LIFP33: coef(p33), image.LIFP30: coef(r * (1 - p33))},
		Consts: []int32{image.LIFTh: q(th), image.LIFReset: q(reset)},
		Unit:   [][]int32{image.LIFIe: fill(n, q(ie)), image.LIFY0: fill(n, 0)},
	}
}

// oneToOne connects unit i of pre to unit i of post with weight mantissa
// m, shift s and delay d.
func oneToOne(pre, post uint32, n int, m int16, s uint8, d uint16) image.Synapse {
	syn := image.Synapse{Pre: pre, Post: post, Shift: s, Off: make([]uint32, n+1)}
	for i := 0; i < n; i++ {
		syn.Off[i+1] = uint32(i + 1)
		syn.Target = append(syn.Target, uint32(i))
		syn.Weight = append(syn.Weight, m)
		syn.Delay = append(syn.Delay, d)
	}
	return syn
}

func mustNew(t testing.TB, img *image.Image) *Engine {
	t.Helper()
	e, err := New(img)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// q30 is x in Q1.30.
func q30(x float64) int32 { return int32(math.Round(x * (1 << 30))) }

// randomSyn connects every pre unit to fan targets chosen by rng with
// mantissas in [lo, hi] and delays in [dlo, dhi].
func randomSyn(rng *rand.Rand, pre, post uint32, nPre, nPost, fan int, lo, hi int, s uint8, dlo, dhi int) image.Synapse {
	syn := image.Synapse{Pre: pre, Post: post, Shift: s, Off: make([]uint32, nPre+1)}
	for i := 0; i < nPre; i++ {
		for j := 0; j < fan; j++ {
			syn.Target = append(syn.Target, uint32(rng.IntN(nPost)))
			syn.Weight = append(syn.Weight, int16(lo+rng.IntN(hi-lo+1)))
			syn.Delay = append(syn.Delay, uint16(dlo+rng.IntN(dhi-dlo+1)))
		}
		syn.Off[i+1] = uint32(len(syn.Target))
	}
	return syn
}

// zoo is an image with every kind, ports, current and spike inputs,
// delays from 0 to 9, zero-delay connections that force the update
// order away from the index order, and monitors of every sort.
func zoo() *image.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	const dt = 0.1
	never := image.Window{First: 0, End: math.MaxInt64}
	pops := []image.Pop{
		0: {Kind: image.KindPoisson, Size: 20, Win: never,
			Unit: [][]int32{fill(20, q(0.5)), fill(20, q30(math.Exp(-0.5)))}},
		1: {Kind: image.KindBernoulli, Size: 10, Win: image.Window{First: 2, End: 150}, Unit: [][]int32{fill(10, q30(0.3))}},
		2: {Kind: image.KindDC, Flags: image.FlagCurrent, Size: 3, Win: image.Window{First: 5, End: 80},
			Unit: [][]int32{{q(200), q(-50), q(400)}}},
		3: {Kind: image.KindSpike, Flags: image.FlagBinary, Size: 2, SpikeOff: []uint32{0, 3, 5},
			SpikeStep: []int64{4, 9, 12, 1, 30}, SpikeVal: []int32{One, 2 * One, One, 3 * One, One}},
		4: {Kind: image.KindCustom, Size: 4, Win: never, RowWidth: 1, K0: 3, Rows: []int32{One, 0, 2 * One, One, 0, One}},
		5: {Kind: image.KindInput, Size: 4},
		6: lifPop(20, dt, 10, 0.04, 15, 0, 300, 20),
		7: {Kind: image.KindExpLIF, Ports: 2, Size: 10, RefSteps: 5,
			Coefs: []image.Coef{coef(math.Exp(-dt / 10)), coef(0.04 * (1 - math.Exp(-dt/10))),
				coef(math.Exp(-dt / 2)), coef(0.0095), coef(math.Exp(-dt / 5)), coef(0.0092)},
			Consts: []int32{q(15), q(0)},
			Unit:   [][]int32{fill(10, q(500)), fill(10, q(3)), fill(10, 0), fill(10, q(10))}},
		8: {Kind: image.KindIzhikevich, Ports: 1, Size: 10,
			Coefs:  []image.Coef{coef(dt * 0.04), coef(dt * 5), coef(dt), coef(dt * 0.02), coef(0.2)},
			Consts: []int32{q(dt * 140), q(30), q(-65), q(8)},
			Unit:   [][]int32{fill(10, q(10)), fill(10, q(-65)), fill(10, q(-13))}},
		9: {Kind: image.KindSNNIF, Ports: 1, Size: 4,
			Consts: []int32{q(1), q(0)},
			Unit:   [][]int32{fill(4, 0)}},
		10: {Kind: image.KindSNNLIF, Flags: image.FlagSoftReset, Ports: 1, Size: 4,
			Coefs:  []image.Coef{coef(1.0 / 10), coef(1.0 / 10)},
			Consts: []int32{q(1), q(1), q(0)},
			Unit:   [][]int32{fill(4, 0)}},
	}
	pops[8].Unit[image.IzhIe][3] = q(0)
	syns := []image.Synapse{
		randomSyn(rng, 0, 6, 20, 20, 5, 100, 20000, 4, 1, 5),
		randomSyn(rng, 1, 7, 10, 10, 3, 100, 2000, 8, 1, 3),
		func() image.Synapse { s := randomSyn(rng, 0, 7, 20, 10, 2, -300, -10, 8, 2, 9); s.Port = 1; return s }(),
		randomSyn(rng, 2, 6, 3, 20, 4, 1000, 30000, 0, 1, 2),
		randomSyn(rng, 2, 8, 3, 10, 4, 1000, 30000, 0, 1, 1),
		randomSyn(rng, 3, 8, 2, 10, 5, 1000, 5000, 12, 1, 4),
		randomSyn(rng, 4, 6, 4, 20, 3, 1000, 5000, 10, 1, 2),
		randomSyn(rng, 6, 8, 20, 10, 2, 1000, 8000, 10, 1, 6),
		randomSyn(rng, 8, 6, 10, 20, 3, -8000, 8000, 10, 3, 3),
		randomSyn(rng, 5, 9, 4, 4, 2, 10000, 30000, 2, 0, 0),
		randomSyn(rng, 9, 10, 4, 4, 2, 5000, 30000, 2, 0, 1),
		randomSyn(rng, 6, 9, 20, 4, 1, 1000, 9000, 2, 1, 1),
	}
	mons := []image.Monitor{
		{Pop: 0, Spikes: true, Every: 1},
		{Pop: 1, Spikes: true, Every: 1, Units: []uint32{0, 3, 9}},
		{Pop: 2, Spikes: true, States: []uint8{0}, Every: 1},
		{Pop: 3, Spikes: true, Every: 1},
		{Pop: 4, Spikes: true, Every: 1},
		{Pop: 5, Spikes: true, Every: 1},
		{Pop: 6, Spikes: true, States: []uint8{0}, Every: 3, Units: []uint32{0, 5, 19}},
		{Pop: 7, Spikes: true, States: []uint8{0, 1, 2}, Every: 2},
		{Pop: 8, Spikes: true, States: []uint8{1, 0}, Every: 1},
		{Pop: 9, Spikes: true, States: []uint8{0}, Every: 1},
		{Pop: 10, Spikes: true, States: []uint8{0}, Every: 5},
		{Pop: 6, Spikes: true, Every: 7, Units: []uint32{1, 2}},
	}
	return &image.Image{Version: image.Version, DtPicos: 100_000_000, Seed: 42, Pops: pops, Synapses: syns, Monitors: mons}
}

// drive feeds the zoo's Input population a pattern that depends on the
// step, so that runs are repeatable.
func drive(e *Engine, k int64) {
	v := [4]int32{}
	for i := range v {
		if (k+int64(i))%3 == 0 {
			v[i] = One
		}
	}
	if err := e.SetInput(5, v[:]); err != nil {
		panic(err)
	}
}
