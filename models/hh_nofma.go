//go:build !amd64 && !arm64

package models

// hhFused: hhFMA rounds twice (hh.go's hhExpPoly too).
const hhFused = false

// hhFMA is x*y + z rounded twice, on the architectures other than amd64
// and arm64 (hh_fma.go): 32-bit arm, 386, and others. The conversions
// keep the compiler from fusing it (it fuses x*y + z on ppc64, s390x or
// riscv64, or not, depending on what is around the expression), so that
// the RKF45 kernel's lanes compute the same numbers in each of its code
// paths (TestHHPSCZeroShortcut), and on 386 and arm the generic
// solver's (TestHHRKFMatchesGeneric). The HH code writes every other
// product that meets an addition with such a conversion too. Not
// math.FMA: on 386 and 32-bit arm that is a software routine per
// operation.
func hhFMA(x, y, z float64) float64 { return float64(x*y) + float64(z) }
