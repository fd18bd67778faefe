//go:build !amd64

package models

// hhSIMD is false without GOEXPERIMENT=simd on amd64: the RKF45 kernel
// runs one lane at a time, and stageVec and sumsVec are not called.
const hhSIMD = false

func (k *hhRKF) stageVec(s int, groups uint) { panic("models: no vector kernel in this build") }

func (k *hhRKF) sumsVec(groups uint, dim int) { panic("models: no vector kernel in this build") }
