// Package offline runs a network file to completion and writes the CSV
// outputs of the README's network file section: `spikeloop sim` is this package plus flags.
package offline

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Options control a run.
type Options struct {
	OutDir string
	// Inputs feed InputTransmitter populations: row k is the value for
	// step k (the README's network file section, "Feeding an InputTransmitter offline"),
	// the same in every trial.
	Inputs map[string][][]float64
	// Arrays feed InputTransmitter populations with arrays of the shapes
	// models.InputTransmitter.Trials reads; a batch of B runs B trials.
	Arrays map[string]Array
	// Trials is the number of trials (0: the inputs' batch, or 1). The
	// network is reset between trials (apu.Backend's Reset), so trial b gives
	// what a run of batch element b alone gives; with more than one, trial
	// b's outputs go to OutDir/trial_<b> (b from 1). Inputs without a
	// batch are repeated in every trial; a batch must have Trials entries.
	Trials int
	// Progress, when not nil, receives a line about once a second once a
	// run has taken more than a second.
	Progress io.Writer
	// Chunk is the number of steps between drains of the recorder
	// (default 1000): it bounds the memory a long run needs.
	Chunk int
}

// Array is an input array as read from a file: its shape and its values
// in C order (the daemon's file inputs read the same files).
type Array = models.InputArray

// Summary describes a finished run.
type Summary struct {
	Steps  int64 // per trial
	Trials int
	Spikes int64 // over all trials
	Wall   time.Duration
	Files  []string
	// Removed lists the outputs of an earlier run that were in OutDir
	// and that this run does not write (see Run), now deleted.
	Removed []string
}

// Run loads net into b, runs net.Duration (once per trial) and writes the
// outputs.
//
// Before writing, Run deletes the files of OutDir that look like the
// output of an earlier run and that this run does not rewrite, so that
// OutDir holds one run's output: spikes.csv when its first line is the
// spikes header, and NAME.NAME.csv (names of letters, digits, _ and -)
// when its first line is a trace header, "time_ms" then column numbers.
// Other files, folders and symbolic links are left alone.
func Run(net *models.Network, b apu.Backend, opt Options) (Summary, error) {
	var sum Summary
	if err := b.Load(net); err != nil {
		return sum, err
	}
	defer b.Close()
	batches, trials, err := inputTrials(net, opt)
	if err != nil {
		return sum, err
	}
	sum.Trials = trials
	start := time.Now()
	for trial := range trials {
		if trial > 0 {
			if err := b.Reset(); err != nil {
				return sum, fmt.Errorf("%d trials: reset between trials: %w", trials, err)
			}
		}
		feeds, err := trialInputs(net, opt, batches, trial)
		if err != nil {
			return sum, err
		}
		dir := opt.OutDir
		if trials > 1 {
			dir = filepath.Join(opt.OutDir, fmt.Sprintf("trial_%d", trial+1))
		}
		if err := runTrial(net, b, feeds, dir, opt, &sum); err != nil {
			return sum, err
		}
	}
	sum.Wall = time.Since(start)
	return sum, nil
}

// inputTrials splits the input arrays into trials and decides how many
// trials run.
func inputTrials(net *models.Network, opt Options) (map[string][][][]float64, int, error) {
	batches := map[string][][][]float64{}
	batch, from := 0, ""
	for _, name := range sortedKeys(opt.Arrays) {
		t, err := transmitter(net, name)
		if err != nil {
			return nil, 0, err
		}
		a := opt.Arrays[name]
		rows, err := t.Trials(a.Shape, a.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("--input %s: %w", name, err)
		}
		batches[name] = rows
		if len(rows) > 1 {
			if batch > 1 && len(rows) != batch {
				return nil, 0, fmt.Errorf("--input %s: a batch of %d, but --input %s has %d; batched inputs must agree", name, len(rows), from, batch)
			}
			batch, from = len(rows), name
		}
	}
	trials := opt.Trials
	switch {
	case trials < 0:
		return nil, 0, fmt.Errorf("--trials: must be >= 1, got %d", trials)
	case trials == 0 && batch > 1:
		trials = batch
	case trials == 0:
		trials = 1
	case batch > 1 && trials != batch:
		return nil, 0, fmt.Errorf("--trials %d, but --input %s holds a batch of %d: one trial per batch element (leave --trials out, or give %d)", trials, from, batch, batch)
	}
	return batches, trials, nil
}

func transmitter(net *models.Network, name string) (*models.InputTransmitter, error) {
	p := net.Population(name)
	if p == nil {
		return nil, fmt.Errorf("--input %s: no population %q in %s", name, name, net.File)
	}
	t, ok := p.Model.(*models.InputTransmitter)
	if !ok {
		return nil, fmt.Errorf("--input %s: population %q is a %s, not an InputTransmitter", name, name, p.Class.Name)
	}
	return t, nil
}

// inputRows are the rows an InputTransmitter gets in a trial: row k in
// step k, zeros after the last.
type inputRows struct {
	pop  string
	size int
	rows [][]float64
	buf  []float64 // a chunk's values, handed to Backend.Run
}

// trialInputs are the rows of each fed InputTransmitter for the trial.
// They reach the backend with the steps they belong to (Backend.Run),
// not through the network's model objects, which a backend on another
// chip never sees.
func trialInputs(net *models.Network, opt Options, batches map[string][][][]float64, trial int) ([]*inputRows, error) {
	var ins []*inputRows
	for _, name := range sortedKeys(opt.Inputs) {
		t, err := transmitter(net, name)
		if err != nil {
			return nil, err
		}
		rows := opt.Inputs[name]
		for r, row := range rows {
			if err := checkRow(row, t.Size()); err != nil {
				return nil, fmt.Errorf("--input %s: input row %d: %w", name, r, err)
			}
		}
		ins = append(ins, &inputRows{pop: name, size: t.Size(), rows: rows})
	}
	for _, name := range sortedKeys(batches) {
		t, err := transmitter(net, name)
		if err != nil {
			return nil, err
		}
		rows := batches[name]
		b := 0
		if len(rows) > 1 {
			b = trial
		}
		ins = append(ins, &inputRows{pop: name, size: t.Size(), rows: rows[b]})
	}
	return ins, nil
}

func checkRow(row []float64, size int) error {
	if len(row) != size {
		return fmt.Errorf("must have size %d values, got %d", size, len(row))
	}
	for i, x := range row {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("value %d: must be a finite number, got %g", i, x)
		}
	}
	return nil
}

// chunkFeeds fills the feeds for steps k0 .. k0+n-1; none when every
// input is past its last row (zeros: what Advance gives).
func chunkFeeds(ins []*inputRows, feeds []apu.Feed, k0 int64, n int) []apu.Feed {
	feeds = feeds[:0]
	for _, in := range ins {
		if k0 >= int64(len(in.rows)) {
			continue
		}
		if cap(in.buf) < n*in.size {
			in.buf = make([]float64, n*in.size)
		}
		buf := in.buf[:n*in.size]
		for s := range n {
			row := buf[s*in.size : (s+1)*in.size]
			if k := k0 + int64(s); k < int64(len(in.rows)) {
				copy(row, in.rows[k])
			} else {
				clear(row)
			}
		}
		feeds = append(feeds, apu.Feed{Pop: in.pop, Values: buf})
	}
	return feeds
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// runTrial runs net.Duration on b (loaded or reset) and writes the
// outputs to dir.
func runTrial(net *models.Network, b apu.Backend, ins []*inputRows, dir string, opt Options, sum *Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	w, err := newWriters(net, dir)
	if err != nil {
		return err
	}
	defer w.close()
	keep := map[string]bool{}
	for _, n := range w.names {
		keep[filepath.Base(n)] = true
	}
	removed, err := removeStale(dir, keep)
	sum.Removed = append(sum.Removed, removed...)
	if err != nil {
		return err
	}
	chunk := opt.Chunk
	if chunk <= 0 {
		chunk = 1000
	}
	total := net.Steps()
	start := time.Now()
	lastReport := start
	var rec apu.Record
	var feeds []apu.Feed
	for b.Now() < total {
		n := int(min(int64(chunk), total-b.Now()))
		feeds = chunkFeeds(ins, feeds, b.Now(), n)
		runErr := b.Run(n, feeds)
		b.Drain(&rec)
		if err := w.write(&rec); err != nil {
			return err
		}
		sum.Spikes += int64(len(rec.Spikes))
		if runErr != nil {
			return runErr
		}
		if now := time.Now(); opt.Progress != nil && now.Sub(start) > time.Second && now.Sub(lastReport) >= time.Second {
			lastReport = now
			fmt.Fprintf(opt.Progress, "sim: %5.1f%%  %.1f of %.1f ms simulated, %.1f s elapsed, %d spikes, %s\n",
				100*float64(b.Now())/float64(total), float64(b.Now())*net.Dt, net.Duration, now.Sub(start).Seconds(), sum.Spikes,
				ETA(now.Sub(start), b.Now(), total))
		}
	}
	if rec.Traces == nil {
		b.Drain(&rec) // a zero-length run still writes the initial rows
		if err := w.write(&rec); err != nil {
			return err
		}
	}
	sum.Steps = b.Now()
	sum.Files = append(sum.Files, w.names...)
	return w.close()
}

// ETA says how long the rest of a run should take at the pace so far:
// elapsed for done of total steps, "ETA 12 s" (whole seconds past 10 s,
// minutes past 2 min), or "ETA ?" before any step is done.
func ETA(elapsed time.Duration, done, total int64) string {
	if done <= 0 || total < done {
		return "ETA ?"
	}
	left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
	switch {
	case left < 10*time.Second:
		return fmt.Sprintf("ETA %.1f s", left.Seconds())
	case left < 2*time.Minute:
		return fmt.Sprintf("ETA %.0f s", left.Seconds())
	default:
		return fmt.Sprintf("ETA %.0f min", left.Minutes())
	}
}

// Time converts a stamp index to ms. It rounds to 1e-9 ms so that step
// 3 at dt 0.1 prints as 0.3, not 0.30000000000000004; the grid itself is
// never finer than that (docs/models/README.md: times on the grid within 1e-9).
func Time(stamp int64, dt float64) float64 {
	return math.Round(float64(stamp)*dt*1e9) / 1e9
}

type writers struct {
	net    *models.Network
	spikes *csvFile
	traces []*csvFile // per Record.Traces entry, in order
	names  []string
	closed bool
}

type csvFile struct {
	f *os.File
	w *bufio.Writer
}

func create(path string, header string) (*csvFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	c := &csvFile{f: f, w: bufio.NewWriterSize(f, 1<<16)}
	c.w.WriteString(header)
	c.w.WriteByte('\n')
	return c, nil
}

func newWriters(net *models.Network, dir string) (*writers, error) {
	w := &writers{net: net}
	var err error
	path := filepath.Join(dir, "spikes.csv")
	if w.spikes, err = create(path, spikesHeader); err != nil {
		return nil, err
	}
	w.names = append(w.names, path)
	for _, m := range net.Monitors {
		if m.Synapse != nil {
			// Weights of a plastic synapse entry, one column per connection
			// in canonical order (the README's network file section).
			var h strings.Builder
			h.WriteString("time_ms")
			for c := range m.Synapse.Conns {
				h.WriteByte(',')
				h.WriteString(strconv.Itoa(c))
			}
			path := filepath.Join(dir, m.Synapse.Name+".weight.csv")
			c, err := create(path, h.String())
			if err != nil {
				w.close()
				return nil, err
			}
			w.traces = append(w.traces, c)
			w.names = append(w.names, path)
			continue
		}
		if m.Population == nil {
			continue
		}
		for _, st := range m.Record {
			if st == "spikes" {
				continue
			}
			neurons := m.Neurons
			if neurons == nil {
				for i := 0; i < m.Population.Size; i++ {
					neurons = append(neurons, i)
				}
			}
			var h strings.Builder
			h.WriteString("time_ms")
			for _, n := range neurons {
				h.WriteByte(',')
				h.WriteString(strconv.Itoa(n))
			}
			path := filepath.Join(dir, m.Population.Name+"."+st+".csv")
			c, err := create(path, h.String())
			if err != nil {
				w.close()
				return nil, err
			}
			w.traces = append(w.traces, c)
			w.names = append(w.names, path)
		}
	}
	return w, nil
}

func (w *writers) write(rec *apu.Record) error {
	pops := w.net.Populations
	// Spikes of one drain cover whole steps, so sorting each drain sorts
	// the file: by time, then population name, then neuron.
	slices.SortFunc(rec.Spikes, func(a, b apu.Spike) int {
		if a.Stamp != b.Stamp {
			return int(a.Stamp - b.Stamp)
		}
		if c := strings.Compare(pops[a.Pop].Name, pops[b.Pop].Name); c != 0 {
			return c
		}
		return int(a.Neuron - b.Neuron)
	})
	buf := make([]byte, 0, 64)
	for _, s := range rec.Spikes {
		buf = buf[:0]
		buf = append(buf, pops[s.Pop].Name...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(s.Neuron), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, Time(s.Stamp, w.net.Dt), 'g', -1, 64)
		buf = append(buf, '\n')
		w.spikes.w.Write(buf)
	}
	for i, tr := range rec.Traces {
		c := w.traces[i]
		width := len(tr.Neurons)
		for r, st := range tr.Stamps {
			buf = buf[:0]
			buf = strconv.AppendFloat(buf, Time(st, w.net.Dt), 'g', -1, 64)
			for _, x := range tr.Values[r*width : (r+1)*width] {
				buf = append(buf, ',')
				buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
			}
			buf = append(buf, '\n')
			c.w.Write(buf)
		}
	}
	return nil
}

func (w *writers) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var first error
	for _, c := range append([]*csvFile{w.spikes}, w.traces...) {
		if c == nil {
			continue
		}
		if err := c.w.Flush(); err != nil && first == nil {
			first = fmt.Errorf("output %s: %w", c.f.Name(), err)
		}
		if err := c.f.Close(); err != nil && first == nil {
			first = fmt.Errorf("output %s: %w", c.f.Name(), err)
		}
	}
	return first
}

// spikesHeader is the first line of spikes.csv.
const spikesHeader = "population,neuron,time_ms"

// traceName is the name of a trace or weight output: POPULATION.STATE.csv
// or SYNAPSE.weight.csv.
var traceName = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+\.csv$`)

// removeStale deletes the files of dir that look like an earlier run's
// output (see Run) and whose names are not in keep, and returns their
// paths.
func removeStale(dir string, keep map[string]bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if keep[name] || !e.Type().IsRegular() || (name != "spikes.csv" && !traceName.MatchString(name)) {
			continue
		}
		path := filepath.Join(dir, name)
		ours, err := ownOutput(path, name == "spikes.csv")
		if err != nil {
			return removed, fmt.Errorf("output folder: %w", err)
		}
		if !ours {
			continue
		}
		if err := os.Remove(path); err != nil {
			return removed, fmt.Errorf("output folder: removing an earlier run's %s: %w", name, err)
		}
		removed = append(removed, path)
	}
	return removed, nil
}

// ownOutput reports whether the first line of the file at path is the
// header of spikes.csv (spikes) or of a trace: "time_ms" followed by
// ",N" column numbers.
func ownOutput(path string, spikes bool) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if spikes {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return false, err
		}
		return strings.TrimSuffix(line, "\n") == spikesHeader, nil
	}
	// A header can be long (one column per neuron or connection): it is
	// read byte by byte, not as one line.
	prefix := make([]byte, len("time_ms"))
	if _, err := io.ReadFull(r, prefix); err != nil || string(prefix) != "time_ms" {
		return false, nil
	}
	const (
		afterName  = iota // "time_ms": a comma or the end
		afterComma        // a digit
		inNumber          // a digit, a comma or the end
	)
	state := afterName
	for {
		b, err := r.ReadByte()
		switch {
		case err == io.EOF || err == nil && b == '\n':
			return state != afterComma, nil
		case err != nil:
			return false, err
		case b == ',' && state != afterComma:
			state = afterComma
		case b >= '0' && b <= '9' && state != afterName:
			state = inNumber
		default:
			return false, nil
		}
	}
}

// ReadInputArray reads an --input file by its extension: a .csv is a
// (T, F) array (models.ParseInputCSV), a .npy any shape numpy.save writes
// (models.InputTransmitter.Trials says which it takes).
func ReadInputArray(path string) (Array, error) {
	return models.ReadInputFile(path)
}
