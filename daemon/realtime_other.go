//go:build !linux

package daemon

import "errors"

var errNotLinux = errors.New("only on Linux")

func pinCPU(int) error  { return errNotLinux }
func setFIFO(int) error { return errNotLinux }
