package compile

import (
	"math"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// One is 1.0 in Q16.16.
const One = 1 << 16

// LSB is the value of one Q16.16 step, 2^-16.
const LSB = 1.0 / One

// q16 is x in Q16.16, rounded to nearest (ties away from zero); ok is
// false when x is not finite or outside the int32 range (|x| >= 32768).
func q16(x float64) (int32, bool) {
	r := math.Round(x * One)
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return 0, false
	}
	return int32(r), true
}

// q130 is p in [0, 1] in Q1.30 (1.0 = 1<<30).
func q130(p float64) int32 {
	return int32(math.Round(min(max(p, 0), 1) * (1 << 30)))
}

// coefOf is x as a Coef M·2^-S with |M| < 2^31 and, when the shift range
// allows it, |M| >= 2^30: 31 significant bits. ok is false for a value
// that does not fit (|x| >= 2^31, or not finite).
func coefOf(x float64) (image.Coef, bool) {
	if x == 0 {
		return image.Coef{}, true
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return image.Coef{}, false
	}
	_, e := math.Frexp(x) // |x| = f·2^e, f in [0.5, 1)
	s := 31 - e
	if s > image.MaxCoefShift {
		s = image.MaxCoefShift // a tiny value keeps fewer bits
	}
	for ; s >= 0; s-- {
		m := math.Round(math.Ldexp(x, s))
		if math.Abs(m) <= math.MaxInt32 {
			return image.Coef{M: int32(m), Shift: uint8(s)}, true
		}
	}
	return image.Coef{}, false
}

// coefValue is the real number a Coef stands for.
func coefValue(c image.Coef) float64 { return math.Ldexp(float64(c.M), -int(c.Shift)) }

// weightShift chooses an entry's weight shift from its largest |weight|
// in Q16.16 units (maxQ): the smallest s in 0..MaxWeightShift with
// round(maxQ/2^s) <= 32767, so the mantissas keep the most bits. ok is
// false when even MaxWeightShift does not fit.
func weightShift(maxQ float64) (uint8, bool) {
	for s := 0; s <= image.MaxWeightShift; s++ {
		if math.Round(math.Ldexp(maxQ, -s)) <= math.MaxInt16 {
			return uint8(s), true
		}
	}
	return 0, false
}

// MaxWeight is the largest |weight| an entry can hold: 32767·2^16 in
// Q16.16, i.e. 32767 in the weight's unit.
const MaxWeight = math.MaxInt16 * (1 << image.MaxWeightShift) / One

// weightMantissa is w's mantissa at shift s (rounded to nearest).
func weightMantissa(w float64, s uint8) int16 {
	m := math.Round(math.Ldexp(w*One, -int(s)))
	return int16(min(max(m, math.MinInt16), math.MaxInt16))
}

// weightValue is the weight a mantissa and shift stand for, in the
// weight's unit.
func weightValue(m int16, s uint8) float64 { return math.Ldexp(float64(m), int(s)) / One }

// Q16 is x in Q16.16 rounded to nearest, as the compiler converts every
// value; ok is false when x is not finite or |x| >= 32768. Hosts convert
// run-time values (inputs, generator settings) with it.
func Q16(x float64) (int32, bool) { return q16(x) }

// Q130 is a probability in [0, 1] in Q1.30 (1.0 = 1<<30), clamped.
func Q130(p float64) int32 { return q130(p) }
