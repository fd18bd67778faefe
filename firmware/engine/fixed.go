package engine

import (
	"math/bits"

	"github.com/spikeloop/spikeloop/firmware/image"
)

const (
	maxInt32 = 1<<31 - 1
	minInt32 = -1 << 31
)

// half is the rounding addend of a shift by s: 2^(s-1), 0 for s = 0.
func half(s uint8) int64 { return (int64(1) << s) >> 1 }

// sat clamps v to int32 and counts a saturation in *n when it had to.
func sat(v int64, n *uint64) int32 {
	if v != int64(int32(v)) {
		*n++
		if v < 0 {
			return minInt32
		}
		return maxInt32
	}
	return int32(v)
}

// mul is the product term c·x: round(M·x, S), saturated. |M·x| <= 2^62,
// so the product and its rounding addend fit in int64.
func mul(c image.Coef, x int32, n *uint64) int32 {
	return sat((int64(c.M)*int64(x)+half(c.Shift))>>(c.Shift&63), n)
}

// fcoef is a Coef ready for a loop: the mantissa, the shift masked to
// 0..63 (it is 0..62; the mask lets the compiler emit a bare shift) and
// the rounding addend.
type fcoef struct {
	m int64
	s uint
	h int64
}

func fc(c image.Coef) fcoef { return fcoef{int64(c.M), uint(c.Shift) & 63, half(c.Shift)} }

// mul is mul(c, x, n) for the Coef c was made from.
func (c fcoef) mul(x int32, n *uint64) int32 { return sat((c.m*int64(x)+c.h)>>c.s, n) }

// raw is the rounded product before its clamp: |raw| <= 2^62.
func (c fcoef) raw(x int32) int64 { return (c.m*int64(x) + c.h) >> c.s }

// unit says whether the factor is in [0, 1] (unitBound).
func (c fcoef) unit() bool { return c.m >= 0 && c.m <= int64(1)<<c.s }

// mulSq is the Izhikevich term A·V²: round(M·V·V, S+16), formed in 128
// bits (M·V² reaches 2^93), saturated.
func mulSq(c image.Coef, v int32, n *uint64) int32 {
	sq := uint64(int64(v) * int64(v)) // <= 2^62
	m := int64(c.M)
	um := uint64(m)
	if m < 0 {
		um = uint64(-m)
	}
	hi, lo := bits.Mul64(um, sq)
	if m < 0 { // two's complement of the 128-bit product
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	s := uint(c.Shift) + 16
	// + 2^(s-1), s >= 16
	if s-1 < 64 {
		var carry uint64
		lo, carry = bits.Add64(lo, 1<<(s-1), 0)
		hi += carry
	} else {
		hi += 1 << (s - 1 - 64)
	}
	// Arithmetic shift right by s of the signed 128-bit hi:lo.
	var rhi int64
	var rlo uint64
	if s < 64 {
		rlo = lo>>s | hi<<(64-s)
		rhi = int64(hi) >> s
	} else {
		rlo = uint64(int64(hi) >> (s - 64))
		rhi = int64(hi) >> 63
	}
	if rhi != int64(rlo)>>63 { // beyond int64
		*n++
		if rhi < 0 {
			return minInt32
		}
		return maxInt32
	}
	return sat(int64(rlo), n)
}

// deliver is a connection's contribution: round((m << s)·x, 16),
// saturated.
func deliver(m int16, s uint8, x int32, n *uint64) int32 {
	return sat(((int64(m)<<s)*int64(x)+1<<15)>>16, n)
}
