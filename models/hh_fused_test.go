//go:build !amd64 || amd64.v3 || goexperiment.simd

package models

// hhExact is false: the RKF45 kernel or the compiler fuses multiply-adds
// in this build (rkfULPs).
const hhExact = false
