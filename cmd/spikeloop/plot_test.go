package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sim --plot draws the figure next to the CSVs; plot DIR redraws it
// from the files alone; a bad DIR is one clear line, exit status 1.
func TestSimPlotAndPlot(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join("..", "..", "examples", "starter.yaml")
	code, out, errs := runCmd(t, "sim", net, "--out", dir, "--quiet", "--plot")
	if code != 0 {
		t.Fatalf("sim --plot: exit %d: %s", code, errs)
	}
	for _, f := range []string{"plot.png", "plot.svg"} {
		path := filepath.Join(dir, f)
		st, err := os.Stat(path)
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v (size %v)", f, err, st)
		}
		if !strings.Contains(out, "wrote "+path) {
			t.Errorf("sim --plot does not say it wrote %s: %q", path, out)
		}
	}
	os.Remove(filepath.Join(dir, "plot.png"))
	code, out, errs = runCmd(t, "plot", dir, "--bin", "5ms", "--net", net)
	if code != 0 || !strings.Contains(out, "plot.png") {
		t.Fatalf("plot: exit %d: %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "plot.png")); err != nil {
		t.Error(err)
	}

	missing := filepath.Join(dir, "nope")
	code, _, errs = runCmd(t, "plot", missing)
	if code != 1 || errs != "spikeloop plot: plot: stat "+missing+": no such file or directory\n" {
		t.Errorf("missing DIR: exit %d, %q", code, errs)
	}
	code, _, errs = runCmd(t, "plot", t.TempDir())
	if code != 1 || !strings.Contains(errs, "holds no output of spikeloop sim") {
		t.Errorf("empty DIR: exit %d, %q", code, errs)
	}
	code, _, errs = runCmd(t, "plot")
	if code != 2 || !strings.Contains(errs, "want exactly one DIR") {
		t.Errorf("no DIR: exit %d, %q", code, errs)
	}
	code, out, _ = runCmd(t, "plot", "--help")
	if code != 0 || !strings.Contains(out, "binned") {
		t.Errorf("plot --help: exit %d, %q", code, out)
	}
}
