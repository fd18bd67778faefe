package engine

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// Checksum is the CRC-32C (Castagnoli) of the engine's whole run-time
// state, every value little-endian, in this order: Now (8 bytes); then
// per population in index order: its saturation count (8), its states
// (state 0's units, then state 1's, ...; 4 each), refractory counters
// (LIF, ExpLIF), parameter rows (by Unit row index), a generator's
// output, the random state (Poisson, Bernoulli; 8), a Spike generator's
// next positions, an Input's next values preceded by 1 if given else 0
// (4), a Custom's K0 (8), row width (4), row count (4) and rows; then the
// spike ring ([slot][port][unit]) and the current ring ([slot][unit]),
// slot s holding the input for the steps k with k % L = s. Records are
// not state and are not included. It allocates nothing.
func (e *Engine) Checksum() uint32 {
	c := checksummer{e: e}
	c.u64(uint64(e.now))
	for i := range e.pops {
		p := &e.pops[i]
		c.u64(p.sat)
		c.i32s(p.st)
		c.i32s(p.ref)
		for _, r := range p.par {
			c.i32s(r)
		}
		c.i32s(p.out)
		if p.kind == image.KindPoisson || p.kind == image.KindBernoulli {
			c.u64(p.rng)
		}
		for _, x := range p.next {
			c.u32(x)
		}
		if p.in != nil {
			if p.hasIn {
				c.u32(1)
			} else {
				c.u32(0)
			}
			c.i32s(p.in)
		}
		if p.rowWidth != 0 {
			c.u64(uint64(p.k0))
			c.u32(uint32(p.rowWidth))
			c.u32(uint32(len(p.rows) / p.rowWidth))
			c.i32s(p.rows)
		}
		c.i32s(p.wRing)
		c.i32s(p.iRing)
	}
	return c.sum()
}

// checksummer feeds values through the engine's scratch buffer.
type checksummer struct {
	e   *Engine
	n   int
	crc uint32
}

func (c *checksummer) room(k int) {
	if c.n+k > len(c.e.buf) {
		c.crc = crc32.Update(c.crc, c.e.crc, c.e.buf[:c.n])
		c.n = 0
	}
}

func (c *checksummer) u32(x uint32) {
	c.room(4)
	binary.LittleEndian.PutUint32(c.e.buf[c.n:], x)
	c.n += 4
}

func (c *checksummer) u64(x uint64) {
	c.room(8)
	binary.LittleEndian.PutUint64(c.e.buf[c.n:], x)
	c.n += 8
}

func (c *checksummer) i32s(xs []int32) {
	for _, x := range xs {
		c.u32(uint32(x))
	}
}

func (c *checksummer) sum() uint32 {
	return crc32.Update(c.crc, c.e.crc, c.e.buf[:c.n])
}
