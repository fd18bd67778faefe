package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models/npy"
	"github.com/spikeloop/spikeloop/models/snn"
)

// A trained two-layer stepwise network (InputTransmitter -> .npy dense
// weights -> SNNLIF -> .npy -> SNNLIF, same-step synapses) run by
// `spikeloop sim --input` spikes exactly as the layers stepped directly
// through the snn library with the same weights and inputs.
func TestSNNTwoLayerMatchesLibrary(t *testing.T) {
	const (
		nIn, nHid, nOut = 8, 6, 3
		steps           = 60
	)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	w1 := make([]float32, nIn*nHid)
	w2 := make([]float32, nHid*nOut)
	for i := range w1 {
		w1[i] = float32(rng.NormFloat64() * 0.6)
	}
	for i := range w2 {
		w2[i] = float32(rng.NormFloat64() * 0.9)
	}
	if err := npy.WriteFile(filepath.Join(dir, "w1.npy"), []int{nIn, nHid}, w1); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFile(filepath.Join(dir, "w2.npy"), []int{nHid, nOut}, w2); err != nil {
		t.Fatal(err)
	}
	in := make([][]float64, steps)
	var csv strings.Builder
	for k := range in {
		in[k] = make([]float64, nIn)
		for i := range in[k] {
			if rng.Float64() < 0.3 {
				in[k][i] = 1
			}
			if i > 0 {
				csv.WriteByte(',')
			}
			fmt.Fprint(&csv, in[k][i])
		}
		csv.WriteByte('\n')
	}
	os.WriteFile(filepath.Join(dir, "in.csv"), []byte(csv.String()), 0o644)
	net := fmt.Sprintf(`version: 1
dt: 1.0
duration: %d
populations:
  in: {model: InputTransmitter, size: %d}
  hidden: {model: SNNLIF, size: %d, params: {tau: 2.0, reset_type: HARD}}
  out: {model: SNNLIF, size: %d, params: {tau: 2.0, reset_type: HARD}}
synapses:
  - {pre: in, post: hidden, conn: {rule: all_to_all}, weight: {npy: w1.npy}, delay: 0}
  - {pre: hidden, post: out, conn: {rule: all_to_all}, weight: {npy: w2.npy}, delay: 0}
monitors:
  - {population: hidden, record: [spikes]}
  - {population: out, record: [spikes]}
`, steps, nIn, nHid, nOut)
	os.WriteFile(filepath.Join(dir, "net.yaml"), []byte(net), 0o644)
	code, _, errs := runCmd(t, "sim", filepath.Join(dir, "net.yaml"), "--out", dir, "--input", "in="+filepath.Join(dir, "in.csv"), "--quiet")
	if code != 0 {
		t.Fatalf("sim: exit %d: %s", code, errs)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "spikes.csv"))

	// The same network stepped through the library, input summed in
	// ascending presynaptic order in float64 as the engine does.
	params := map[string]any{"tau": 2.0, "reset_type": "HARD"}
	hid, err := snn.New("SNNLIF", nHid, params)
	if err != nil {
		t.Fatal(err)
	}
	out, err := snn.New("SNNLIF", nOut, params)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"population,neuron,time_ms"}
	x1, s1 := make([]float32, nHid), make([]float32, nHid)
	x2, s2 := make([]float32, nOut), make([]float32, nOut)
	total := 0
	for k := 0; k < steps; k++ {
		dense(in[k], w1, x1)
		if err := hid.Step(x1, s1, nil); err != nil {
			t.Fatal(err)
		}
		h := make([]float64, nHid)
		for j, s := range s1 {
			h[j] = float64(s)
		}
		dense(h, w2, x2)
		if err := out.Step(x2, s2, nil); err != nil {
			t.Fatal(err)
		}
		for j, s := range s1 {
			if s != 0 {
				want = append(want, fmt.Sprintf("hidden,%d,%d", j, k+1))
				total++
			}
		}
		for j, s := range s2 {
			if s != 0 {
				want = append(want, fmt.Sprintf("out,%d,%d", j, k+1))
				total++
			}
		}
	}
	if total < 10 {
		t.Fatalf("only %d spikes in the library run: the test network is too quiet to compare", total)
	}
	if strings.TrimSpace(string(got)) != strings.Join(want, "\n") {
		t.Errorf("sim spikes differ from the library's:\n got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// dense computes y[j] = sum_i x[i]*w[i][j] over inputs that are nonzero,
// in ascending i, in float64, rounded once to float32.
func dense(x []float64, w []float32, y []float32) {
	acc := make([]float64, len(y))
	for i, xi := range x {
		if xi == 0 {
			continue
		}
		for j := range acc {
			if wij := float64(w[i*len(y)+j]); wij != 0 {
				acc[j] += wij * xi
			}
		}
	}
	for j := range y {
		y[j] = float32(acc[j])
	}
}
