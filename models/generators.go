package models

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Generator is a population that only emits (docs/models/generators.md). Spike
// generators (Kind SpikeSourceClass) fill spike values s_i(k); current
// generators (CurrentSourceClass) fill currents x_i(k) in pA.
type Generator interface {
	Population
	// Emit computes the output of step k into out (len Size) and tells
	// whether any value is nonzero, so the engine can skip routing.
	Emit(k int64, out []float64) bool
}

// window is the activity window of docs/models/generators.md in steps: step k is
// active iff first <= k < end.
type window struct {
	first, end int64
}

func (w window) active(k int64) bool { return k >= w.first && k < w.end }

func windowParams() []Param {
	return []Param{
		{Name: "start", Kind: Number, Unit: "ms", Default: 0.0, Constraint: ">= 0, on the grid", Doc: "activity window start (exclusive for stamps)"},
		{Name: "stop", Kind: NumberOrInf, Unit: "ms", Default: math.Inf(1), Constraint: ">= start, on the grid, or inf", Doc: "activity window end (inclusive for stamps)"},
	}
}

// onGrid converts t (ms) to whole steps, or reports that t is off the
// grid by more than 1e-9 ms. A time of 2^63 steps or more saturates at
// math.MaxInt64 (a step no run reaches): converting such a float to int64
// is implementation-defined in Go (MinInt64 on amd64, MaxInt64 on arm64),
// which turned stop: 1e20 into "never active" and start: 1e20 into
// "always active" on amd64.
func onGrid(t, h float64) (int64, bool) {
	k := math.Round(t / h)
	// k*h rounded before the subtraction: fused into one multiply-add
	// (arm64, GOAMD64=v3) it is the exact residual, which for t = 1e300
	// is 5.6e283 where the rounded product gives 0, so a time would be
	// on the grid on one machine and off it on another.
	ok := math.Abs(float64(k*h)-t) <= 1e-9
	switch {
	case k >= math.MaxInt64: // float64(math.MaxInt64) is 2^63
		return math.MaxInt64, ok
	case k <= math.MinInt64:
		return math.MinInt64, ok
	}
	return int64(k), ok
}

// timesShape describes a spike_times value for a message: "one list per
// unit" or "a single list" (units units).
func timesShape(tv Value, units int) string {
	if tv.Is2D {
		return fmt.Sprintf("spike_times given as %d lists", units)
	}
	return "spike_times given as a single list"
}

// roundGrid prints a grid time without float noise (0.30000000000000004).
func roundGrid(t float64) float64 { return math.Round(t*1e9) / 1e9 }

func buildWindow(b *Build) (window, error) {
	start, stop := b.Float("start"), b.Float("stop")
	if !(start >= 0) || math.IsInf(start, 0) {
		return window{}, paramErr("start", "must be a finite number >= 0, got %g", start)
	}
	first, ok := onGrid(start, b.Dt)
	if !ok {
		return window{}, paramErr("start", "must be a multiple of dt (%g ms), got %g ms", b.Dt, start)
	}
	if math.IsNaN(stop) || stop < start {
		return window{}, paramErr("stop", "must be >= start (%g), got %g", start, stop)
	}
	if math.IsInf(stop, 1) {
		return window{first: first, end: math.MaxInt64}, nil
	}
	end, ok := onGrid(stop, b.Dt)
	if !ok {
		return window{}, paramErr("stop", "must be a multiple of dt (%g ms) or inf, got %g ms", b.Dt, stop)
	}
	return window{first: first, end: end}, nil
}

func binarize(out []float64) {
	for i, x := range out {
		if x != 0 {
			out[i] = 1
		}
	}
}

// windowedSource reads what DC, Poisson and Bernoulli generators share:
// the id parameters, the activity window and their one per-unit value.
func windowedSource(b *Build, name string) (window, []float64, error) {
	if err := checkIDs(b); err != nil {
		return window{}, nil, err
	}
	w, err := buildWindow(b)
	if err != nil {
		return window{}, nil, err
	}
	v, err := b.PerUnit(name)
	return w, v, err
}

// --- DCGenerator --------------------------------------------------------

func dcClass() *Class {
	ps := append([]Param{
		{Name: "amplitude", Kind: PerNeuron, Unit: "pA", Default: 1.0, Constraint: "finite", Doc: "current in active steps"},
	}, windowParams()...)
	ps = append(ps, Param{Name: "is_spike_binary", Kind: Bool, Default: true, Doc: "spike values are 0 or 1",
		NoEffect: "a current source emits currents, not spikes"})
	return &Class{
		Name: "DCGenerator", Kind: CurrentSourceClass,
		Doc:    "constant current source (NEST dc_generator)",
		Params: append(ps, generatorBase()...),
		States: []string{"I"},
		Build: func(b *Build) (Population, error) {
			w, amp, err := windowedSource(b, "amplitude")
			if err != nil {
				return nil, err
			}
			g := &DCGenerator{win: w, amp: amp, out: make([]float64, b.Size)}
			return g, nil
		},
	}
}

// DCGenerator emits amplitude_i in active steps (docs/models/generators.md).
type DCGenerator struct {
	win window
	amp []float64
	out []float64 // last emitted value, the I state
}

var _ Generator = (*DCGenerator)(nil)

func (g *DCGenerator) Size() int            { return len(g.amp) }
func (g *DCGenerator) StateNames() []string { return []string{"I"} }
func (g *DCGenerator) State(name string) []float64 {
	if name == "I" {
		return g.out
	}
	return nil
}

func (g *DCGenerator) Emit(k int64, out []float64) bool {
	if !g.win.active(k) {
		clear(out)
		clear(g.out)
		return false
	}
	copy(out, g.amp)
	copy(g.out, g.amp)
	return true
}

// SetAmplitude replaces the amplitude from the next step on (docs/models/generators.md):
// one value for all units or one per unit, each finite.
func (g *DCGenerator) SetAmplitude(a []float64) error {
	return setPerUnit(g.amp, a, "amplitude", func(x float64) bool { return finite(x) }, "finite")
}

func setPerUnit(dst, src []float64, name string, ok func(float64) bool, want string) error {
	if len(src) != 1 && len(src) != len(dst) {
		return fmt.Errorf("%s: must be 1 value or one per unit (%d), got %d", name, len(dst), len(src))
	}
	for i, x := range src {
		if !ok(x) {
			return fmt.Errorf("%s: value %d: must be %s, got %g", name, i, want, x)
		}
	}
	if len(src) == 1 {
		for i := range dst {
			dst[i] = src[0]
		}
		return nil
	}
	copy(dst, src)
	return nil
}

// --- PoissonGenerator ---------------------------------------------------

func poissonClass() *Class {
	ps := append([]Param{
		{Name: "rate", Kind: PerNeuron, Unit: "Hz", Default: 1000.0, Constraint: ">= 0; rate*dt/1000 <= 700", Doc: "mean rate"},
	}, windowParams()...)
	ps = append(ps, Param{Name: "is_spike_binary", Kind: Bool, Default: false, Doc: "clip counts to 1"})
	return &Class{
		Name: "PoissonGenerator", Kind: SpikeSourceClass,
		Doc:    "Poisson spike trains, one per unit, same train to every target (NEST poisson_generator)",
		Params: append(ps, generatorBase()...),
		Build: func(b *Build) (Population, error) {
			w, rate, err := windowedSource(b, "rate")
			if err != nil {
				return nil, err
			}
			g := &PoissonGenerator{win: w, h: b.Dt, rand: b.Rand, binary: b.Bool("is_spike_binary"),
				lambda: make([]float64, b.Size), expNeg: make([]float64, b.Size)}
			if err := g.SetRate(rate); err != nil {
				return nil, paramErr("rate", "%v", strings.TrimPrefix(err.Error(), "rate: "))
			}
			return g, nil
		},
	}
}

// PoissonGenerator draws a Poisson count per unit and active step by
// inversion with exactly one uniform per unit (docs/models/generators.md).
type PoissonGenerator struct {
	win    window
	h      float64
	rand   interface{ Float64() float64 }
	binary bool
	lambda []float64 // rate*h/1000
	expNeg []float64 // exp(-lambda), cached
}

var _ Generator = (*PoissonGenerator)(nil)

func (g *PoissonGenerator) Size() int                   { return len(g.lambda) }
func (g *PoissonGenerator) StateNames() []string        { return nil }
func (g *PoissonGenerator) State(name string) []float64 { return nil }

// SetRate replaces the rates (Hz) from the next step on.
func (g *PoissonGenerator) SetRate(rate []float64) error {
	lim := 700 * 1000 / g.h
	tmp := make([]float64, len(g.lambda))
	if err := setPerUnit(tmp, rate, "rate", func(x float64) bool { return x >= 0 && x <= lim }, fmt.Sprintf(">= 0 and <= %g Hz (rate*dt/1000 <= 700)", lim)); err != nil {
		return err
	}
	for i, r := range tmp {
		g.lambda[i] = r * g.h / 1000
		g.expNeg[i] = math.Exp(-g.lambda[i])
	}
	return nil
}

func (g *PoissonGenerator) Emit(k int64, out []float64) bool {
	clear(out)
	if !g.win.active(k) {
		return false
	}
	any := false
	for i, lam := range g.lambda {
		u := g.rand.Float64()
		n := 0.0
		p := g.expNeg[i]
		f := p
		for u >= f && p > 0 {
			n++
			p = p * lam / n
			f += p
		}
		if n > 0 {
			any = true
			if g.binary {
				n = 1
			}
			out[i] = n
		}
	}
	return any
}

// --- BernoulliGenerator -------------------------------------------------

func bernoulliClass() *Class {
	ps := append([]Param{
		{Name: "prob", Kind: PerNeuron, Unit: "1", Default: 0.5, Constraint: "in [0, 1]", Doc: "spike probability per step"},
	}, windowParams()...)
	ps = append(ps, Param{Name: "is_spike_binary", Kind: Bool, Default: true, Doc: "spike values are 0 or 1",
		NoEffect: "a Bernoulli unit emits at most one spike per step"})
	return &Class{
		Name: "BernoulliGenerator", Kind: SpikeSourceClass,
		Doc:    "at most one spike per unit and step with probability prob",
		Params: append(ps, generatorBase()...),
		Build: func(b *Build) (Population, error) {
			w, prob, err := windowedSource(b, "prob")
			if err != nil {
				return nil, err
			}
			g := &BernoulliGenerator{win: w, rand: b.Rand, prob: make([]float64, b.Size)}
			if err := g.SetProb(prob); err != nil {
				return nil, paramErr("prob", "%v", strings.TrimPrefix(err.Error(), "prob: "))
			}
			return g, nil
		},
	}
}

// BernoulliGenerator is docs/models/generators.md.
type BernoulliGenerator struct {
	win  window
	rand interface{ Float64() float64 }
	prob []float64
}

var _ Generator = (*BernoulliGenerator)(nil)

func (g *BernoulliGenerator) Size() int                   { return len(g.prob) }
func (g *BernoulliGenerator) StateNames() []string        { return nil }
func (g *BernoulliGenerator) State(name string) []float64 { return nil }

// SetProb replaces the probabilities from the next step on.
func (g *BernoulliGenerator) SetProb(p []float64) error {
	return setPerUnit(g.prob, p, "prob", func(x float64) bool { return x >= 0 && x <= 1 }, "in [0, 1]")
}

func (g *BernoulliGenerator) Emit(k int64, out []float64) bool {
	clear(out)
	if !g.win.active(k) {
		return false
	}
	any := false
	for i, p := range g.prob {
		if g.rand.Float64() < p {
			out[i] = 1
			any = true
		}
	}
	return any
}

// --- SpikeGenerator -----------------------------------------------------

func spikeGenClass() *Class {
	return &Class{
		Name: "SpikeGenerator", Kind: SpikeSourceClass,
		Doc: "spikes at listed times (NEST spike_generator)",
		Params: append([]Param{
			{Name: "spike_times", Kind: TimeList, Unit: "ms", Default: []float64{}, Constraint: "on the grid, >= dt, non-descending; one list or one per unit", Doc: "spike times"},
			{Name: "multiplicities", Kind: TimeList, Unit: "1", Default: 1.0, Constraint: "integer >= 1, or one per time", Doc: "spike multiplicity"},
			{Name: "is_spike_binary", Kind: Bool, Default: false, Doc: "clip values to 1"},
		}, generatorBase()...),
		Build: func(b *Build) (Population, error) { return newSpikeGenerator(b) },
	}
}

// SpikeGenerator emits listed times (docs/models/generators.md). Each unit keeps its
// spikes as (step, value) sorted by step and a cursor.
type SpikeGenerator struct {
	steps  [][]int64
	vals   [][]float64
	next   []int
	binary bool
}

var _ Generator = (*SpikeGenerator)(nil)

func newSpikeGenerator(b *Build) (*SpikeGenerator, error) {
	if err := checkIDs(b); err != nil {
		return nil, err
	}
	tv, _ := b.value("spike_times")
	var perUnit [][]float64
	switch {
	case tv.Is2D:
		if len(tv.Rows) != b.Size {
			return nil, paramErr("spike_times", "must be a single list or one list per unit (size %d), got %d lists", b.Size, len(tv.Rows))
		}
		perUnit = tv.Rows
	default:
		list := tv.Nums
		if !tv.IsList && !tv.Null {
			list = []float64{tv.Num}
		}
		perUnit = make([][]float64, b.Size)
		for i := range perUnit {
			perUnit[i] = list
		}
	}
	mv, _ := b.value("multiplicities")
	g := &SpikeGenerator{binary: b.Bool("is_spike_binary"), next: make([]int, b.Size),
		steps: make([][]int64, b.Size), vals: make([][]float64, b.Size)}
	for u, times := range perUnit {
		var mult []float64
		switch {
		case mv.Is2D:
			if len(mv.Rows) != len(perUnit) || !tv.Is2D {
				return nil, paramErr("multiplicities", "must be a list of lists only with spike_times given per unit in the same shape, got %d lists for %s", len(mv.Rows), timesShape(tv, len(perUnit)))
			}
			mult = mv.Rows[u]
		case mv.IsList && tv.Is2D:
			// Times per unit but one flat list of multiplicities: it could
			// mean one per unit or one per time; make the file say which.
			return nil, paramErr("multiplicities", "must be one integer for all or a list per unit (a list of lists of the shape of spike_times, which is given per unit; give multiplicities per unit too), got one flat list of %d", len(mv.Nums))
		case mv.IsList:
			mult = mv.Nums
		}
		if mult != nil && len(mult) != len(times) {
			return nil, paramErr("multiplicities", "unit %d: must be one per spike time (%d), got %d", u, len(times), len(mult))
		}
		prev := math.Inf(-1)
		for j, t := range times {
			if !finite(t) {
				return nil, paramErr("spike_times", "unit %d: must be finite times, got %g", u, t)
			}
			if t < prev {
				return nil, paramErr("spike_times", "unit %d: must be sorted (non-descending), got %g after %g", u, t, prev)
			}
			prev = t
			k, ok := onGrid(t, b.Dt)
			if !ok {
				lo := math.Floor(t/b.Dt) * b.Dt
				return nil, paramErr("spike_times", "unit %d: must be on the grid of dt (%g ms; a spike is stamped with the end of the step that emits it, so write a multiple of dt, e.g. %g or %g; neurai takes the time as given, NEST refuses off-grid times too), got %g ms",
					u, b.Dt, roundGrid(lo), roundGrid(lo+b.Dt), t)
			}
			if k < 1 {
				return nil, paramErr("spike_times", "unit %d: must be >= dt (%g ms; a spike is stamped with the end of the step that emits it, so write %g for a spike in the first step; neurai accepts 0, NEST refuses it too), got %g ms", u, b.Dt, b.Dt, t)
			}
			m := mv.Num
			if mult != nil {
				m = mult[j]
			}
			if m < 1 || m != math.Trunc(m) {
				return nil, paramErr("multiplicities", "unit %d: must be an integer >= 1, got %g", u, m)
			}
			step := k - 1 // time t is emitted in step round(t/h)-1, stamped t
			if n := len(g.steps[u]); n > 0 && g.steps[u][n-1] == step {
				g.vals[u][n-1] += m // equal times add up
				continue
			}
			g.steps[u] = append(g.steps[u], step)
			g.vals[u] = append(g.vals[u], m)
		}
	}
	return g, nil
}

// StoredTimes is the spike times the generator holds over all its units
// (equal times of a unit are held once), 16 bytes each: step and value.
func (g *SpikeGenerator) StoredTimes() int64 {
	var n int64
	for _, s := range g.steps {
		n += int64(len(s))
	}
	return n
}

func (g *SpikeGenerator) Size() int                   { return len(g.steps) }
func (g *SpikeGenerator) StateNames() []string        { return nil }
func (g *SpikeGenerator) State(name string) []float64 { return nil }

func (g *SpikeGenerator) Emit(k int64, out []float64) bool {
	any := false
	for u, steps := range g.steps {
		out[u] = 0
		j := g.next[u]
		for j < len(steps) && steps[j] < k {
			j++ // skip spikes of steps never run (not expected in normal stepping)
		}
		if j < len(steps) && steps[j] == k {
			out[u] = g.vals[u][j]
			if g.binary {
				out[u] = 1
			}
			any = true
			j++
		}
		g.next[u] = j
	}
	return any
}

// --- CustomGenerator ----------------------------------------------------

func customClass() *Class {
	ps := append([]Param{
		{Name: "data", Kind: NumberArray, Unit: "1", Default: nil, Constraint: "1-D (T) or 2-D (T x size), finite, >= 0", Doc: "row j is the output of the j-th step from start"},
		{Name: "datapath", Kind: Path, Default: nil, Constraint: "a .dat file relative to the network file", Doc: "the same array as a text file"},
	}, windowParams()...)
	ps = append(ps, Param{Name: "is_spike_binary", Kind: Bool, Default: false, Doc: "nonzero -> 1"})
	return &Class{
		Name: "CustomGenerator", Kind: SpikeSourceClass,
		Doc:    "replays a given array of spike values, one row per step",
		Params: append(ps, generatorBase()...),
		Build:  func(b *Build) (Population, error) { return newCustomGenerator(b) },
	}
}

// CustomGenerator is docs/models/generators.md; its array can be replaced at run time
// (10.8) with SetData.
type CustomGenerator struct {
	win    window
	binary bool
	size   int
	rows   [][]float64 // each len 1 (shared by all units) or size
	k0     int64       // step that emits rows[0]
}

var _ Generator = (*CustomGenerator)(nil)

func newCustomGenerator(b *Build) (*CustomGenerator, error) {
	if err := checkIDs(b); err != nil {
		return nil, err
	}
	w, err := buildWindow(b)
	if err != nil {
		return nil, err
	}
	g := &CustomGenerator{win: w, binary: b.Bool("is_spike_binary"), size: b.Size}
	hasData, hasPath := b.Has("data") && !b.Values["data"].Null, b.Has("datapath") && !b.Values["datapath"].Null
	var rows [][]float64
	switch {
	case hasData && hasPath:
		return nil, paramErr("data", "must be given without datapath (exactly one of data and datapath), got both")
	case !hasData && !hasPath:
		return nil, paramErr("data", "must be given, or datapath (exactly one of data and datapath), got neither")
	case hasData:
		v := b.Values["data"]
		if v.Is2D {
			rows = v.Rows
		} else {
			for _, x := range v.Nums {
				rows = append(rows, []float64{x})
			}
		}
	default:
		rows, err = b.readDat(filepath.Join(b.Dir, b.Str("datapath")))
		if err != nil {
			return nil, paramErr("datapath", "%v", err)
		}
	}
	// Row 0 is emitted in the window's first step, as neurai's
	// CustomGenerator counts its rows from start.
	if err := g.SetData(rows, w.first); err != nil {
		name := "data"
		if hasPath {
			name = "datapath"
		}
		return nil, paramErr(name, "%v", err)
	}
	return g, nil
}

// SetData installs a new array before step k0: row j is emitted in step
// k0+j, and nothing of the previous array remains. Rows hold one value
// (every unit) or size values. The generator keeps rows without copying
// (arrays can be long): the caller must not change them afterwards.
func (g *CustomGenerator) SetData(rows [][]float64, k0 int64) error {
	width := -1
	for r, row := range rows {
		if width == -1 {
			width = len(row)
		}
		if len(row) != width {
			return fmt.Errorf("row %d: must have the %d values of the earlier rows, got %d", r, width, len(row))
		}
		if width != 1 && width != g.size {
			return fmt.Errorf("rows: must have 1 value or one per unit (%d), got %d", g.size, width)
		}
		for c, x := range row {
			if !finite(x) || x < 0 {
				return fmt.Errorf("row %d, column %d: must be finite and >= 0, got %g", r, c, x)
			}
		}
	}
	g.rows, g.k0 = rows, k0
	return nil
}

func (g *CustomGenerator) Size() int                   { return g.size }
func (g *CustomGenerator) StateNames() []string        { return nil }
func (g *CustomGenerator) State(name string) []float64 { return nil }

func (g *CustomGenerator) Emit(k int64, out []float64) bool {
	j := k - g.k0
	if !g.win.active(k) || j < 0 || j >= int64(len(g.rows)) {
		clear(out)
		return false
	}
	row := g.rows[j]
	if len(row) == 1 {
		for i := range out {
			out[i] = row[0]
		}
	} else {
		copy(out, row)
	}
	if g.binary {
		binarize(out)
	}
	for _, x := range out {
		if x != 0 {
			return true
		}
	}
	return false
}

// ReadDat reads the CustomGenerator `.dat` format of docs/models/generators.md: one
// row per step, values separated by spaces, tabs or commas, `#` comments
// and blank lines skipped, all rows of equal width.
func ReadDat(path string) ([][]float64, error) {
	if filepath.Ext(path) != ".dat" {
		return nil, fmt.Errorf("must be a .dat file, got %s", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
		row := make([]float64, len(fields))
		for i, fl := range fields {
			x, err := strconv.ParseFloat(fl, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: value %d: must be a number, got %q", path, line, i+1, fl)
			}
			row[i] = x
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, fmt.Errorf("%s:%d: must have the %d values of the earlier rows, got %d", path, line, len(rows[0]), len(row))
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// --- InputTransmitter ---------------------------------------------------

func inputTransmitterClass() *Class {
	return &Class{
		Name: "InputTransmitter", Kind: SpikeSourceClass, // current mode is decided per population
		Doc: "entry point for data supplied at run time (sensor stream or --input array)",
		Params: append([]Param{
			{Name: "inputs_type", Kind: Enum, Default: "spike", Choices: []string{"spike", "current"}, Doc: "spike values or currents (pA)"},
			{Name: "batch_first", Kind: Bool, Default: false, Doc: "rank-3 input is (B, T, F) instead of (T, B, F)"},
			{Name: "is_spike_binary", Kind: Bool, Default: false, Doc: "spike mode only: nonzero -> 1"},
		}, generatorBase()...),
		States: []string{"I"},
		Build: func(b *Build) (Population, error) {
			if err := checkIDs(b); err != nil {
				return nil, err
			}
			t := &InputTransmitter{current: b.Str("inputs_type") == "current", binary: b.Bool("is_spike_binary"),
				batchFirst: b.Bool("batch_first"), next: make([]float64, b.Size), out: make([]float64, b.Size)}
			if t.current && b.Has("is_spike_binary") {
				return nil, paramErr("is_spike_binary", "must be left out with inputs_type current (it applies to inputs_type spike only), got %v", b.Bool("is_spike_binary"))
			}
			return t, nil
		},
	}
}

// InputTransmitter is docs/models/generators.md. Values come from a series (row k for
// step k0+k, offline) or from SetNext (the daemon: one vector for the
// next step only; a step with no vector gets zeros).
type InputTransmitter struct {
	current, binary, batchFirst bool
	series                      [][]float64
	k0                          int64
	next                        []float64
	hasNext                     bool
	out                         []float64 // value of the last step (state I in current mode)
}

var _ Generator = (*InputTransmitter)(nil)

// Current tells whether the transmitter emits currents (pA) instead of spikes.
func (t *InputTransmitter) Current() bool { return t.current }

func (t *InputTransmitter) Size() int { return len(t.next) }
func (t *InputTransmitter) StateNames() []string {
	if t.current {
		return []string{"I"}
	}
	return nil
}
func (t *InputTransmitter) State(name string) []float64 {
	if t.current && name == "I" {
		return t.out
	}
	return nil
}

func checkRow(row []float64, size int) error {
	if len(row) != size {
		return fmt.Errorf("must have size %d values, got %d", size, len(row))
	}
	for i, x := range row {
		if !finite(x) {
			return fmt.Errorf("value %d: must be a finite number, got %g", i, x)
		}
	}
	return nil
}

// SetNext gives the vector for the next step only.
func (t *InputTransmitter) SetNext(v []float64) error {
	if err := checkRow(v, len(t.next)); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	copy(t.next, v)
	t.hasNext = true
	return nil
}

// SetSeries installs rows for steps k0, k0+1, ...; after the last row the
// transmitter emits zeros. It replaces any earlier series. The rows are
// kept without copying: the caller must not change them afterwards.
func (t *InputTransmitter) SetSeries(rows [][]float64, k0 int64) error {
	for r, row := range rows {
		if err := checkRow(row, len(t.next)); err != nil {
			return fmt.Errorf("input row %d: %w", r, err)
		}
	}
	t.series, t.k0 = rows, k0
	return nil
}

// Trials splits an input array (C order) into the step rows of each
// trial, by the shapes neurai's InputTransmitter takes (F = size):
//
//	(F,)                           one trial, one vector, in step 0 only
//	(T, F)                         one trial, row k in step k
//	(T, B, F), batch_first false   B trials of T rows (neurai's default)
//	(B, T, F), batch_first true    B trials of T rows
//
// neurai's (B, F), a batch of single vectors, is (B, 1, F) with
// batch_first. A batch runs as trials, the network reset between them
// (`spikeloop sim --trials`); every value must be finite.
func (t *InputTransmitter) Trials(shape []int, data []float64) ([][][]float64, error) {
	f := len(t.next)
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(shape) == 0 || n != len(data) {
		return nil, fmt.Errorf("input shape %v does not match %d values", shape, len(data))
	}
	if shape[len(shape)-1] != f {
		return nil, fmt.Errorf("input shape %v: the last dimension is the features and must equal size %d", shape, f)
	}
	for i, x := range data {
		if !finite(x) {
			return nil, fmt.Errorf("input value %d (C order): must be a finite number, got %g", i, x)
		}
	}
	rows := func(off, stride, count int) [][]float64 {
		out := make([][]float64, count)
		for k := range out {
			out[k] = data[off+k*stride : off+k*stride+f : off+k*stride+f]
		}
		return out
	}
	switch len(shape) {
	case 1:
		return [][][]float64{rows(0, f, 1)}, nil
	case 2:
		return [][][]float64{rows(0, f, shape[0])}, nil
	case 3:
		var out [][][]float64
		if t.batchFirst { // (B, T, F)
			for b := range shape[0] {
				out = append(out, rows(b*shape[1]*f, f, shape[1]))
			}
		} else { // (T, B, F)
			for b := range shape[1] {
				out = append(out, rows(b*f, shape[1]*f, shape[0]))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("input shape: must be (F,), (T, F), (T, B, F) or with batch_first (B, T, F), got %v", shape)
}

// SetArray installs an array of one trial (Trials' shapes) for steps k0,
// k0+1, ... A batch of more than one is an error: the engine runs one
// network, and `spikeloop sim` runs a batch as trials.
func (t *InputTransmitter) SetArray(shape []int, data []float64, k0 int64) error {
	trials, err := t.Trials(shape, data)
	if err != nil {
		return err
	}
	if len(trials) != 1 {
		layout := "(T, B, F) since batch_first is false"
		if t.batchFirst {
			layout = "(B, T, F) since batch_first is true"
		}
		return fmt.Errorf("input shape %v, read as %s: a batch of %d; one network runs one trial at a time: give one batch element, or run the batch with spikeloop sim, which runs one trial per element", shape, layout, len(trials))
	}
	return t.SetSeries(trials[0], k0)
}

func (t *InputTransmitter) Emit(k int64, out []float64) bool {
	switch j := k - t.k0; {
	case t.hasNext:
		copy(out, t.next)
		t.hasNext = false
	case j >= 0 && j < int64(len(t.series)):
		copy(out, t.series[j])
	default:
		clear(out)
	}
	if t.binary {
		binarize(out)
	}
	copy(t.out, out)
	for _, x := range out {
		if x != 0 {
			return true
		}
	}
	return false
}
