package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// TestLIFConstantCurrent: with a constant I_e from y = 0 the exact
// solution is y_m = R·I_e·(1 - P33^m), so the first spike has stamp
// m* = ceil(ln(1 - Th/(R·I_e)) / ln P33) and, with a hard reset to 0 and
// R_ref refractory steps, the next ones come every m* + R_ref steps. The
// fixed-point potential stays within the rounding bound of the float
// solution at every step: one rounding of at most 1/2 LSB per product
// (two per step) plus the quantized coefficients' error, accumulated
// through the decay P33: |e| <= (1 LSB + |dP33|·|y| + |dP30|·I_e)/(1-P33).
func TestLIFConstantCurrent(t *testing.T) {
	const dt, tau, r, ie, th = 0.1, 10.0, 0.04, 500.0, 15.0
	const refSteps = 20
	img := &image.Image{Version: image.Version, Pops: []image.Pop{lifPop(1, dt, tau, r, th, 0, ie, refSteps)},
		Monitors: []image.Monitor{{Pop: 0, Spikes: true, States: []uint8{0}, Every: 1}}}
	e := mustNew(t, img)
	p33 := math.Exp(-dt / tau)
	yInf := r * ie
	m := int64(math.Ceil(math.Log(1-th/yInf) / math.Log(p33)))
	if m != 139 {
		t.Fatalf("worked example: m* = %d, want 139", m)
	}
	c := img.Pops[0].Coefs
	lsb := 1.0 / 65536
	bound := (lsb + math.Abs(coefVal(c[image.LIFP33])-p33)*th + math.Abs(coefVal(c[image.LIFP30])-r*(1-p33))*ie) / (1 - p33)
	var rows []Row
	var vals []int32
	var spikes []Spike
	worst := 0.0
	last := int64(0) // stamp of the last spike
	for k := int64(0); k < 3*(m+refSteps); k++ {
		e.Step()
		spikes = e.DrainSpikes(spikes)
		rows, vals = e.DrainRows(rows[:0], vals[:0])
		y := float64(vals[len(vals)-1]) / 65536
		since := k + 1 - last // steps integrated since the reset, counting refractory ones
		var want float64
		switch {
		case last > 0 && since <= refSteps:
			want = 0
		case last > 0:
			want = yInf * (1 - math.Pow(p33, float64(since-refSteps)))
		default:
			want = yInf * (1 - math.Pow(p33, float64(k+1)))
		}
		if len(spikes) > 0 && spikes[len(spikes)-1].Stamp == k+1 {
			last = k + 1
			continue
		}
		worst = max(worst, math.Abs(y-want))
	}
	if worst > bound {
		t.Errorf("worst |y - exact| = %.3g mV, bound %.3g mV", worst, bound)
	}
	want := []int64{m, 2*m + refSteps, 3*m + 2*refSteps}
	if len(spikes) != len(want) {
		t.Fatalf("spikes %v, want stamps %v", spikes, want)
	}
	for i, s := range spikes {
		if s.Stamp != want[i] || s.Pop != 0 || s.Unit != 0 {
			t.Errorf("spike %d: %+v, want stamp %d", i, s, want[i])
		}
	}
	t.Logf("m* = %d, worst error %.3g mV (bound %.3g)", m, worst, bound)
}

// TestDelay: a spike emitted in step k through a connection of delay D
// changes the target's state reported at stamp k+1+D by exactly the
// weight (mantissa << shift), and not before. The target does not leak
// (P33 = 1, P30 = 0), so the state is the sum of what arrived.
func TestDelay(t *testing.T) {
	for _, d := range []uint16{1, 2, 7, 31} {
		src := image.Pop{Kind: image.KindSpike, Size: 1, SpikeOff: []uint32{0, 1}, SpikeStep: []int64{3}, SpikeVal: []int32{One}}
		tgt := image.Pop{Kind: image.KindLIF, Ports: 1, Size: 1,
			Coefs:  []image.Coef{{M: 1, Shift: 0}, {}},
			Consts: []int32{q(100), 0},
			Unit:   [][]int32{{0}, {0}}}
		img := &image.Image{Version: image.Version, Pops: []image.Pop{src, tgt},
			Synapses: []image.Synapse{oneToOne(0, 1, 1, 1234, 3, d)},
			Monitors: []image.Monitor{{Pop: 1, States: []uint8{0}, Every: 1}, {Pop: 0, Spikes: true, Every: 1}}}
		e := mustNew(t, img)
		var rows []Row
		var vals []int32
		e.Run(0)
		for k := int64(0); k < 50; k++ {
			e.Step()
			rows, vals = e.DrainRows(rows[:0], vals[:0])
			stamp := k + 1
			want := int32(0)
			if stamp >= 4+int64(d) {
				want = 1234 << 3
			}
			if got := vals[len(vals)-1]; got != want || rows[len(rows)-1].Stamp != stamp {
				t.Fatalf("D = %d: stamp %d: y = %d (row %+v), want %d", d, stamp, got, rows[len(rows)-1], want)
			}
		}
		if sp := e.DrainSpikes(nil); len(sp) != 1 || sp[0].Stamp != 4 {
			t.Errorf("D = %d: generator spikes %+v, want one at stamp 4", d, sp)
		}
	}
}

// TestLIFRefractoryDropsInput: a weight arriving while the target is
// refractory is lost (iaf_psc_delta); one arriving the step after counts.
func TestLIFRefractoryDropsInput(t *testing.T) {
	// Unit 0 spikes in step 0 (y0 above threshold): refractory in steps
	// 1..3. Spikes from the generator arrive in steps 2 and 4.
	gen := image.Pop{Kind: image.KindSpike, Size: 1, SpikeOff: []uint32{0, 2}, SpikeStep: []int64{1, 3}, SpikeVal: []int32{One, One}}
	tgt := image.Pop{Kind: image.KindLIF, Ports: 1, Size: 1, RefSteps: 3,
		Coefs:  []image.Coef{{M: 1, Shift: 0}, {}},
		Consts: []int32{q(10), 0},
		Unit:   [][]int32{{0}, {q(11)}}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{gen, tgt},
		Synapses: []image.Synapse{oneToOne(0, 1, 1, 1, 16, 1)}, // 1.0 mV
		Monitors: []image.Monitor{{Pop: 1, Spikes: true, States: []uint8{0}, Every: 1}}}
	e := mustNew(t, img)
	e.Reserve(6)
	e.Run(6)
	if e.Dropped() != 0 {
		t.Fatalf("%d records dropped after Reserve(6)", e.Dropped())
	}
	_, vals := e.DrainRows(nil, nil)
	want := []int32{q(11), 0, 0, 0, 0, q(1), q(1)} // stamps 0..6
	for i, w := range want {
		if vals[i] != w {
			t.Fatalf("y at stamps 0..6 = %v, want %v", vals, want)
		}
	}
	if sp := e.DrainSpikes(nil); len(sp) != 1 || sp[0].Stamp != 1 {
		t.Errorf("spikes %+v, want one at stamp 1", sp)
	}
}

// TestLIFFastPath: stepLIF's loops without clamps (factors in [0, 1], no
// input; one I_e for all or one each) give the general loop's bits,
// saturation counts and spikes, on random and extreme potentials and
// currents.
func TestLIFFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cs := range [][2]image.Coef{
		{coef(math.Exp(-0.01)), coef(0.04 * (1 - math.Exp(-0.01)))},
		{{M: 1, Shift: 0}, {M: 1 << 30, Shift: 30}}, // exactly 1.0
		{{M: math.MaxInt32, Shift: 31}, {M: 0, Shift: 0}},
		{{M: 3, Shift: 62}, {M: 5, Shift: 3}},
	} {
		const n = 4000
		mk := func() *Engine {
			p := lifPop(n, 0.1, 10, 0.04, 15, 0, 0, 3)
			p.Coefs = cs[:]
			p.Consts[image.LIFTh] = int32(rng.Uint32())
			return mustNew(t, &image.Image{Version: image.Version, Pops: []image.Pop{p}})
		}
		for _, flat := range []bool{false, true} {
			a := mk()
			b := mk()
			b.pops[0].cons = a.pops[0].cons
			flatIe := int32(rng.Uint32())
			for i := 0; i < n; i++ {
				x, ie := int32(rng.Uint32()), int32(rng.Uint32())
				switch i % 4 {
				case 0:
					x, ie = math.MaxInt32, math.MaxInt32
				case 1:
					x, ie = math.MinInt32, math.MinInt32
				}
				if flat {
					ie = flatIe
				}
				a.pops[0].st[i], b.pops[0].st[i] = x, x
				a.pops[0].par[image.LIFIe][i], b.pops[0].par[image.LIFIe][i] = ie, ie
				r := int32(rng.IntN(3))
				a.pops[0].ref[i], b.pops[0].ref[i] = r, r
			}
			a.pops[0].parChanged()
			b.pops[0].parChanged()
			if a.pops[0].flat != flat {
				t.Fatalf("flat %v after I_e rows with flat %v", a.pops[0].flat, flat)
			}
			for k := 0; k < 5; k++ {
				pa, pb := &a.pops[0], &b.pops[0]
				pa.spiked, pb.spiked = pa.spiked[:0], pb.spiked[:0]
				stepLIF(pa, nil, nil)
				stepLIFGeneral(pb, nil, nil)
				for i := range pa.st {
					if pa.st[i] != pb.st[i] || pa.ref[i] != pb.ref[i] {
						t.Fatalf("%v step %d unit %d: fast y %d ref %d, general %d %d", cs, k, i, pa.st[i], pa.ref[i], pb.st[i], pb.ref[i])
					}
				}
				if pa.sat != pb.sat || len(pa.spiked) != len(pb.spiked) {
					t.Fatalf("%v step %d: saturations %d/%d, spikes %d/%d", cs, k, pa.sat, pb.sat, len(pa.spiked), len(pb.spiked))
				}
			}
		}
	}
}

// TestLIFSetUnitLeavesFlat: after SetUnit gives units different I_e, the
// step uses each unit's own (the loop for one I_e is left), and Reset
// goes back to the image's.
func TestLIFSetUnitLeavesFlat(t *testing.T) {
	img := &image.Image{Version: image.Version, Pops: []image.Pop{lifPop(3, 0.1, 10, 0.04, 15, 0, 100, 2)}}
	e := mustNew(t, img)
	if err := e.SetUnit(0, image.LIFIe, []int32{q(100), q(200), q(300)}); err != nil {
		t.Fatal(err)
	}
	e.Step()
	y := e.State(0, 0)
	c := img.Pops[0].Coefs[image.LIFP30]
	for i, ie := range []float64{100, 200, 300} {
		var n uint64
		if want := mul(c, q(ie), &n); y[i] != want {
			t.Errorf("unit %d: y %d after one step from 0, want P30·I_e = %d", i, y[i], want)
		}
	}
	e.Reset()
	e.Step()
	if y := e.State(0, 0); y[0] != y[2] {
		t.Errorf("after Reset the units differ: %v", y)
	}
}
