//go:build !linux

package cpu

// pinThread does nothing where CPU affinity is not supported.
func pinThread(int) error { return nil }
