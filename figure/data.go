// Package figure turns the CSV files that `spikeloop sim` writes into a
// figure: a spike raster (one colour per population), the rate of each
// population over time and one panel per recorded state. Prepare reads
// the files into Data, the points and bins the figure is drawn from,
// with bounded memory however long the run; Write draws Data as PNG and
// SVG with gonum/plot.
//
// Memory stays bounded because nothing is kept per spike or per sample
// row: spikes.csv is read twice (once to count, once to place), a raster
// of more than MaxPoints spikes becomes a grid of cells (one dot per
// cell that holds a spike), rates are counts per bin, and a trace longer
// than MaxTraceRows keeps the minimum and maximum of each run of rows.
// The figure says when it shows cells or min/max rather than every
// spike and sample.
package figure

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Population describes one population of the raster, as known from the
// network file (Options.Populations) or, without it, from spikes.csv.
type Population struct {
	Name string
	// Size is the number of raster rows: the population's size, or the
	// largest neuron number seen in spikes.csv plus one.
	Size int
	// Recorded is the number of neurons whose spikes were recorded, the
	// divisor of the rate (a monitor may record a subset); 0 means Size.
	Recorded int
}

// Options tell Prepare what the files alone do not say. The zero value
// works: populations come from spikes.csv, the duration from the last
// time stamp.
type Options struct {
	// Populations in the order to draw them (bottom to top); nil: every
	// population of spikes.csv in name order, sized by its largest neuron.
	Populations []Population
	// Duration of the run in ms; 0: the last time in the files.
	Duration float64
	// Bin is the rate bin width in ms; 0: a round width giving about 100
	// bins over the duration.
	Bin float64
	// MaxPoints is the most spikes drawn one dot each (default 50,000);
	// past it the raster is a grid of GridCols x GridRows cells.
	MaxPoints int
	GridCols  int // default 800
	GridRows  int // default 300
	// MaxTraceCols is the most neurons drawn per trace panel (default 8).
	MaxTraceCols int
	// MaxTraceRows is the most rows drawn per trace; a longer trace keeps
	// the min and max of each run of rows (default 1,000 runs).
	MaxTraceRows int
}

func (o *Options) defaults() {
	if o.MaxPoints <= 0 {
		o.MaxPoints = 50_000
	}
	if o.GridCols <= 0 {
		o.GridCols = 800
	}
	if o.GridRows <= 0 {
		o.GridRows = 300
	}
	if o.MaxTraceCols <= 0 {
		o.MaxTraceCols = 8
	}
	if o.MaxTraceRows <= 0 {
		o.MaxTraceRows = 1000
	}
}

// Data is what the figure is drawn from.
type Data struct {
	Dir      string
	Duration float64 // ms
	Spikes   int64   // rows of spikes.csv
	// Populations of the raster and the rate panel, bottom to top; Offset
	// is each one's first raster row.
	Populations []Population
	Offsets     []int
	Raster      Raster
	Rates       Rates
	Traces      []Trace
}

// Raster holds the dots of the spike raster. Row r of population p is
// raster row Offsets[p]+r.
type Raster struct {
	// Points, one per spike, or one per grid cell holding a spike when
	// Binned, at the cell's centre.
	Points []Point
	Binned bool
	CellMs float64 // width of a grid cell when Binned
	// CellRows is the number of raster rows a grid cell spans when Binned.
	CellRows int
}

// Point is one raster dot.
type Point struct {
	T   float64 // ms
	Row float64 // raster row (cell centre when binned)
	Pop int     // index in Data.Populations
}

// Rates are spike counts per bin turned into Hz per neuron: Hz[p][i] is
// population p's rate over [i*Bin, (i+1)*Bin) ms (the last bin may be
// shorter: its rate is over the part within Duration).
type Rates struct {
	Bin float64
	Hz  [][]float64
}

// Trace is one POP.STATE.csv (or SYN.weight.csv) file.
type Trace struct {
	File  string // base name
	Name  string // "exc.V"
	Lines []Line
	// Columns is the number of neuron (or connection) columns in the file;
	// Lines holds the first MaxTraceCols.
	Columns int
	Rows    int // sample rows in the file
	// Every is the number of rows reduced to their min and max; 1: every
	// row is drawn as it is.
	Every int
}

// Line is one column of a trace: neuron (or connection) Label.
type Line struct {
	Label string
	T, Y  []float64
}

// SpikesFile is the name of sim's spike file in DIR.
const SpikesFile = "spikes.csv"

const spikesHeader = "population,neuron,time_ms"

// Prepare reads the output of `spikeloop sim` in dir.
func Prepare(dir string, opt Options) (*Data, error) {
	opt.defaults()
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("plot: DIR: must be a folder (the --out DIR of spikeloop sim), got %s", dir)
	}
	traces, err := traceFiles(dir)
	if err != nil {
		return nil, err
	}
	spikes := filepath.Join(dir, SpikesFile)
	haveSpikes := true
	if _, err := os.Stat(spikes); errors.Is(err, os.ErrNotExist) {
		haveSpikes = false
	}
	if !haveSpikes && len(traces) == 0 {
		return nil, fmt.Errorf("plot: %s holds no output of spikeloop sim: no %s and no POPULATION.STATE.csv", dir, SpikesFile)
	}
	d := &Data{Dir: dir}
	var sc spikeCount
	if haveSpikes {
		if sc, err = countSpikes(spikes); err != nil {
			return nil, err
		}
	}
	for _, f := range traces {
		tr, err := readTrace(filepath.Join(dir, f), opt)
		if err != nil {
			return nil, err
		}
		d.Traces = append(d.Traces, tr)
		for _, l := range tr.Lines {
			if n := len(l.T); n > 0 {
				d.Duration = max(d.Duration, l.T[n-1])
			}
		}
	}
	d.Duration = max(d.Duration, sc.tMax)
	if opt.Duration > 0 {
		d.Duration = opt.Duration
	}
	if !haveSpikes {
		return d, nil
	}
	if err := d.layout(sc, opt); err != nil {
		return nil, err
	}
	if err := d.placeSpikes(spikes, sc, opt); err != nil {
		return nil, err
	}
	return d, nil
}

// layout orders and sizes the populations.
func (d *Data) layout(sc spikeCount, opt Options) error {
	d.Spikes = sc.total
	if opt.Populations != nil {
		d.Populations = slices.Clone(opt.Populations)
		for name := range sc.maxNeuron {
			if !slices.ContainsFunc(d.Populations, func(p Population) bool { return p.Name == name }) {
				return fmt.Errorf("plot: %s: population %q is not in the network", filepath.Join(d.Dir, SpikesFile), name)
			}
		}
	} else {
		for _, name := range slices.Sorted(maps.Keys(sc.maxNeuron)) {
			d.Populations = append(d.Populations, Population{Name: name, Size: sc.maxNeuron[name] + 1})
		}
	}
	row := 0
	for i, p := range d.Populations {
		if m, ok := sc.maxNeuron[p.Name]; ok && m >= p.Size {
			return fmt.Errorf("plot: %s: population %q has neuron %d but size %d", filepath.Join(d.Dir, SpikesFile), p.Name, m, p.Size)
		}
		if p.Recorded <= 0 {
			d.Populations[i].Recorded = p.Size
		}
		d.Offsets = append(d.Offsets, row)
		row += p.Size
	}
	bin := opt.Bin
	if bin <= 0 {
		bin = roundBin(d.Duration / 100)
	}
	n := max(1, int(math.Ceil(d.Duration/bin-1e-9)))
	d.Rates = Rates{Bin: bin, Hz: make([][]float64, len(d.Populations))}
	for i := range d.Rates.Hz {
		d.Rates.Hz[i] = make([]float64, n)
	}
	if d.Spikes > int64(opt.MaxPoints) {
		rows := row
		d.Raster.Binned = true
		d.Raster.CellMs = d.Duration / float64(opt.GridCols)
		d.Raster.CellRows = max(1, (rows+opt.GridRows-1)/opt.GridRows)
	}
	return nil
}

// roundBin is the 1, 2 or 5 x 10^k ms at or above w (at least 1e-3 ms).
func roundBin(w float64) float64 {
	if !(w > 1e-3) {
		return 1e-3
	}
	p := math.Pow(10, math.Floor(math.Log10(w)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= w*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

type spikeCount struct {
	total     int64
	tMax      float64
	maxNeuron map[string]int
}

// spikeRows calls fn for each row of spikes.csv, checking the header and
// each field; pop is only valid during the call.
func spikeRows(path string, fn func(pop []byte, neuron int, t float64) error) error {
	err := csvLines(path, 64<<10, func(line int, b []byte) error {
		if line == 1 {
			if string(b) != spikesHeader {
				return fmt.Errorf("header: must be %q (a spikes.csv of spikeloop sim), got %q", spikesHeader, b)
			}
			return nil
		}
		pop, rest, ok1 := bytes.Cut(b, []byte{','})
		ns, ts, ok2 := bytes.Cut(rest, []byte{','})
		if !ok1 || !ok2 || len(pop) == 0 {
			return fmt.Errorf("row: must be population,neuron,time_ms, got %q", b)
		}
		n, err := strconv.Atoi(string(ns))
		if err != nil || n < 0 {
			return fmt.Errorf("neuron: must be a neuron number, got %q", ns)
		}
		t, err := strconv.ParseFloat(string(ts), 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
			return fmt.Errorf("time_ms: must be a time >= 0, got %q", ts)
		}
		return fn(pop, n, t)
	})
	if errors.Is(err, errEmpty) {
		return fmt.Errorf("plot: %s: must start with the header %q, got an empty file", path, spikesHeader)
	}
	return err
}

func countSpikes(path string) (spikeCount, error) {
	sc := spikeCount{maxNeuron: map[string]int{}}
	err := spikeRows(path, func(pop []byte, n int, t float64) error {
		sc.total++
		sc.tMax = max(sc.tMax, t)
		if m, ok := sc.maxNeuron[string(pop)]; !ok || n > m {
			sc.maxNeuron[string(pop)] = n
		}
		return nil
	})
	return sc, err
}

// placeSpikes reads spikes.csv again, filling the raster and the rates.
func (d *Data) placeSpikes(path string, sc spikeCount, opt Options) error {
	index := map[string]int{}
	for i, p := range d.Populations {
		index[p.Name] = i
	}
	var grid []uint64 // bitset of cells, when binned
	var cols, gridRows int
	if d.Raster.Binned {
		cols = opt.GridCols
		total := d.Offsets[len(d.Offsets)-1] + d.Populations[len(d.Populations)-1].Size
		gridRows = (total + d.Raster.CellRows - 1) / d.Raster.CellRows
		grid = make([]uint64, (cols*gridRows+63)/64)
	} else {
		d.Raster.Points = make([]Point, 0, sc.total)
	}
	counts := d.Rates.Hz // counts now, Hz below
	nb := len(counts[0])
	err := spikeRows(path, func(pop []byte, n int, t float64) error {
		p, ok := index[string(pop)]
		if !ok {
			return fmt.Errorf("population %q changed while reading", pop)
		}
		if t > d.Duration {
			return nil // a --duration shorter than the run: the figure ends there
		}
		row := d.Offsets[p] + n
		if grid != nil {
			c := min(cols-1, int(t/d.Raster.CellMs))
			cell := (row/d.Raster.CellRows)*cols + c
			grid[cell/64] |= 1 << (cell % 64)
		} else {
			d.Raster.Points = append(d.Raster.Points, Point{T: t, Row: float64(row), Pop: p})
		}
		counts[p][min(nb-1, int(t/d.Rates.Bin))]++
		return nil
	})
	if err != nil {
		return err
	}
	for p, c := range counts {
		for i := range c {
			width := min(d.Rates.Bin, d.Duration-float64(i)*d.Rates.Bin)
			if width <= 0 {
				c[i] = 0
				continue
			}
			c[i] = c[i] / (float64(d.Populations[p].Recorded) * width * 1e-3)
		}
	}
	if grid == nil {
		return nil
	}
	// One dot per occupied cell, at its centre, coloured by the
	// population of the cell's middle row.
	popOf := func(row int) int {
		i, _ := slices.BinarySearch(d.Offsets, row+1)
		return i - 1
	}
	total := d.Offsets[len(d.Offsets)-1] + d.Populations[len(d.Populations)-1].Size
	for cell := range cols * gridRows {
		if grid[cell/64]&(1<<(cell%64)) == 0 {
			continue
		}
		r, c := cell/cols, cell%cols
		lo := r * d.Raster.CellRows
		mid := (float64(lo) + float64(min(total, lo+d.Raster.CellRows))) / 2
		d.Raster.Points = append(d.Raster.Points, Point{
			T:   (float64(c) + 0.5) * d.Raster.CellMs,
			Row: mid - 0.5,
			Pop: popOf(int(mid)),
		})
	}
	return nil
}

// traceFiles lists DIR's NAME.NAME.csv files (sorted), the trace and
// weight files of sim.
func traceFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		base, ok := strings.CutSuffix(name, ".csv")
		if !ok || e.IsDir() || name == SpikesFile {
			continue
		}
		if a, b, ok := strings.Cut(base, "."); ok && a != "" && b != "" && !strings.Contains(b, ".") {
			out = append(out, name)
		}
	}
	return out, nil
}

// readTrace reads a trace file in two passes: rows first, then the
// first MaxTraceCols columns, reduced to min and max per run of rows
// when there are more than MaxTraceRows rows.
func readTrace(path string, opt Options) (Trace, error) {
	tr := Trace{File: filepath.Base(path), Name: strings.TrimSuffix(filepath.Base(path), ".csv")}
	var header []string
	err := csvLines(path, 4<<20, func(line int, b []byte) error {
		if line == 1 {
			header = strings.Split(string(b), ",")
			if len(header) < 2 || header[0] != "time_ms" {
				return fmt.Errorf("header: must be time_ms then neuron numbers (a trace of spikeloop sim), got %q", b)
			}
			return nil
		}
		tr.Rows++
		return nil
	})
	if err != nil {
		return tr, err
	}
	tr.Columns = len(header) - 1
	shown := min(tr.Columns, opt.MaxTraceCols)
	tr.Every = max(1, (tr.Rows+opt.MaxTraceRows-1)/opt.MaxTraceRows)
	n := tr.Rows
	if tr.Every > 1 {
		n = 2 * ((tr.Rows + tr.Every - 1) / tr.Every)
	}
	tr.Lines = make([]Line, shown)
	for i := range tr.Lines {
		tr.Lines[i] = Line{Label: header[i+1], T: make([]float64, 0, n), Y: make([]float64, 0, n)}
	}
	// run state per shown column: min and max with their times
	type ext struct{ tmin, ymin, tmax, ymax float64 }
	run := make([]ext, shown)
	inRun := 0
	flush := func() {
		for i := range run {
			e := run[i]
			l := &tr.Lines[i]
			if e.tmin <= e.tmax {
				l.T, l.Y = append(l.T, e.tmin, e.tmax), append(l.Y, e.ymin, e.ymax)
			} else {
				l.T, l.Y = append(l.T, e.tmax, e.tmin), append(l.Y, e.ymax, e.ymin)
			}
		}
		inRun = 0
	}
	fields := make([]float64, shown+1)
	err = csvLines(path, 4<<20, func(line int, b []byte) error {
		if line == 1 {
			return nil
		}
		rest := b
		for i := range fields {
			var f []byte
			var ok bool
			f, rest, ok = bytes.Cut(rest, []byte{','})
			if !ok && i < len(fields)-1 && i < tr.Columns {
				return fmt.Errorf("fields: must be %d, got %d", tr.Columns+1, i+1)
			}
			v, err := strconv.ParseFloat(string(f), 64)
			if err != nil {
				what := "time_ms"
				if i > 0 {
					what = "column " + header[i]
				}
				return fmt.Errorf("%s: must be a number, got %q", what, f)
			}
			fields[i] = v
		}
		t := fields[0]
		if tr.Every == 1 {
			for i := range tr.Lines {
				tr.Lines[i].T = append(tr.Lines[i].T, t)
				tr.Lines[i].Y = append(tr.Lines[i].Y, fields[i+1])
			}
			return nil
		}
		for i := range run {
			y := fields[i+1]
			if inRun == 0 {
				run[i] = ext{t, y, t, y}
				continue
			}
			if y < run[i].ymin {
				run[i].tmin, run[i].ymin = t, y
			}
			if y > run[i].ymax {
				run[i].tmax, run[i].ymax = t, y
			}
		}
		if inRun++; inRun == tr.Every {
			flush()
		}
		return nil
	})
	if err != nil {
		return tr, err
	}
	if inRun > 0 {
		flush()
	}
	return tr, nil
}

// errEmpty is csvLines' error for a file without a line.
var errEmpty = errors.New("empty file")

// csvLines calls fn with each line of path (without its line end); a
// line longer than bufSize bytes is an error.
func csvLines(path string, bufSize int, fn func(line int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, bufSize)
	line := 0
	for {
		b, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return fmt.Errorf("plot: %s:%d: line longer than %d bytes", path, line+1, r.Size())
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("plot: %s: %w", path, err)
		}
		line++
		if err := fn(line, bytes.TrimRight(b, "\r\n")); err != nil {
			return fmt.Errorf("plot: %s:%d: %w", path, line, err)
		}
	}
	if line == 0 {
		return fmt.Errorf("plot: %s: %w", path, errEmpty)
	}
	return nil
}
