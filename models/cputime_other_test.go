//go:build !unix

package models

// cpuSeconds is not measured here.
func cpuSeconds() float64 { return 0 }
