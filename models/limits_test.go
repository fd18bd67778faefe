package models_test

import (
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// Files at or just inside the robustness limits (refractory length,
// spike-time copies, fixed_total_num draws, delay rings) still load, with
// what they asked for; the cases past them are in badNetworks.
func TestLimitsValidFilesLoad(t *testing.T) {
	lim := models.Limits{MaxUnits: 200_000, MaxConnections: 100_000, MaxPairs: 100_000, MaxSpikeTimes: 5, MaxRingBytes: 800}
	cases := []struct {
		name  string
		yaml  string
		lim   models.Limits
		check func(t *testing.T, net *models.Network)
	}{
		{name: "tau_ref of 2e9 steps", lim: models.DefaultLimits, yaml: `version: 1
dt: 0.001
populations:
  a: {model: LIF, size: 1, params: {tau_ref: 2.0e6}}
  b: {model: HH, size: 1, params: {tau_ref: 2.0e6}}
  c: {model: GLIF3, size: 1, params: {tau_ref: 2.0e6}}
`},
		{name: "spike times exactly at the limit", lim: lim, yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 2, params: {spike_times: [[1, 2], [3]]}}
  h: {model: SpikeGenerator, size: 1, params: {spike_times: [1, 2]}}
  i: {model: SpikeGenerator, size: 3}
`, check: func(t *testing.T, net *models.Network) {
			out := make([]float64, 2)
			g := net.Population("g").Model.(models.Generator)
			if g.Emit(9, out); out[0] != 1 || out[1] != 0 {
				t.Errorf("g at step 9 emitted %v, want [1 0]", out)
			}
		}},
		{name: "fixed_total_num inside the pair limit", lim: models.Limits{MaxUnits: 1000, MaxConnections: 100_000, MaxPairs: 50_000}, yaml: `version: 1
populations:
  a: {model: LIF, size: 100}
synapses:
  - {pre: a, post: a, conn: {rule: fixed_total_num, n: 5000}}
`, check: func(t *testing.T, net *models.Network) {
			if n := len(net.Synapses[0].Conns); n != 5000 {
				t.Errorf("%d connections, want 5000", n)
			}
		}},
		// 65536^2 = 2^32 wraps a 32-bit int to 0: GOARCH=386/arm must agree with amd64.
		{name: "fixed_total_num between populations of 65536", lim: models.DefaultLimits, yaml: `version: 1
populations:
  a: {model: SpikeGenerator, size: 65536}
  b: {model: LIF, size: 65536}
synapses:
  - {pre: a, post: b, conn: {rule: fixed_total_num, n: 10}}
`, check: func(t *testing.T, net *models.Network) {
			if n := len(net.Synapses[0].Conns); n != 10 {
				t.Errorf("%d connections, want 10", n)
			}
		}},
		{name: "delay rings exactly at the limit", lim: lim, yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 1}
  dc: {model: DCGenerator, size: 1}
  a: {model: LIF, size: 10}
synapses:
  - {pre: g, post: a, conn: {rule: explicit, pairs: [[0, 0], [0, 1]]}, delay: [0.1, 0.5]}
  - {pre: dc, post: a, conn: {rule: explicit, pairs: [[0, 0]]}, delay: 0.1}
`, check: func(t *testing.T, net *models.Network) {
			if b := net.RingBytes(); b != 800 {
				t.Errorf("RingBytes = %d, want 5 slots x 10 neurons x 2 rows x 8 = 800", b)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, err := models.Load([]byte(c.yaml), "ok.yaml", models.NewRegistry(), c.lim)
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, net)
			}
		})
	}
}

// A Limits value without the newer fields (0) puts no bound of their own,
// as MaxPairs does: callers that spell out their Limits keep working.
func TestLimitsZeroMeansNoBound(t *testing.T) {
	src := `version: 1
populations:
  g: {model: SpikeGenerator, size: 3, params: {spike_times: [1, 2, 3]}}
  a: {model: LIF, size: 3}
synapses:
  - {pre: g, post: a, conn: {rule: one_to_one}, delay: 100.0}
`
	if _, err := models.Load([]byte(src), "z.yaml", models.NewRegistry(), models.Limits{MaxUnits: 10, MaxConnections: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := models.Load([]byte(src), "z.yaml", models.NewRegistry(), models.Limits{MaxUnits: 10, MaxConnections: 10, MaxSpikeTimes: 8})
	if err == nil || !strings.Contains(err.Error(), "z.yaml:3: populations.g.params.spike_times") {
		t.Errorf("MaxSpikeTimes 8: err = %v, want the spike_times of g (9 copies)", err)
	}
}

func TestDefaultLimitsBoundEverything(t *testing.T) {
	d := models.DefaultLimits
	if d.MaxSpikeTimes != 10_000_000 || d.MaxRingBytes != 1<<30 || d.MaxPairs <= 0 {
		t.Errorf("DefaultLimits = %+v", d)
	}
}
