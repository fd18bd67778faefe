package models_test

import (
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

func TestZeroDelayRules(t *testing.T) {
	base := `version: 1
populations:
  in: {model: InputTransmitter, size: 2}
  a: {model: SNNIF, size: 2}
  b: {model: SNNIF, size: 2}
  lif: {model: LIF, size: 2}
synapses:
`
	cases := []struct {
		syn, err string
	}{
		{"  - {pre: in, post: a, conn: {rule: one_to_one}, delay: 0}\n  - {pre: a, post: b, conn: {rule: one_to_one}, delay: 0}\n", ""},
		{"  - {pre: in, post: lif, conn: {rule: one_to_one}, delay: 0}\n", "only allowed into stepwise SNN populations"},
		{"  - {pre: in, post: a, conn: {rule: one_to_one}, delay: 0.05}\n", "must be at least dt (0.1 ms; delays are at least one step), got 0.05 ms"},
		{"  - {pre: a, post: b, conn: {rule: one_to_one}, delay: 0}\n  - {pre: b, post: a, conn: {rule: one_to_one}, delay: 0}\n", `cycle among "a", "b"`},
		{"  - {pre: a, post: a, conn: {rule: one_to_one}, delay: 0}\n", `cycle among "a"`},
		// A cycle with one delayed edge is fine.
		{"  - {pre: a, post: b, conn: {rule: one_to_one}, delay: 0}\n  - {pre: b, post: a, conn: {rule: one_to_one}, delay: 0.1}\n", ""},
	}
	for i, c := range cases {
		net, err := models.Load([]byte(base+c.syn), "z.yaml", models.NewRegistry(), models.DefaultLimits)
		if c.err == "" {
			if err != nil {
				t.Errorf("case %d: %v", i, err)
				continue
			}
			order, _ := net.ZeroDelayOrder()
			pos := map[string]int{}
			for j, p := range order {
				pos[p.Name] = j
			}
			for _, s := range net.Synapses {
				if s.Delays[0] == 0 && pos[s.Pre.Name] >= pos[s.Post.Name] {
					t.Errorf("case %d: %s -> %s has delay 0 but %s is not updated first", i, s.Pre.Name, s.Post.Name, s.Pre.Name)
				}
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("case %d: err = %v, want %q", i, err, c.err)
		}
	}
}
