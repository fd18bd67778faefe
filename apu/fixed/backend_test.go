package fixed_test

import (
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"github.com/spikeloop/spikeloop/apu/fixed"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func() (apu.Backend, error) { return fixed.New(), nil })
}

// More threads than one are noted, not silently dropped.
func TestThreadsNote(t *testing.T) {
	b, _ := fixed.Open(apu.Options{Threads: 2})
	f := b.(*fixed.Backend)
	if f.Threads() != 1 || f.ThreadsNote() == "" {
		t.Errorf("threads %d, note %q", f.Threads(), f.ThreadsNote())
	}
	b, _ = fixed.Open(apu.Options{Threads: 1})
	if n := b.(*fixed.Backend).ThreadsNote(); n != "" {
		t.Errorf("one thread asked: note %q", n)
	}
}
