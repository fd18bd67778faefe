//go:build 386 || arm

package models

// hhExact: no fused multiply-add anywhere in the HH solvers of this
// build (rkfULPs): hhFMA rounds twice (hh_nofma.go), and the compiler
// does not fuse x*y + z on 386 (SSE2) or on 32-bit arm (VMLA rounds
// the product).
const hhExact = true
