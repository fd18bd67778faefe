package figure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of figure's tests")

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Five spikes worked by hand: points in file order, populations in name
// order sized by their largest neuron, rates as count / (size * bin).
func TestPrepareByHand(t *testing.T) {
	dir := writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\n" +
		"b,1,0.5\n" + "a,0,1\n" + "a,2,1\n" + "b,0,12.5\n" + "a,2,19.9\n"})
	d, err := Prepare(dir, Options{Bin: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d.Duration != 19.9 || d.Spikes != 5 {
		t.Errorf("duration %g spikes %d, want 19.9 and 5", d.Duration, d.Spikes)
	}
	wantPops := []Population{{Name: "a", Size: 3, Recorded: 3}, {Name: "b", Size: 2, Recorded: 2}}
	if !reflect.DeepEqual(d.Populations, wantPops) || !reflect.DeepEqual(d.Offsets, []int{0, 3}) {
		t.Errorf("populations %+v offsets %v, want %+v and [0 3]", d.Populations, d.Offsets, wantPops)
	}
	wantPts := []Point{{0.5, 4, 1}, {1, 0, 0}, {1, 2, 0}, {12.5, 3, 1}, {19.9, 2, 0}}
	if d.Raster.Binned || !reflect.DeepEqual(d.Raster.Points, wantPts) {
		t.Errorf("raster binned=%v %v, want %v", d.Raster.Binned, d.Raster.Points, wantPts)
	}
	// a: 2 spikes in [0,10) over 3 neurons x 10 ms = 66.67 Hz; 1 in
	// [10,19.9) over 3 x 9.9 ms. b: 1 and 1 over 2 neurons.
	want := [][]float64{{2 / (3 * 0.010), 1 / (3 * 0.0099)}, {1 / (2 * 0.010), 1 / (2 * 0.0099)}}
	if d.Rates.Bin != 10 || !closeAll(d.Rates.Hz, want) {
		t.Errorf("rates bin %g %v, want 10 %v", d.Rates.Bin, d.Rates.Hz, want)
	}

	// The network's order, sizes and recorded subset win; the duration
	// given ends the figure (the spike at 19.9 ms is past it).
	d, err = Prepare(dir, Options{Bin: 5, Duration: 15, Populations: []Population{
		{Name: "b", Size: 4, Recorded: 1}, {Name: "a", Size: 10}, {Name: "quiet", Size: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Offsets, []int{0, 4, 14}) || d.Populations[1].Recorded != 10 {
		t.Errorf("offsets %v populations %+v", d.Offsets, d.Populations)
	}
	wantPts = []Point{{0.5, 1, 0}, {1, 4, 1}, {1, 6, 1}, {12.5, 0, 0}}
	if !reflect.DeepEqual(d.Raster.Points, wantPts) {
		t.Errorf("raster %v, want %v", d.Raster.Points, wantPts)
	}
	want = [][]float64{{1 / 0.005, 0, 1 / 0.005}, {2 / (10 * 0.005), 0, 0}, {0, 0, 0}}
	if !closeAll(d.Rates.Hz, want) {
		t.Errorf("rates %v, want %v", d.Rates.Hz, want)
	}
}

// Past MaxPoints the raster is a grid: one dot per cell with a spike.
func TestPrepareBinned(t *testing.T) {
	dir := writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\n" +
		"a,0,0.1\n" + "a,1,0.2\n" + "a,3,0.3\n" + "b,0,5\n" + "b,1,9.9\n" + "a,0,10\n"})
	// 6 rows (a: 0-3, b: 4-5), grid of 2 columns x 3 rows: cells 5 ms x 2 neurons.
	d, err := Prepare(dir, Options{MaxPoints: 5, GridCols: 2, GridRows: 3, Duration: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Raster.Binned || d.Raster.CellMs != 5 || d.Raster.CellRows != 2 {
		t.Fatalf("binned=%v cell %g ms x %d rows, want 5 ms x 2", d.Raster.Binned, d.Raster.CellMs, d.Raster.CellRows)
	}
	// Cells (row band, column): (0,0) a0,a1 at 0.1/0.2; (1,0) a3; (2,1) b0
	// at 5 and b1 at 9.9; a0 at 10 is the last column's right edge.
	want := []Point{{2.5, 0.5, 0}, {7.5, 0.5, 0}, {2.5, 2.5, 0}, {7.5, 4.5, 1}}
	if !reflect.DeepEqual(d.Raster.Points, want) {
		t.Errorf("cells %v, want %v", d.Raster.Points, want)
	}
}

// A long trace keeps min and max of each run of rows, in time order.
func TestTraceMinMax(t *testing.T) {
	var b strings.Builder
	b.WriteString("time_ms,0,7\n")
	ys := []float64{0, 5, -1, 2, 3, 3, 9, 1, 4, -2}
	for i, y := range ys {
		fmt.Fprintf(&b, "%g,%g,%g\n", float64(i)/10, y, -y)
	}
	dir := writeDir(t, map[string]string{"cells.V.csv": b.String()})
	d, err := Prepare(dir, Options{MaxTraceRows: 3, MaxTraceCols: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Traces) != 1 || d.Populations != nil {
		t.Fatalf("traces %d populations %v, want 1 trace, no raster", len(d.Traces), d.Populations)
	}
	tr := d.Traces[0]
	// 10 rows in runs of 4: [0 5 -1 2] [3 3 9 1] [4 -2].
	wantT := []float64{0.1, 0.2, 0.6, 0.7, 0.8, 0.9}
	wantY := []float64{5, -1, 9, 1, 4, -2}
	if tr.Name != "cells.V" || tr.Every != 4 || tr.Rows != 10 || tr.Columns != 2 || len(tr.Lines) != 1 || tr.Lines[0].Label != "0" {
		t.Fatalf("trace %s every %d rows %d columns %d lines %d", tr.Name, tr.Every, tr.Rows, tr.Columns, len(tr.Lines))
	}
	if !reflect.DeepEqual(tr.Lines[0].T, wantT) || !reflect.DeepEqual(tr.Lines[0].Y, wantY) {
		t.Errorf("min/max T %v Y %v, want %v %v", tr.Lines[0].T, tr.Lines[0].Y, wantT, wantY)
	}
	if d.Duration != 0.9 {
		t.Errorf("duration %g, want 0.9 (the last time drawn)", d.Duration)
	}
}

func TestRoundBin(t *testing.T) {
	for w, want := range map[float64]float64{10: 10, 11: 20, 2.5: 5, 0.3: 0.5, 0: 1e-3, 70: 100} {
		if got := roundBin(w); got != want {
			t.Errorf("roundBin(%g) = %g, want %g", w, got, want)
		}
	}
}

// The data drawn from a real sim output (examples/starter.yaml, copied
// to testdata/starter) against the golden file; go test -update rewrites it.
func TestGoldenStarter(t *testing.T) {
	d, err := Prepare("testdata/starter", Options{
		Populations:  []Population{{Name: "noise", Size: 20}, {Name: "cells", Size: 5}},
		Bin:          5,
		MaxTraceRows: 100,
		MaxTraceCols: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Dir = "starter"
	got, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/starter.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("prepared data differs from %s (go test ./figure -run Golden -update rewrites it after a change you mean)", golden)
	}
	// Checks that do not trust the golden file: every spike drawn, each
	// population's rates add back to its spikes.
	if d.Spikes != 116 || len(d.Raster.Points) != 116 {
		t.Errorf("%d spikes, %d points, want 116 each", d.Spikes, len(d.Raster.Points))
	}
	for p, hz := range d.Rates.Hz {
		var n int
		for _, pt := range d.Raster.Points {
			if pt.Pop == p {
				n++
			}
		}
		var sum float64
		for _, v := range hz {
			sum += v * float64(d.Populations[p].Size) * d.Rates.Bin * 1e-3
		}
		if diff := sum - float64(n); diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: rates add up to %g spikes, raster has %d", d.Populations[p].Name, sum, n)
		}
	}
}

func TestWritePNGAndSVG(t *testing.T) {
	d, err := Prepare("testdata/starter", Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "plot.png"), filepath.Join(dir, "plot.svg")
	if err := Write(d, png, svg); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, png, svg)
}

func checkFigure(t *testing.T, png, svg string) {
	t.Helper()
	p, err := os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) < 1000 || !bytes.HasPrefix(p, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s: %d bytes, not a PNG with a figure", png, len(p))
	}
	s, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) < 1000 || !bytes.Contains(s, []byte("<svg")) || !bytes.Contains(s, []byte("time (ms)")) {
		t.Errorf("%s: %d bytes, not an SVG with the figure's axes", svg, len(s))
	}
}

func TestBadDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		dir  string
		want string
	}{
		{filepath.Join(dir, "missing"), "no such file or directory"},
		{file, "plot: DIR: must be a folder (the --out DIR of spikeloop sim), got " + file},
		{dir, "holds no output of spikeloop sim"},
		{writeDir(t, map[string]string{"spikes.csv": "a,b\n"}), `spikes.csv:1: header: must be "population,neuron,time_ms" (a spikes.csv of spikeloop sim), got "a,b"`},
		{writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\nexc,x,1\n"}), `spikes.csv:2: neuron: must be a neuron number, got "x"`},
		{writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\nexc,1,-3\n"}), `spikes.csv:2: time_ms: must be a time >= 0, got "-3"`},
		{writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\nexc 1 3\n"}), `spikes.csv:2: row: must be population,neuron,time_ms, got "exc 1 3"`},
		{writeDir(t, map[string]string{"exc.V.csv": "time_ms,0\n0,1\n0.1,zz\n"}), `exc.V.csv:3: column 0: must be a number, got "zz"`},
		{writeDir(t, map[string]string{"exc.V.csv": "t,0\n"}), `exc.V.csv:1: header: must be time_ms then neuron numbers (a trace of spikeloop sim), got "t,0"`},
	}
	for _, c := range cases {
		_, err := Prepare(c.dir, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Prepare(%s): %v, want an error with %q", c.dir, err, c.want)
		}
	}
	_, err := Prepare(writeDir(t, map[string]string{"spikes.csv": "population,neuron,time_ms\nexc,9,1\n"}),
		Options{Populations: []Population{{Name: "exc", Size: 5}}})
	if err == nil || !strings.Contains(err.Error(), `population "exc" has neuron 9 but size 5`) {
		t.Errorf("neuron past the size: %v", err)
	}
}

// A million spikes (4,000 neurons, 1 s, as CUBA at 250 Hz) prepare and
// draw as PNG and SVG with a bounded heap: the raster is binned, rates
// are counts, so the heap does not grow with the spikes (the file alone
// is 16 MB; 1e6 points would be 24 MB).
func TestMillionSpikesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 1,000,000-spike file")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("population,neuron,time_ms\n")
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1_000_000
	for i := range n {
		t := float64(i/100) / 10 // 100 spikes per 0.1 ms step, 1000 ms
		if rng.IntN(5) == 0 {
			fmt.Fprintf(w, "inh,%d,%g\n", rng.IntN(800), t)
		} else {
			fmt.Fprintf(w, "exc,%d,%g\n", rng.IntN(3200), t)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	d, err := Prepare(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prepared := time.Since(start)
	png, svg := filepath.Join(dir, "plot.png"), filepath.Join(dir, "plot.svg")
	if err := Write(d, png, svg); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("1e6 spikes: prepared in %v, drawn in %v; peak heap %.1f MB over the start; %d cells",
		prepared, time.Since(start)-prepared, float64(grew)/1e6, len(d.Raster.Points))
	if d.Spikes != n || !d.Raster.Binned {
		t.Errorf("%d spikes, binned %v; want %d, binned", d.Spikes, d.Raster.Binned, n)
	}
	if max := 800 * 300; len(d.Raster.Points) > max {
		t.Errorf("%d raster cells, want at most the grid's %d", len(d.Raster.Points), max)
	}
	const bound = 48 << 20
	if grew > bound {
		t.Errorf("peak heap grew %d MB, want at most %d MB", grew>>20, bound>>20)
	}
	checkFigure(t, png, svg)
}

func closeAll(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if d := a[i][k] - b[i][k]; d > 1e-9 || d < -1e-9 {
				return false
			}
		}
	}
	return true
}
