//go:build !amd64

package models

// hhSIMD is false on the architectures without the vector kernel (it is
// amd64's, hh_amd64.s): the RKF45 kernel runs one lane at a time, and
// stageVec and sumsVec are not called.
const hhSIMD = false

func (k *hhRKF) stageVec(s int, groups uint) { panic("models: no vector kernel in this build") }

func (k *hhRKF) sumsVec(groups uint, dim int) { panic("models: no vector kernel in this build") }
