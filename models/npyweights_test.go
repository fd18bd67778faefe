package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/npy"
)

func writeMatrix(t *testing.T, path string, shape []int, data []float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := npy.Write64(f, shape, data); err != nil {
		t.Fatal(err)
	}
}

// weight: {npy: FILE} reads a pre x post matrix; zeros are no connection.
func TestNpyWeights(t *testing.T) {
	dir := t.TempDir()
	writeMatrix(t, filepath.Join(dir, "w.npy"), []int{2, 3}, []float64{0.5, 0, -1, 0, 2, 0})
	src := `version: 1
populations:
  a: {model: SpikeGenerator, size: 2}
  b: {model: LIF, size: 3}
synapses:
  - {pre: a, post: b, conn: {rule: all_to_all}, weight: {npy: w.npy}, delay: [0.1, 0.2, 0.3]}
`
	path := filepath.Join(dir, "net.yaml")
	net, err := models.Load([]byte(src), path, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	s := net.Synapses[0]
	want := []models.Conn{{Pre: 0, Post: 0}, {Pre: 0, Post: 2}, {Pre: 1, Post: 1}}
	if len(s.Conns) != len(want) {
		t.Fatalf("conns %v, want %v", s.Conns, want)
	}
	for i := range want {
		if s.Conns[i] != want[i] {
			t.Errorf("conn %d = %v, want %v", i, s.Conns[i], want[i])
		}
	}
	if w := s.Weights; w[0] != 0.5 || w[1] != -1 || w[2] != 2 {
		t.Errorf("weights %v, want [0.5 -1 2]", w)
	}
	if d := s.Delays; d[0] != 1 || d[1] != 2 || d[2] != 3 {
		t.Errorf("delays %v, want [1 2 3] steps (one per kept connection)", d)
	}

	bad := []struct{ yaml, msg string }{
		{strings.Replace(src, "w.npy", "missing.npy", 1), "missing.npy"},
		{strings.Replace(src, "{rule: all_to_all}", "{rule: fixed_prob, p: 0.5}", 1), "need conn: {rule: all_to_all}"},
		{strings.Replace(src, "size: 3}", "size: 4}", 1), "must have shape (2, 4) (pre \"a\" size x post \"b\" size), got [2 3]"},
		{strings.Replace(src, "{npy: w.npy}", "{npy: w.npy, dist: normal}", 1), "takes no other fields"},
	}
	for _, c := range bad {
		_, err := models.Load([]byte(c.yaml), path, models.NewRegistry(), models.DefaultLimits)
		var fe *models.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(fe.Field, "weight") {
			t.Errorf("err = %v, want a FileError on the weight field containing %q", err, c.msg)
		}
	}
}
