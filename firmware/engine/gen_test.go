package engine

import (
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

var always = image.Window{First: 0, End: math.MaxInt64}

// counts runs a one-population image for steps steps and returns every
// unit's output per step in units of 1.0.
func counts(t *testing.T, p image.Pop, steps int) []int64 {
	t.Helper()
	e := mustNew(t, &image.Image{Version: image.Version, Seed: 7, Pops: []image.Pop{p}})
	var out []int64
	for k := 0; k < steps; k++ {
		e.Step()
		for _, x := range e.State(0, 0) {
			if x%One != 0 {
				t.Fatalf("output %d is not a whole count", x)
			}
			out = append(out, int64(x/One))
		}
	}
	return out
}

// TestPoissonMoments: the counts of 1000 units over 2000 steps have the
// mean and variance of Poisson(lambda) within 5 standard errors (the
// standard error of the mean is sqrt(lambda/N), of the variance
// sqrt((lambda + 2·lambda²)/N)), and the frequencies of 0..3 within 5
// binomial standard errors of exp(-lambda)·lambda^k/k!.
func TestPoissonMoments(t *testing.T) {
	for _, lam := range []float64{0.01, 0.3, 2.5, 9} {
		const units, steps = 1000, 2000
		p := image.Pop{Kind: image.KindPoisson, Size: units, Win: always,
			Unit: [][]int32{fill(units, q(lam)), fill(units, q30(math.Exp(-lam)))}}
		xs := counts(t, p, steps)
		lq := float64(q(lam)) / 65536
		n := float64(len(xs))
		var sum, sum2 float64
		freq := make([]float64, 4)
		for _, x := range xs {
			sum += float64(x)
			if x < 4 {
				freq[x]++
			}
		}
		mean := sum / n
		for _, x := range xs {
			sum2 += (float64(x) - mean) * (float64(x) - mean)
		}
		v := sum2 / (n - 1)
		if se := math.Sqrt(lq / n); math.Abs(mean-lq) > 5*se {
			t.Errorf("lambda %g: mean %.5f, want %.5f ± %.2g", lam, mean, lq, 5*se)
		}
		if se := math.Sqrt((lq + 2*lq*lq) / n); math.Abs(v-lq) > 5*se {
			t.Errorf("lambda %g: variance %.5f, want %.5f ± %.2g", lam, v, lq, 5*se)
		}
		pk := math.Exp(-lq)
		for k := 0; k < 4; k++ {
			f := freq[k] / n
			if se := math.Sqrt(pk * (1 - pk) / n); math.Abs(f-pk) > 5*se+1e-9 {
				t.Errorf("lambda %g: P(%d) %.5f, want %.5f ± %.2g", lam, k, f, pk, 5*se)
			}
			pk *= lq / float64(k+1)
		}
		t.Logf("lambda %g: mean %.5f variance %.5f", lam, mean, v)
	}
}

// TestBernoulliAndBinary: Bernoulli's frequency is Prob within 5
// standard errors; a binary Poisson emits 1.0 with probability
// 1 - exp(-lambda).
func TestBernoulliAndBinary(t *testing.T) {
	const units, steps = 500, 2000
	for _, prob := range []float64{0, 0.05, 0.5, 1} {
		p := image.Pop{Kind: image.KindBernoulli, Size: units, Win: always, Unit: [][]int32{fill(units, q30(prob))}}
		xs := counts(t, p, steps)
		ones := 0
		for _, x := range xs {
			ones += int(x)
		}
		f := float64(ones) / float64(len(xs))
		if se := math.Sqrt(prob * (1 - prob) / float64(len(xs))); math.Abs(f-prob) > 5*se {
			t.Errorf("prob %g: frequency %.5f", prob, f)
		}
	}
	lam := 1.5
	p := image.Pop{Kind: image.KindPoisson, Flags: image.FlagBinary, Size: units, Win: always,
		Unit: [][]int32{fill(units, q(lam)), fill(units, q30(math.Exp(-lam)))}}
	xs := counts(t, p, steps)
	ones := 0
	for _, x := range xs {
		if x > 1 {
			t.Fatalf("binary Poisson emitted %d", x)
		}
		ones += int(x)
	}
	want := 1 - math.Exp(-lam)
	if f := float64(ones) / float64(len(xs)); math.Abs(f-want) > 5*math.Sqrt(want*(1-want)/float64(len(xs))) {
		t.Errorf("binary Poisson: frequency %.5f, want %.5f", f, want)
	}
}

// TestDrawsOnlyInActiveSteps: the streams advance by exactly one draw
// per unit per active step (a unit's rate does not matter) and not at
// all outside the window, so the outputs in the window are those of a
// run that starts at the window.
func TestDrawsOnlyInActiveSteps(t *testing.T) {
	mk := func(first int64, lam []int32) *Engine {
		p := image.Pop{Kind: image.KindPoisson, Size: 3, Win: image.Window{First: first, End: first + 50},
			Unit: [][]int32{lam, {q30(1), q30(math.Exp(-3)), q30(math.Exp(-0.2))}}}
		p.Unit[1][0] = q30(1)
		return mustNew(t, &image.Image{Version: image.Version, Seed: 9, Pops: []image.Pop{p}})
	}
	a := mk(0, []int32{0, q(3), q(0.2)})
	b := mk(20, []int32{0, q(3), q(0.2)})
	b.Run(20)
	if b.pops[0].rng != streamSeed(9, 0) {
		t.Fatal("the stream advanced outside the window")
	}
	for k := 0; k < 60; k++ {
		a.Step()
		b.Step()
		for u := 0; u < 3; u++ {
			if a.State(0, 0)[u] != b.State(0, 0)[u] {
				t.Fatalf("step %d unit %d: %d and %d", k, u, a.State(0, 0)[u], b.State(0, 0)[u])
			}
		}
		if a.State(0, 0)[0] != 0 {
			t.Fatal("lambda 0 emitted")
		}
	}
	// 3 draws per active step: the state is the seed plus 150 increments.
	g := uint64(golden)
	if want := streamSeed(9, 0) + 150*g; a.pops[0].rng != want {
		t.Errorf("stream state %x after 50 active steps, want %x", a.pops[0].rng, want)
	}
}

// TestCurrentWindowAndDelay: a DC generator active in steps 5..7 with
// delay 2 feeds a neuron that integrates its current without leak
// (P33 = 1, P30 = 1): the current acts in steps 7..9, so y at stamps
// 8, 9, 10 is 2, 4, 6 pA·1 and stays 6.
func TestCurrentWindowAndDelay(t *testing.T) {
	dc := image.Pop{Kind: image.KindDC, Flags: image.FlagCurrent, Size: 1, Win: image.Window{First: 5, End: 8}, Unit: [][]int32{{q(2)}}}
	tgt := image.Pop{Kind: image.KindLIF, Ports: 1, Size: 1, Coefs: []image.Coef{{M: 1}, {M: 1}}, Consts: []int32{q(1000), 0}, Unit: [][]int32{{0}, {0}}}
	img := &image.Image{Version: image.Version, Pops: []image.Pop{dc, tgt},
		Synapses: []image.Synapse{oneToOne(0, 1, 1, 1, 16, 2)},
		Monitors: []image.Monitor{{Pop: 1, States: []uint8{0}, Every: 1}, {Pop: 0, States: []uint8{0}, Every: 1}}}
	e := mustNew(t, img)
	e.Reserve(20)
	e.Run(15)
	rows, vals := e.DrainRows(nil, nil)
	var y, dcOut []int32
	for i, r := range rows { // one value per row
		if r.Monitor == 0 {
			y = append(y, vals[i])
		} else {
			dcOut = append(dcOut, vals[i])
		}
	}
	want := []int32{0, 0, 0, 0, 0, 0, 0, 0, q(2), q(4), q(6), q(6), q(6), q(6), q(6), q(6)}
	wantDC := []int32{0, 0, 0, 0, 0, 0, q(2), q(2), q(2), 0, 0, 0, 0, 0, 0, 0} // the output of step k at stamp k+1
	for k := range want {
		if y[k] != want[k] || dcOut[k] != wantDC[k] {
			t.Fatalf("y at stamps 0..15 = %v, want %v; DC out %v, want %v", y, want, dcOut, wantDC)
		}
	}
}
