package engine

import "github.com/spikeloop/spikeloop/firmware/image"

// Sizes in bytes of one record as the chip stores it.
const (
	spikeBytes = 16 // Spike: pop, unit (4 + 4), stamp (8)
	rowBytes   = 24 // Row: monitor (4), state (1), padding (3), n (4), stamp (8)
)

// plan is what New allocates for an image, computed from the image alone
// so that RAM can say it before anything is allocated.
type plan struct {
	ringLen            []int  // per population: longest delay into it + 1
	spikeIn, currentIn []bool // per population: has a spike ring, a current ring
	spikeStep          int    // worst case of spike records per step
	traces, traceVals  int    // state rows per sample of every monitor, and their values
	spikeCap           int
	rowCap, valCap     int
}

func layout(img *image.Image) plan {
	n := len(img.Pops)
	pl := plan{ringLen: make([]int, n), spikeIn: make([]bool, n), currentIn: make([]bool, n)}
	for i := range pl.ringLen {
		pl.ringLen[i] = 1
	}
	for si := range img.Synapses {
		s := &img.Synapses[si]
		for _, d := range s.Delay {
			pl.ringLen[s.Post] = max(pl.ringLen[s.Post], int(d)+1)
		}
		if img.Pops[s.Pre].Flags&image.FlagCurrent != 0 {
			pl.currentIn[s.Post] = true
		} else {
			pl.spikeIn[s.Post] = true
		}
	}
	on := make([][]bool, n)
	for mi := range img.Monitors {
		m := &img.Monitors[mi]
		p := &img.Pops[m.Pop]
		units := len(m.Units)
		if units == 0 {
			units = int(p.Size)
		}
		pl.traces += len(m.States)
		pl.traceVals += len(m.States) * units
		if !m.Spikes || p.Flags&image.FlagCurrent != 0 {
			continue
		}
		if on[m.Pop] == nil {
			on[m.Pop] = make([]bool, p.Size)
		}
		for u := range on[m.Pop] {
			if len(m.Units) == 0 {
				on[m.Pop][u] = true
			}
		}
		for _, u := range m.Units {
			on[m.Pop][u] = true
		}
	}
	for _, o := range on {
		for _, b := range o {
			if b {
				pl.spikeStep++
			}
		}
	}
	pl.reserve(1)
	return pl
}

// reserve sets the record capacities for the worst case of steps steps
// after the initial rows.
func (pl *plan) reserve(steps int) {
	pl.spikeCap = steps * pl.spikeStep
	pl.rowCap = (steps + 1) * pl.traces
	pl.valCap = (steps + 1) * pl.traceVals
}

func (e *Engine) reserve(steps int) {
	if steps < 1 {
		steps = 1
	}
	pl := layout(e.img)
	pl.reserve(steps)
	if pl.spikeCap > cap(e.spikes) {
		s := make([]Spike, len(e.spikes), pl.spikeCap)
		copy(s, e.spikes)
		e.spikes = s
	}
	if pl.rowCap > cap(e.rows) {
		r := make([]Row, len(e.rows), pl.rowCap)
		copy(r, e.rows)
		e.rows = r
	}
	if pl.valCap > cap(e.vals) {
		v := make([]int32, len(e.vals), pl.valCap)
		copy(v, e.vals)
		e.vals = v
	}
}

// RAM is the number of bytes of run-time memory the engine needs for
// img, besides the image itself: per population its states and
// refractory counters, its parameter rows (a copy the host may change),
// a generator's output, the list of units that spiked, the random
// state, a Spike generator's positions, an Input's next values, the
// input rings and their dirty flags (one byte per slot and port); per
// monitored population a byte per unit saying whether its spikes are
// recorded; the record buffers at their default capacity (records of
// spikeBytes and rowBytes, values of 4 bytes). Values are 4 bytes,
// counters of saturations and random states 8. Fixed-size bookkeeping
// (a few words per population, synapse entry and monitor) is not
// counted, nor rows a host gives later with SetRows. An image New
// refuses gives 0.
func RAM(img *image.Image) int64 {
	if img == nil || image.Validate(img) != nil || check(img) != nil {
		return 0
	}
	pl := layout(img)
	var b int64
	for i := range img.Pops {
		ip := &img.Pops[i]
		n := int64(ip.Size)
		ports := int64(ip.Ports)
		if !ip.Kind.IsGenerator() && ports < 1 {
			ports = 1
		}
		b += int64(states(ip)) * n * 4
		if ip.Kind == image.KindLIF || ip.Kind == image.KindExpLIF {
			b += n * 4
		}
		b += int64(len(paramRows(ip.Kind))) * n * 4
		if ip.Kind.IsGenerator() {
			b += n * 4
		}
		b += n * 4 // spiked
		b += 8     // saturations
		switch ip.Kind {
		case image.KindPoisson, image.KindBernoulli:
			b += 8
		case image.KindSpike:
			b += n * 4
		case image.KindInput:
			b += n*4 + 1
		}
		L := int64(pl.ringLen[i])
		if pl.spikeIn[i] {
			b += L*ports*n*4 + L*ports
		}
		if pl.currentIn[i] {
			b += L*n*4 + L
		}
	}
	for mi := range img.Monitors {
		m := &img.Monitors[mi]
		if m.Spikes && img.Pops[m.Pop].Flags&image.FlagCurrent == 0 {
			// Once per population, at its first spike monitor.
			first := true
			for j := 0; j < mi; j++ {
				o := &img.Monitors[j]
				if o.Pop == m.Pop && o.Spikes {
					first = false
				}
			}
			if first {
				b += int64(img.Pops[m.Pop].Size)
			}
		}
	}
	b += int64(pl.spikeCap)*spikeBytes + int64(pl.rowCap)*rowBytes + int64(pl.valCap)*4
	return b
}

// allocated sums the same arrays over what New really allocated (the
// test compares it with RAM).
func (e *Engine) allocated() int64 {
	var b int64
	for i := range e.pops {
		p := &e.pops[i]
		b += int64(cap(p.st)+cap(p.ref)+cap(p.out)+cap(p.spiked)+cap(p.next)+cap(p.in)) * 4
		for _, r := range p.par {
			b += int64(cap(r)) * 4
		}
		b += int64(cap(p.wRing)+cap(p.iRing))*4 + int64(cap(p.wDirty)+cap(p.iDirty))
		b += 8
		if p.kind == image.KindPoisson || p.kind == image.KindBernoulli {
			b += 8
		}
		if p.kind == image.KindInput {
			b++
		}
	}
	for _, on := range e.spikeOn {
		b += int64(cap(on))
	}
	b += int64(cap(e.spikes))*spikeBytes + int64(cap(e.rows))*rowBytes + int64(cap(e.vals))*4
	return b
}
