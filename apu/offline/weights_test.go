package offline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/models"
)

// A synapse monitor writes <synapse>.weight.csv with one column per
// connection, canonical order, initial row at t = 0, every N steps.
func TestWeightMonitorFile(t *testing.T) {
	src := `version: 1
duration: 10
populations:
  pre: {model: SpikeGenerator, size: 2, params: {spike_times: [2.0]}}
  post: {model: LIF, size: 2}
synapses:
  - {name: syn, pre: pre, post: post, model: STDPSynapse, conn: {rule: all_to_all}, weight: [1.0, 2.0, 3.0, 4.0]}
monitors:
  - {synapse: syn, record: [weight], every: 25}
`
	net, err := models.Load([]byte(src), "w.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := offline.Run(net, cpu.New(), offline.Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "syn.weight.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(data)), "\n")
	if rows[0] != "time_ms,0,1,2,3" || rows[1] != "0,1,2,3,4" {
		t.Errorf("header %q, first row %q", rows[0], rows[1])
	}
	if len(rows) != 1+1+4 || !strings.HasPrefix(rows[5], "10,") {
		t.Errorf("rows %q, want the initial row and samples at 2.5, 5, 7.5, 10 ms", rows[1:])
	}
}
