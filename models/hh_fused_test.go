//go:build !386 && !arm

package models

// hhExact is false: hhFMA fuses (amd64, arm64: hh_fma.go), or the
// compiler fuses x*y + z in the generic solver (ppc64, s390x, riscv64
// and others), in this build (rkfULPs).
const hhExact = false
