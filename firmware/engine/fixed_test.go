package engine

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// roundBig is floor((p + 2^(s-1)) / 2^s) for an exact p, clamped to
// int32, with whether it clamped: the package doc's rule computed with
// big integers, independently of the engine's int64/128-bit code.
func roundBig(p *big.Int, s uint) (int32, bool) {
	r := new(big.Int).Set(p)
	if s > 0 {
		r.Add(r, new(big.Int).Lsh(big.NewInt(1), s-1))
	}
	r.Rsh(r, s) // big.Int's Rsh is floor division for negatives too
	switch {
	case r.Cmp(big.NewInt(math.MaxInt32)) > 0:
		return math.MaxInt32, true
	case r.Cmp(big.NewInt(math.MinInt32)) < 0:
		return math.MinInt32, true
	}
	return int32(r.Int64()), false
}

func TestRoundingRule(t *testing.T) {
	// Ties go up: -2.5 -> -2, 2.5 -> 3, -0.5 -> 0.
	var n uint64
	for _, tc := range []struct {
		m    int32
		s    uint8
		x    int32
		want int32
	}{{5, 1, 1, 3}, {-5, 1, 1, -2}, {-1, 1, 1, 0}, {1, 1, 1, 1}, {3, 2, 1, 1}, {-3, 2, 1, -1}, {7, 0, -3, -21}} {
		if got := mul(image.Coef{M: tc.m, Shift: tc.s}, tc.x, &n); got != tc.want {
			t.Errorf("mul(%d·2^-%d, %d) = %d, want %d", tc.m, tc.s, tc.x, got, tc.want)
		}
	}
	if n != 0 {
		t.Errorf("%d saturations counted on small values", n)
	}
}

// TestProductsAgainstBig: mul, mulSq and deliver against big integers on
// random and extreme operands, saturation counted exactly when the
// result was clamped.
func TestProductsAgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	i32 := func() int32 {
		switch rng.IntN(6) {
		case 0:
			return math.MaxInt32
		case 1:
			return math.MinInt32
		case 2:
			return int32(rng.IntN(2001) - 1000)
		}
		return int32(rng.Uint32())
	}
	for it := 0; it < 200000; it++ {
		m, x := i32(), i32()
		s := uint8(rng.IntN(image.MaxCoefShift + 1))
		c := image.Coef{M: m, Shift: s}
		var n uint64
		want, clamped := roundBig(new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(int64(x))), uint(s))
		if got := mul(c, x, &n); got != want || (n == 1) != clamped {
			t.Fatalf("mul(%d·2^-%d, %d) = %d (sat %d), want %d (clamped %v)", m, s, x, got, n, want, clamped)
		}
		n = 0
		sq := new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(int64(x)))
		want, clamped = roundBig(sq.Mul(sq, big.NewInt(int64(m))), uint(s)+16)
		if got := mulSq(c, x, &n); got != want || (n == 1) != clamped {
			t.Fatalf("mulSq(%d·2^-%d, %d) = %d (sat %d), want %d (clamped %v)", m, s, x, got, n, want, clamped)
		}
		n = 0
		wm, ws := int16(rng.Uint32()), uint8(rng.IntN(image.MaxWeightShift+1))
		p := new(big.Int).Lsh(big.NewInt(int64(wm)), uint(ws))
		want, clamped = roundBig(p.Mul(p, big.NewInt(int64(x))), 16)
		if got := deliver(wm, ws, x, &n); got != want || (n == 1) != clamped {
			t.Fatalf("deliver(%d<<%d, %d) = %d (sat %d), want %d (clamped %v)", wm, ws, x, got, n, want, clamped)
		}
	}
	// A spike (1.0) delivers the weight exactly.
	var n uint64
	if got := deliver(-32768, 16, One, &n); got != math.MinInt32 || n != 0 {
		t.Errorf("deliver(-32768<<16, 1.0) = %d (sat %d)", got, n)
	}
}
