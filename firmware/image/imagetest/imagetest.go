// Package imagetest builds the numbers of hand-made program images for
// tests of the firmware's packages (engine, chip, emulator): float64
// parameters quantized the way a compiler would. It is not chip code;
// apu/compile is the real quantizer.
package imagetest

import (
	"math"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// Q is x in Q16.16, rounded to nearest.
func Q(x float64) int32 { return int32(math.Round(x * 65536)) }

// Coef is x as a Coef with the largest shift that keeps |M| < 2^31
// (zero: the zero Coef).
func Coef(x float64) image.Coef {
	if x == 0 {
		return image.Coef{}
	}
	s := 0
	for s < image.MaxCoefShift && math.Abs(math.Round(x*math.Ldexp(1, s+1))) < 1<<31 {
		s++
	}
	return image.Coef{M: int32(math.Round(x * math.Ldexp(1, s))), Shift: uint8(s)}
}

// Fill is a row of n copies of x.
func Fill(n int, x int32) []int32 {
	r := make([]int32, n)
	for i := range r {
		r[i] = x
	}
	return r
}
