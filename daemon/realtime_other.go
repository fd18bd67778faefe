//go:build !linux

package daemon

import "errors"

var errNotLinux = errors.New("only on Linux")

func pinCPU(int) error  { return errNotLinux }
func setFIFO(int) error { return errNotLinux }

// Without an absolute sleep the real clock falls back to a Go timer.
func monoNow() int64 { return 0 }
func sleepAbs(int64) {}

func tightenTimerSlack() error { return errNotLinux }

func reniceThreads(int) (int, error) { return 0, errNotLinux }
