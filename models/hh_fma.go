//go:build amd64 || arm64

package models

import "math"

// hhFMA is math.FMA: one rounding, on the operations the HH code
// chooses, the same in each of the RKF45 kernel's code paths. On arm64
// it is one instruction. On amd64 the vector kernel (hh_amd64.s) fuses
// the same operations, and the scalar code that runs beside it (lanes
// outside its range) must round as it does: math.FMA checks the CPU
// flag there (with GOAMD64=v3 it is one instruction too) and computes
// the fused result in software on a CPU without FMA, so every amd64 CPU
// gives the same numbers.
func hhFMA(x, y, z float64) float64 { return math.FMA(x, y, z) }

func hhExpPoly(a float64) float64 {
	t := a + 0.07
	t2 := t * t
	t4 := t2 * t2
	q01 := math.FMA(hhP0, t, hhP1)
	q23 := math.FMA(hhP2, t, hhP3)
	q45 := math.FMA(hhP4, t, hhP5)
	q67 := math.FMA(hhP6, t, hhP7)
	return math.FMA(t, math.FMA(t4, math.FMA(t2, q67, q45), math.FMA(t2, q23, q01)), hhP8)
}
