package image

// Hand-made valid images for the tests: one population of every kind,
// synapse entries of every sort (delayed, zero-delay, current, ports),
// monitors of every state list.

// Population indices in fullImage.
const (
	pLIF = iota
	pExpLIF
	pIzh
	pSNNIF
	pSNNLIF
	pDC
	pPoisson
	pBernoulli
	pSpike
	pCustom1
	pCustomN
	pInput
	pInputCurrent
	nPops
)

func rowOf(n int, v int32) []int32 {
	r := make([]int32, n)
	for i := range r {
		r[i] = v + int32(i)
	}
	return r
}

func coefs(n int) []Coef {
	c := make([]Coef, n)
	for i := range c {
		c[i] = Coef{M: int32(1<<30 - 7*i), Shift: uint8(30 + i)}
	}
	return c
}

// csr connects each of pre units to targets (i + j) % post for j < fan.
func csr(pre, post uint32, preSize, postSize, fan int, port, shift uint8, delay uint16) Synapse {
	s := Synapse{Pre: pre, Post: post, Port: port, Shift: shift, Off: make([]uint32, preSize+1)}
	for i := 0; i < preSize; i++ {
		for j := 0; j < fan; j++ {
			s.Target = append(s.Target, uint32((i+j)%postSize))
			s.Weight = append(s.Weight, int16(1000*(i-j)+17))
			s.Delay = append(s.Delay, delay+uint16(j))
		}
		s.Off[i+1] = uint32(len(s.Target))
	}
	return s
}

// fullImage is a valid image with a population of every kind.
func fullImage() *Image {
	img := &Image{Version: Version, DtPicos: 100_000_000, Seed: 0x5eed_1234_abcd}
	pops := make([]Pop, nPops)
	pops[pLIF] = Pop{Kind: KindLIF, Ports: 1, Size: 5, RefSteps: 20, Coefs: coefs(LIFCoefs),
		Consts: []int32{15 << 16, 0}, Unit: [][]int32{rowOf(5, 376<<16), rowOf(5, 0)}}
	pops[pExpLIF] = Pop{Kind: KindExpLIF, Flags: FlagSoftReset, Ports: 2, Size: 4, RefSteps: 2,
		Coefs: coefs(ExpLIFCoefs(2)), Consts: []int32{15 << 16, 15 << 16},
		Unit: [][]int32{rowOf(4, 0), rowOf(4, -3), rowOf(4, 0), rowOf(4, 0)}}
	pops[pIzh] = Pop{Kind: KindIzhikevich, Ports: 1, Size: 3, Coefs: coefs(IzhCoefs),
		Consts: []int32{14 << 16, 30 << 16, -65 << 16, 8 << 16}, Unit: [][]int32{rowOf(3, 10), rowOf(3, -70<<16), rowOf(3, -14<<16)}}
	pops[pSNNIF] = Pop{Kind: KindSNNIF, Ports: 1, Size: 6, Consts: []int32{1 << 16, 0}, Unit: [][]int32{rowOf(6, 0)}}
	pops[pSNNLIF] = Pop{Kind: KindSNNLIF, Flags: FlagSoftReset, Ports: 1, Size: 6, Coefs: coefs(SNNLIFCoefs),
		Consts: []int32{1 << 16, 0, 0}, Unit: [][]int32{rowOf(6, 0)}}
	pops[pDC] = Pop{Kind: KindDC, Flags: FlagCurrent, Size: 5, Unit: [][]int32{rowOf(5, 100<<16)}, Win: Window{First: 10, End: 500}}
	pops[pPoisson] = Pop{Kind: KindPoisson, Flags: FlagBinary, Size: 8, Win: Window{First: 0, End: 1 << 40},
		Unit: [][]int32{rowOf(8, 655), rowOf(8, 1<<30-10000)}}
	pops[pBernoulli] = Pop{Kind: KindBernoulli, Size: 2, Win: Window{First: 3, End: 3}, Unit: [][]int32{{0, 1 << 30}}}
	pops[pSpike] = Pop{Kind: KindSpike, Size: 3,
		SpikeOff: []uint32{0, 2, 2, 5}, SpikeStep: []int64{0, 9, 1, 2, 70}, SpikeVal: []int32{1 << 16, 2 << 16, 1 << 16, 1 << 16, 3 << 16}}
	pops[pCustom1] = Pop{Kind: KindCustom, Flags: FlagBinary, Size: 4, Win: Window{End: 50}, RowWidth: 1, K0: 7, Rows: rowOf(9, 1)}
	pops[pCustomN] = Pop{Kind: KindCustom, Size: 3, Win: Window{First: 2, End: 9}, RowWidth: 3, K0: 2, Rows: rowOf(12, -4)}
	pops[pInput] = Pop{Kind: KindInput, Flags: FlagBinary, Size: 7}
	pops[pInputCurrent] = Pop{Kind: KindInput, Flags: FlagCurrent, Size: 2}
	img.Pops = pops

	img.Synapses = []Synapse{
		csr(pPoisson, pLIF, 8, 5, 3, 0, 4, 1),
		csr(pLIF, pExpLIF, 5, 4, 2, 1, 0, 15),
		csr(pDC, pLIF, 5, 5, 1, 0, 16, 1),            // current source
		csr(pInputCurrent, pSNNIF, 2, 6, 2, 0, 2, 0), // current, zero delay into SNNIF from a generator
		csr(pSNNIF, pSNNLIF, 6, 6, 4, 0, 3, 0),       // zero delay forward
		csr(pSNNLIF, pSNNIF, 6, 6, 1, 0, 3, MaxDelay),
		csr(pSpike, pIzh, 3, 3, 3, 0, 1, 2),
		csr(pCustomN, pIzh, 3, 3, 0, 0, 1, 2), // no connections at all
		csr(pInput, pExpLIF, 7, 4, 1, 0, 5, 3),
	}
	img.Monitors = []Monitor{
		{Pop: pLIF, Spikes: true, States: []uint8{0}, Every: 1},
		{Pop: pExpLIF, States: []uint8{2, 0, 1}, Units: []uint32{3, 0}, Every: 10},
		{Pop: pIzh, Spikes: true, States: []uint8{0, 1}, Units: []uint32{2}, Every: 3},
		{Pop: pSNNLIF, States: []uint8{0}, Every: 1},
		{Pop: pDC, States: []uint8{0}, Every: 7},
		{Pop: pInputCurrent, States: []uint8{0}, Every: 2},
		{Pop: pPoisson, Spikes: true, Every: 1},
	}
	return img
}

// smallImages are valid images of one population kind each, plus the
// empty image.
func smallImages() map[string]*Image {
	full := fullImage()
	out := map[string]*Image{"empty": {Version: Version}}
	for i := range full.Pops {
		p := full.Pops[i]
		img := &Image{Version: Version, DtPicos: 1_000_000, Seed: uint64(i), Pops: []Pop{p}}
		if !p.Kind.IsGenerator() {
			img.Monitors = []Monitor{{Pop: 0, Spikes: true, Every: 1}}
		}
		out[KindName(p.Kind)+"#"+itoa(int64(i))] = img
	}
	return out
}
