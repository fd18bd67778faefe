package sim

import (
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// TestFalls: only Out calls that take an output from high to low count,
// so a watcher that samples between calls still sees a short low pulse.
func TestFalls(t *testing.T) {
	p := NewPin("GPIO25", 25)
	for _, l := range []gpio.Level{gpio.Low, gpio.High, gpio.High, gpio.Low, gpio.Low, gpio.High, gpio.Low} {
		if err := p.Out(l); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Falls(); n != 2 {
		t.Errorf("falls %d, want 2 (the first Out(Low) leaves an unconfigured pin low)", n)
	}
}
