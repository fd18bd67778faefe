//go:build unix

// Package cputime reads the process's own CPU time, the figure the
// benchmarks and `spikeloop bench engine` report next to the wall clock:
// other jobs on a shared machine inflate it much less.
package cputime

import "syscall"

// Seconds is the process's user and system CPU time in seconds (0 if
// the system does not say).
func Seconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
