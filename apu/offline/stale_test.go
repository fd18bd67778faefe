package offline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// TestRunRemovesStaleOutput: a run deletes what an earlier run of
// another network left in OutDir (files named and headed as Run writes
// them) and nothing else.
func TestRunRemovesStaleOutput(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		// An earlier run's outputs: removed.
		"old.V.csv":      "time_ms,0,1,2\n0,-70,-70,-70\n",
		"old-2.g_ex.csv": "time_ms,17\n",
		"syn.weight.csv": "time_ms\n0\n",
		// The user's: kept.
		"notes.csv":        "time_ms,0,1\n",     // one dot: not an output name
		"my.data.csv":      "time,value\n0,1\n", // not a trace header
		"odd.V.csv":        "time_ms,0,x\n",     // not column numbers
		"trail.V.csv":      "time_ms,0,\n",      // a trailing comma
		"glued.V.csv":      "time_ms0\n",        // not time_ms then a comma
		"crlf.V.csv":       "time_ms,0\r\n",     // another writer's line end
		"in.csv":           "0,1\n2,0\n",        // an input
		"old.V.csv.bak":    "time_ms,0\n",       // not .csv
		"a.b.c.csv":        "time_ms,0\n",       // two dots in the name
		"readme.txt":       "population,neuron,time_ms\n",
		"sub/inner.V.csv":  "time_ms,0\n", // in a subfolder
		"spikes.V.csv.old": "time_ms,0\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A folder and a link named as outputs are left alone.
	os.Mkdir(filepath.Join(dir, "dir.V.csv"), 0o755)
	os.Symlink(filepath.Join(dir, "old.V.csv"), filepath.Join(dir, "link.V.csv"))

	net, err := models.Load([]byte(`version: 1
duration: 1.0
populations:
  cells: {model: LIF, size: 2}
monitors:
  - {population: cells, record: [spikes, V]}
`), "net.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(net, cpu.New(), Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, p := range sum.Removed {
		removed = append(removed, filepath.Base(p))
	}
	slices.Sort(removed)
	if want := []string{"old-2.g_ex.csv", "old.V.csv", "syn.weight.csv"}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, name := range removed {
		if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", name, err)
		}
	}
	for name := range files {
		if slices.Contains(removed, filepath.Base(name)) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"dir.V.csv", "link.V.csv"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// What the run writes is there and new.
	v, _ := os.ReadFile(filepath.Join(dir, "cells.V.csv"))
	if !strings.HasPrefix(string(v), "time_ms,0,1\n") {
		t.Errorf("cells.V.csv: %.40q", v)
	}

	// A second run of the same network removes nothing: its own files
	// are rewritten, not reported.
	sum, err = Run(net, cpu.New(), Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Removed) != 0 {
		t.Errorf("second run removed %v", sum.Removed)
	}

}

func TestOwnOutput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text   string
		spikes bool
		want   bool
	}{
		{"population,neuron,time_ms\nexc,0,0.1\n", true, true},
		{"population,neuron,time_ms", true, true},
		{"population,neuron,time\n", true, false},
		{"", true, false},
		{"time_ms\n", false, true},
		{"time_ms", false, true},
		{"time_ms,0,1,12345\n0,1,2,3\n", false, true},
		{"time_ms," + strings.Repeat("123,", 100000) + "7\n", false, true},
		{"time_ms,\n", false, false},
		{"time_ms,,1\n", false, false},
		{"time_ms1\n", false, false},
		{"time_m\n", false, false},
		{"", false, false},
		{"time_ms,a\n", false, false},
	} {
		p := filepath.Join(dir, "f.x.csv")
		os.WriteFile(p, []byte(c.text), 0o644)
		got, err := ownOutput(p, c.spikes)
		if err != nil || got != c.want {
			t.Errorf("%.30q (spikes %v): %v, %v; want %v", c.text, c.spikes, got, err, c.want)
		}
	}
}
