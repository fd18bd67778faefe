//go:build amd64 && !amd64.v3 && !goexperiment.simd

package models

// hhExact: no fused multiply-add anywhere in the HH solvers of this
// build (rkfULPs).
const hhExact = true
