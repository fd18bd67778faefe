package cpu

import (
	"path/filepath"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// ringBytes is what Load allocated for the input rings.
func (e *Engine) ringBytes() int64 {
	var b int64
	for _, p := range e.pops {
		for _, slot := range p.wRing {
			for _, row := range slot {
				b += int64(len(row)) * 8
			}
		}
		for _, row := range p.iRing {
			b += int64(len(row)) * 8
		}
	}
	return b
}

// models.Network.RingBytes, which Limits.MaxRingBytes bounds at load, is
// what the engine allocates when every port is targeted, and never less
// than it: a network the loader accepts cannot allocate more rings.
func TestRingBytesBoundsTheEngine(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		exact bool
	}{
		{name: "LIF spikes and currents", exact: true, yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 1}
  dc: {model: DCGenerator, size: 1}
  a: {model: LIF, size: 10}
synapses:
  - {pre: g, post: a, conn: {rule: explicit, pairs: [[0, 0], [0, 1]]}, delay: [0.1, 0.4]}
  - {pre: dc, post: a, conn: {rule: explicit, pairs: [[0, 0]]}, delay: 0.1}
`},
		{name: "ExpLIF, one of two ports used", yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 2}
  a: {model: ExpLIF, size: 7, params: {tau_syn: [2.0, 5.0]}}
synapses:
  - {pre: g, post: a, conn: {rule: all_to_all}, delay: 1.5, receptor: 1}
`},
		{name: "HHPSC by sign", exact: true, yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 2}
  a: {model: HHPSC, size: 3}
synapses:
  - {pre: g, post: a, conn: {rule: all_to_all}, delay: 0.3, weight: [1, -1, 1, -1, 1, -1]}
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, err := models.Load([]byte(c.yaml), "r.yaml", models.NewRegistry(), models.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			checkRings(t, net, c.exact)
		})
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			net, err := models.LoadFile(f, models.NewRegistry(), models.DefaultLimits)
			if err != nil {
				t.Skip(err) // examples that need --input files etc. are tested elsewhere
			}
			checkRings(t, net, false)
		})
	}
}

func checkRings(t *testing.T, net *models.Network, exact bool) {
	t.Helper()
	e := New()
	if err := e.Load(net); err != nil {
		t.Fatal(err)
	}
	got, bound := e.ringBytes(), net.RingBytes()
	if got > bound || (exact && got != bound) {
		t.Errorf("engine allocated %d bytes of rings, RingBytes = %d (exact %v)", got, bound, exact)
	}
}
