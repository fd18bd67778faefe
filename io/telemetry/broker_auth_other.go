//go:build !linux

package telemetry

// pinThread does nothing outside Linux: the compares still run one at a
// time, on any CPU.
func pinThread(cpus []int) error { return nil }
