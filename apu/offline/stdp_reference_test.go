package offline_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// stdpCase is one case of the reference's stdp folder: a network file
// with a plastic synapse entry named "plastic" onto population "post",
// and what NEST computed for it.
type stdpCase struct {
	Case       string `json:"case"`
	PostSpikes []struct {
		Neuron int     `json:"neuron"`
		T      float64 `json:"t"`
	} `json:"post_spikes"`
	WeightsAtPre []struct {
		T    float64 `json:"t"`
		Pre  int     `json:"pre"`
		Post int     `json:"post"`
		W    float64 `json:"w"`
	} `json:"weights_at_pre_spikes"`
	Tolerance struct {
		SpikeMs   float64 `json:"spike_ms"`
		WeightAbs float64 `json:"weight_abs"`
	} `json:"tolerance"`
}

// TestSTDPReference runs every case of the reference's stdp folder as
// `spikeloop sim` would and compares the post population's spikes and
// the weight of each connection right after each of its presynaptic
// spikes with NEST's, at the case's tolerances.
func TestSTDPReference(t *testing.T) {
	dir := filepath.Join(referenceDir(), "stdp")
	files, err := filepath.Glob(filepath.Join(dir, "*.expected.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no STDP reference cases in %s (%v)", dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c stdpCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(c.Case, func(t *testing.T) {
			out, net := simulate(t, strings.TrimSuffix(f, ".expected.json")+".yaml", models.NewRegistry())
			got := readSpikes(t, filepath.Join(out, "spikes.csv"), "post")
			want := map[string][]float64{}
			for _, s := range c.PostSpikes {
				n := strconv.Itoa(s.Neuron)
				want[n] = append(want[n], s.T)
			}
			if len(got) != len(want) {
				t.Fatalf("%d post neurons spike, NEST %d", len(got), len(want))
			}
			if len(c.WeightsAtPre) == 0 {
				t.Fatal("the case has no weights to compare")
			}
			for n, ws := range want {
				gs := got[n]
				if len(gs) != len(ws) {
					t.Fatalf("post neuron %s: %d spikes, NEST %d", n, len(gs), len(ws))
				}
				for i := range ws {
					if math.Abs(gs[i]-ws[i]) > c.Tolerance.SpikeMs {
						t.Fatalf("post neuron %s spike %d at %v ms, NEST %v ms", n, i, gs[i], ws[i])
					}
				}
			}
			times, cols := readTrace(t, filepath.Join(out, "plastic.weight.csv"))
			npost := 0
			for _, p := range net.Populations {
				if p.Name == "post" {
					npost = p.Size
				}
			}
			row := map[int64]int{} // time in 1e-6 ms -> row
			for i, tm := range times {
				row[int64(math.Round(tm*1e6))] = i
			}
			for _, w := range c.WeightsAtPre {
				i, ok := row[int64(math.Round(w.T*1e6))]
				if !ok {
					t.Fatalf("no weight row at %v ms", w.T)
				}
				col := strconv.Itoa(w.Pre*npost + w.Post)
				if g := cols[col][i]; math.Abs(g-w.W) > c.Tolerance.WeightAbs {
					t.Errorf("weight (%d, %d) after its pre spike at %v ms: %.9g, NEST %.9g", w.Pre, w.Post, w.T, g, w.W)
				}
			}
		})
	}
}
