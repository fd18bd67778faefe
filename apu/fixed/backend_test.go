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
