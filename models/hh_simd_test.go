//go:build goexperiment.simd && amd64

package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// invRoot4 does rkfInvRoot5's and rkfInvRoot6's operations on four lanes:
// the same numbers (within an ulp, should the compiler fuse a scalar
// multiply-add), over the ranges rkfControl takes them and beyond.
func TestInvRoot4(t *testing.T) {
	if !hhSIMD {
		t.Skip("no AVX2 and FMA on this CPU: the vector kernel is not used")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for i := range 20000 {
		var r [4]float64
		for j := range r {
			// log-uniform from 1e-12 to 1e12, and the control's ranges
			r[j] = math.Pow(10, -12+24*rng.Float64())
			if i%2 == 0 {
				r[j] = rkfGrowCap + (0.5-rkfGrowCap)*rng.Float64()
			}
		}
		var got5, got6 [4]float64
		invRoot4(c4(&r), kRoot5).Store(&got5)
		invRoot4(c4(&r), kRoot6).Store(&got6)
		for j := range r {
			for _, c := range []struct{ got, want float64 }{{got5[j], rkfInvRoot5(r[j])}, {got6[j], rkfInvRoot6(r[j])}} {
				d := math.Abs(c.got-c.want) / ulp(c.want)
				worst = max(worst, d)
				if !(d <= 1) {
					t.Fatalf("r %g: %.17g in the vector, %.17g scalar", r[j], c.got, c.want)
				}
			}
		}
	}
	t.Logf("largest difference: %.1f ulps", worst)
}
