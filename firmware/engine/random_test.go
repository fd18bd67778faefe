package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// randomImage builds a valid image of random kinds with parameters drawn
// anywhere in their ranges (extreme values included), random
// connections (zero delays where the rules allow them) and monitors.
func randomImage(rng *rand.Rand) *image.Image {
	i32 := func() int32 {
		switch rng.IntN(6) {
		case 0:
			return math.MaxInt32
		case 1:
			return math.MinInt32
		case 2:
			return int32(rng.IntN(1<<22) - 1<<21)
		}
		return int32(rng.Uint32())
	}
	cf := func() image.Coef {
		return image.Coef{M: i32(), Shift: uint8(rng.IntN(image.MaxCoefShift + 1))}
	}
	row := func(n int) []int32 {
		r := make([]int32, n)
		for i := range r {
			r[i] = i32()
		}
		return r
	}
	win := func() image.Window {
		a := int64(rng.IntN(30))
		return image.Window{First: a, End: a + int64(rng.IntN(40))}
	}
	kinds := []image.Kind{image.KindLIF, image.KindExpLIF, image.KindIzhikevich, image.KindSNNIF, image.KindSNNLIF,
		image.KindDC, image.KindPoisson, image.KindBernoulli, image.KindSpike, image.KindCustom, image.KindInput}
	img := &image.Image{Version: image.Version, Seed: rng.Uint64()}
	np := 1 + rng.IntN(6)
	for pi := 0; pi < np; pi++ {
		k := kinds[rng.IntN(len(kinds))]
		n := 1 + rng.IntN(12)
		p := image.Pop{Kind: k, Size: uint32(n)}
		if !k.IsGenerator() {
			p.Ports = 1
		}
		switch k {
		case image.KindLIF, image.KindExpLIF:
			if k == image.KindExpLIF {
				p.Ports = uint8(1 + rng.IntN(image.MaxPorts))
			}
			p.RefSteps = uint32(rng.IntN(5))
			if rng.IntN(2) == 0 {
				p.Flags = image.FlagSoftReset
			}
		case image.KindSNNIF, image.KindSNNLIF:
			if rng.IntN(2) == 0 {
				p.Flags = image.FlagSoftReset
			}
		case image.KindDC:
			p.Flags, p.Win = image.FlagCurrent, win()
		case image.KindPoisson:
			p.Win = win()
			p.Unit = [][]int32{make([]int32, n), make([]int32, n)}
			for i := 0; i < n; i++ {
				p.Unit[0][i] = int32(rng.Int64N(1 << 31))
				p.Unit[1][i] = int32(rng.IntN(1<<30 + 1))
			}
		case image.KindBernoulli:
			p.Win = win()
			p.Unit = [][]int32{make([]int32, n)}
			for i := range p.Unit[0] {
				p.Unit[0][i] = int32(rng.IntN(1<<30 + 1))
			}
		case image.KindSpike:
			p.SpikeOff = []uint32{0}
			for u := 0; u < n; u++ {
				s := int64(0)
				for j := rng.IntN(4); j > 0; j-- {
					s += 1 + int64(rng.IntN(10))
					p.SpikeStep = append(p.SpikeStep, s)
					p.SpikeVal = append(p.SpikeVal, i32())
				}
				p.SpikeOff = append(p.SpikeOff, uint32(len(p.SpikeStep)))
			}
		case image.KindCustom:
			p.Win, p.K0 = win(), int64(rng.IntN(20))
			p.RowWidth = 1
			if rng.IntN(2) == 0 {
				p.RowWidth = uint32(n)
			}
			p.Rows = row(int(p.RowWidth) * rng.IntN(8))
		case image.KindInput:
			if rng.IntN(2) == 0 {
				p.Flags = image.FlagCurrent
			}
		}
		if k == image.KindPoisson || k == image.KindBernoulli || k == image.KindSpike || k == image.KindCustom || (k == image.KindInput && p.Flags == 0) {
			if rng.IntN(2) == 0 {
				p.Flags |= image.FlagBinary
			}
		}
		nc, nk, nu := need(&p)
		for len(p.Coefs) < nc {
			p.Coefs = append(p.Coefs, cf())
		}
		for len(p.Consts) < nk {
			p.Consts = append(p.Consts, i32())
		}
		for len(p.Unit) < nu {
			p.Unit = append(p.Unit, row(n))
		}
		img.Pops = append(img.Pops, p)
	}
	for s := rng.IntN(6); s > 0; s-- {
		pre, post := rng.IntN(np), rng.IntN(np)
		pp, qp := &img.Pops[pre], &img.Pops[post]
		if qp.Kind.IsGenerator() {
			continue
		}
		zeroOK := (qp.Kind == image.KindSNNIF || qp.Kind == image.KindSNNLIF) && (pp.Kind.IsGenerator() || post > pre)
		syn := image.Synapse{Pre: uint32(pre), Post: uint32(post), Shift: uint8(rng.IntN(image.MaxWeightShift + 1)), Off: []uint32{0}}
		if pp.Flags&image.FlagCurrent == 0 && qp.Kind == image.KindExpLIF {
			syn.Port = uint8(rng.IntN(int(qp.Ports)))
		}
		for i := 0; i < int(pp.Size); i++ {
			for c := rng.IntN(4); c > 0; c-- {
				d := uint16(1 + rng.IntN(40))
				if zeroOK && rng.IntN(2) == 0 {
					d = 0
				}
				syn.Target = append(syn.Target, uint32(rng.IntN(int(qp.Size))))
				syn.Weight = append(syn.Weight, int16(rng.Uint32()))
				syn.Delay = append(syn.Delay, d)
			}
			syn.Off = append(syn.Off, uint32(len(syn.Target)))
		}
		img.Synapses = append(img.Synapses, syn)
	}
	for pi := range img.Pops {
		p := &img.Pops[pi]
		m := image.Monitor{Pop: uint32(pi), Spikes: rng.IntN(2) == 0, Every: uint32(1 + rng.IntN(3))}
		for s := 0; s < image.States(p); s++ {
			if rng.IntN(2) == 0 {
				m.States = append(m.States, uint8(s))
			}
		}
		if rng.IntN(2) == 0 {
			m.Units = []uint32{uint32(rng.IntN(int(p.Size))), 0}
		}
		img.Monitors = append(img.Monitors, m)
	}
	return img
}

// TestRandomImages: 400 random valid images with parameters anywhere in
// their ranges run 60 steps with the host's inputs, without a panic and
// without an allocation, and again after Reset with the same checksums;
// the initial checksum after Reset is New's.
func TestRandomImages(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	ran := 0
	for it := 0; it < 400; it++ {
		img := randomImage(rng)
		if err := image.Validate(img); err != nil {
			t.Fatalf("image %d: the generator made an invalid image: %v", it, err)
		}
		e := mustNew(t, img)
		c0 := e.Checksum()
		e.Reserve(1)
		in := make([][]int32, len(img.Pops))
		for p := range img.Pops {
			in[p] = make([]int32, img.Pops[p].Size)
		}
		var sp []Spike
		var rows []Row
		var vals []int32
		run := func() []uint32 {
			var sums []uint32
			for k := 0; k < 60; k++ {
				for p := range img.Pops {
					if img.Pops[p].Kind == image.KindInput && k%3 != 2 {
						for i := range in[p] {
							in[p][i] = int32((uint32(k)*2654435761 + uint32(i)*40503) >> 7)
						}
						if err := e.SetInput(p, in[p]); err != nil {
							t.Fatal(err)
						}
					}
				}
				e.Step()
				sp = e.DrainSpikes(sp[:0])
				rows, vals = e.DrainRows(rows[:0], vals[:0])
				sums = append(sums, e.Checksum())
			}
			return sums
		}
		a := run()
		e.Reset()
		if e.Checksum() != c0 {
			t.Fatalf("image %d: checksum after Reset differs from New's", it)
		}
		b := run()
		for k := range a {
			if a[k] != b[k] {
				t.Fatalf("image %d step %d: %08x, after Reset %08x", it, k, a[k], b[k])
			}
		}
		if n := testing.AllocsPerRun(3, func() {
			e.Step()
			sp = e.DrainSpikes(sp[:0])
			rows, vals = e.DrainRows(rows[:0], vals[:0])
		}); n != 0 {
			t.Fatalf("image %d: %v allocations per step", it, n)
		}
		if e.Dropped() != 0 {
			t.Fatalf("image %d: %d records dropped", it, e.Dropped())
		}
		ran++
	}
	t.Logf("%d random images", ran)
}
