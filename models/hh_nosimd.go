//go:build !(goexperiment.simd && amd64)

package models

// hhSIMD is false without GOEXPERIMENT=simd on amd64: the RKF45 kernel
// runs one lane at a time, and stageVec and sumsVec are not called.
const hhSIMD = false

func (k *hhRKF) stageVec(s int, groups uint) { panic("models: no vector kernel in this build") }

func (k *hhRKF) sumsVec(groups uint, dim int) { panic("models: no vector kernel in this build") }

// hhFMA is x*y + z, which the compiler fuses into one instruction where
// that needs no run-time check (arm64, amd64 with GOAMD64=v3). Not
// math.FMA: on amd64 by default that is a check of the CPU flag per
// operation with a call to the software FMA beside it, around which
// the register allocator spills: HH1000 RKF45 took 2.19-2.25 CPU s per
// simulated second with math.FMA here, 2.06-2.07 with x*y + z.
func hhFMA(x, y, z float64) float64 { return x*y + z }

// hhExpPoly is written out with x*y + z, which costs the inliner less
// than hhFMA calls: it stays inlined in core.
func hhExpPoly(a float64) float64 {
	t := a + 0.07
	t2 := t * t
	t4 := t2 * t2
	q01 := hhP0*t + hhP1
	q23 := hhP2*t + hhP3
	q45 := hhP4*t + hhP5
	q67 := hhP6*t + hhP7
	return t*(t4*(t2*q67+q45)+(t2*q23+q01)) + hhP8
}
