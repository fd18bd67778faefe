package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sim --backend fixed writes the files the cpu backend writes, with the
// same header and rows; on lif_dc the spikes are the same stamps.
func TestSimFixedBackend(t *testing.T) {
	net := filepath.Join("..", "..", "testdata", "reference", "bio", "lif_dc.yaml")
	dirs := map[string]string{}
	for _, b := range []string{"cpu", "fixed"} {
		dirs[b] = t.TempDir()
		if code, _, errs := runCmd(t, "sim", net, "--out", dirs[b], "--quiet", "--backend", b); code != 0 {
			t.Fatalf("sim --backend %s: exit %d: %s", b, code, errs)
		}
	}
	names := func(dir string) []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range es {
			s = append(s, e.Name())
		}
		return s
	}
	if c, f := names(dirs["cpu"]), names(dirs["fixed"]); !slices.Equal(c, f) || len(c) == 0 {
		t.Fatalf("files: cpu %v, fixed %v", c, f)
	}
	read := func(b, name string) []string {
		data, err := os.ReadFile(filepath.Join(dirs[b], name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	if c, f := read("cpu", "spikes.csv"), read("fixed", "spikes.csv"); !slices.Equal(c, f) || len(c) < 2 {
		t.Errorf("spikes.csv: cpu %d lines, fixed %d (or they differ)", len(c), len(f))
	}
	c, f := read("cpu", "cells.V.csv"), read("fixed", "cells.V.csv")
	if len(c) != len(f) || c[0] != f[0] {
		t.Errorf("cells.V.csv: cpu %d lines (%q), fixed %d (%q)", len(c), c[0], len(f), f[0])
	}
}

// check --backend fixed prints the compiler's report, or its refusals.
func TestCheckFixed(t *testing.T) {
	code, out, errs := runCmd(t, "check", "--backend", "fixed", filepath.Join("..", "..", "examples", "cuba.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"quantization report", "P22", "P11_1", "potential bound", "ee       exc -> exc", "image: ", "chip RAM: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	code, _, errs = runCmd(t, "check", "--backend", "fixed", filepath.Join("..", "..", "testdata", "reference", "bio", "hh_ie.yaml"))
	if code != 1 || !strings.Contains(errs, `hh_ie.yaml:9: population "cells" (HH): Hodgkin-Huxley`) {
		t.Errorf("HH: exit %d, stderr %q", code, errs)
	}
}
