//go:build !linux

package telemetry

// lowerThread does nothing outside Linux: the compares still run one at a
// time, at the default priority on any CPU.
func lowerThread(cpus []int) error { return nil }
