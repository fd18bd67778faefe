//go:build !386 && !arm && !amd64

package models

// hhExact is false: hhFMA fuses (arm64: hh_fma.go), or the compiler
// fuses x*y + z in the generic solver (ppc64, s390x, riscv64 and
// others), in this build (rkfULPs). amd64 decides at run time
// (hh_amd64_test.go).
const hhExact = false
