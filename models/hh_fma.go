//go:build arm64

package models

import "math"

// hhFused: hhFMA fuses (hh.go's hhExpPoly too).
const hhFused = true

// hhFMA is math.FMA, one instruction on arm64: one rounding, on the
// operations the HH code chooses, the same in each of the RKF45 kernel's
// code paths. (amd64 has its own, hh_amd64.go.)
func hhFMA(x, y, z float64) float64 { return math.FMA(x, y, z) }
