package daemon

import (
	"fmt"
	"io"
)

// CheckConfig loads and validates the daemon config at path (the
// network, the board's parts and pins, the telemetry section) without
// opening hardware that changes state, and writes a summary of it to w.
// It returns the config's errors, every one at once; nil means the
// config is valid. It backs `spikeloop check --config FILE`.
func CheckConfig(path string, w io.Writer) error {
	c, err := LoadConfig(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s: ok (tick %v, %d network steps per tick)\n", path, c.TickDuration(), c.StepsPerTick())
	return err
}
