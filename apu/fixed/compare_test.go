package fixed_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/apu/fixed"
	"github.com/spikeloop/spikeloop/models"
)

// run loads path into b, runs its duration and returns what it recorded.
func run(t *testing.T, path string, b apu.Backend) apu.Record {
	t.Helper()
	net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var all, rec apu.Record
	b.Drain(&all)
	for done := int64(0); done < net.Steps(); done += 1000 {
		if err := b.Advance(int(min(1000, net.Steps()-done))); err != nil {
			t.Fatal(err)
		}
		b.Drain(&rec)
		all.Spikes = append(all.Spikes, rec.Spikes...)
		for i := range rec.Traces {
			all.Traces[i].Stamps = append(all.Traces[i].Stamps, rec.Traces[i].Stamps...)
			all.Traces[i].Values = append(all.Traces[i].Values, rec.Traces[i].Values...)
		}
	}
	return all
}

// referenceDir is $SPIKELOOP_REFERENCE or the project's copy of the
// reference data, as apu/offline's reference tests read it.
func referenceDir() string {
	if d := os.Getenv("SPIKELOOP_REFERENCE"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "testdata", "reference")
}

// Every reference case of testdata/reference/bio the APU runs (the
// others are refused, and logged): the fixed backend's spikes are the
// cpu backend's (NEST-exact) within one step, and its potentials within
// the bound the compiler's report predicts wherever the two runs'
// spikes agree (a spike one step apart moves V by the reset's jump for
// that step).
func TestAgainstCPUReference(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(referenceDir(), "bio", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no reference cases in %s: %v", referenceDir(), err)
	}
	ran := 0
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fixed.New().Probe(net); err != nil {
				if !errors.Is(err, apu.ErrUnsupported) {
					t.Fatal(err)
				}
				t.Skipf("the APU does not run it: %v", err)
			}
			ran++
			fb := fixed.New()
			got := run(t, path, fb)
			want := run(t, path, cpu.New())
			bound, ok := fb.Report().Pop("cells")
			if !ok {
				t.Fatal("no population cells in the report")
			}
			off := spikesWithinOneStep(t, got, want)
			gt, wt := got.Traces[0], want.Traces[0]
			if gt.State != "V" || !slices.Equal(gt.Stamps, wt.Stamps) {
				t.Fatalf("V traces: %s with %d rows, cpu %d", gt.State, len(gt.Stamps), len(wt.Stamps))
			}
			worst, skipped := 0.0, 0
			for r, stamp := range gt.Stamps {
				for c, n := range gt.Neurons {
					if slices.ContainsFunc(off[unit{int32(gt.Pop), int32(n)}], func(w [2]int64) bool { return stamp >= w[0] && stamp <= w[1] }) {
						skipped++
						continue
					}
					i := r*len(gt.Neurons) + c
					worst = max(worst, math.Abs(gt.Values[i]-wt.Values[i]))
				}
			}
			if worst > bound.Bound {
				t.Errorf("largest |V - V_cpu| %.3g mV above the report's bound %.3g mV", worst, bound.Bound)
			}
			t.Logf("%d spikes, %d units with spikes one step apart; largest |V - V_cpu| %.3g mV (bound %.3g mV), %d samples skipped",
				len(got.Spikes), len(off), worst, bound.Bound, skipped)
		})
	}
	t.Logf("%d of %d reference cases run on the APU", ran, len(paths))
}

// CUBA is chaotic, so its spikes differ; its population rates agree
// within 2%.
func TestCUBARates(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "cuba.yaml")
	fb := fixed.New()
	got := run(t, path, fb)
	// The report warns that the ports could saturate if every input
	// spiked at once; CUBA's activity never gets there.
	for _, pop := range []string{"exc", "inh"} {
		if n, err := fb.Saturations(pop); err != nil || n != 0 {
			t.Errorf("%s: %d saturations (%v)", pop, n, err)
		}
	}
	want := run(t, path, cpu.New())
	count := func(r apu.Record) map[int32]int {
		m := map[int32]int{}
		for _, s := range r.Spikes {
			m[s.Pop]++
		}
		return m
	}
	g, w := count(got), count(want)
	for pop, n := range w {
		rel := math.Abs(float64(g[pop]-n)) / float64(n)
		if rel > 0.02 {
			t.Errorf("population %d: %d spikes, cpu %d (%.2f%% apart, want <= 2%%)", pop, g[pop], n, 100*rel)
		}
		t.Logf("population %d: %d spikes, cpu %d (%.2f%% apart)", pop, g[pop], n, 100*rel)
	}
}

// The demo's network driven by the light sensors' currents (the same
// feeds into both backends, through Run as the daemon gives them): the
// spikes are the cpu backend's within one step, the motor potentials
// within the report's bound where the spikes agree.
func TestDemoNetworkFeeds(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "demo", "braitenberg.yaml")
	load := func(b apu.Backend) {
		net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"motor_left", "motor_right"} {
			net.Monitors = append(net.Monitors, &models.MonitorSpec{Population: net.Population(name), Record: []string{"V"}, Every: 1})
		}
		if err := b.Load(net); err != nil {
			t.Fatal(err)
		}
	}
	fb := fixed.New()
	cb := cpu.New()
	load(fb)
	load(cb)
	defer fb.Close()
	defer cb.Close()
	var got, want, rec apu.Record
	fb.Drain(&got)
	cb.Drain(&want)
	left, right := make([]float64, 10), make([]float64, 10)
	for tick := range 2000 { // 2 s of 1 ms ticks of 10 steps
		for s := range 10 {
			// Light voltages (0..3.3 V) times the encoder's 2000 pA/V,
			// a slow sweep that crosses the motors' rheobase.
			left[s] = 2000 * 3.3 * 0.5 * (1 + math.Sin(float64(tick*10+s)/3000))
			right[s] = 2000 * 3.3 * 0.5 * (1 + math.Cos(float64(tick*10+s)/2100))
		}
		feeds := []apu.Feed{{Pop: "eye_left", Values: left}, {Pop: "eye_right", Values: right}}
		for _, b := range []struct {
			be  apu.Backend
			all *apu.Record
		}{{fb, &got}, {cb, &want}} {
			if err := b.be.Run(10, feeds); err != nil {
				t.Fatal(err)
			}
			b.be.Drain(&rec)
			b.all.Spikes = append(b.all.Spikes, rec.Spikes...)
			for i := range rec.Traces {
				b.all.Traces[i].Stamps = append(b.all.Traces[i].Stamps, rec.Traces[i].Stamps...)
				b.all.Traces[i].Values = append(b.all.Traces[i].Values, rec.Traces[i].Values...)
			}
		}
	}
	if len(got.Spikes) != len(want.Spikes) || len(want.Spikes) < 100 {
		t.Fatalf("%d spikes, cpu %d", len(got.Spikes), len(want.Spikes))
	}
	type key struct{ pop, n int32 }
	stamps := func(r apu.Record) map[key][]int64 {
		m := map[key][]int64{}
		for _, s := range r.Spikes {
			m[key{s.Pop, s.Neuron}] = append(m[key{s.Pop, s.Neuron}], s.Stamp)
		}
		return m
	}
	gs, ws := stamps(got), stamps(want)
	apart := 0
	for k, w := range ws {
		g := gs[k]
		if len(g) != len(w) {
			t.Fatalf("%v: %d spikes, cpu %d", k, len(g), len(w))
		}
		for i := range w {
			if d := g[i] - w[i]; d < -1 || d > 1 {
				t.Fatalf("%v: spike %d at %d, cpu %d", k, i, g[i], w[i])
			} else if d != 0 {
				apart++
			}
		}
	}
	worst := 0.0
	for ti, gt := range got.Traces {
		wt := want.Traces[ti]
		if apart == 0 {
			for i := range gt.Values {
				worst = max(worst, math.Abs(gt.Values[i]-wt.Values[i]))
			}
		}
	}
	pr, _ := fb.Report().Pop("motor_left")
	if worst > pr.Bound {
		t.Errorf("largest |V - V_cpu| %.3g mV above the report's bound %.3g mV", worst, pr.Bound)
	}
	t.Logf("%d spikes, %d one step apart; largest |V - V_cpu| %.3g mV (bound %.3g mV)", len(got.Spikes), apart, worst, pr.Bound)
}

// Stepwise neurons, SNNIF (soft reset) and SNNLIF, fed by a Custom
// source through zero-delay and delayed synapses, on both backends. (A
// stepwise population fed by another one is not compared spike by spike:
// a spike one step apart upstream moves the input of every later step.)
func TestStepwiseAgainstCPU(t *testing.T) {
	src := `version: 1
dt: 1.0
duration: 400
seed: 3
populations:
  x: {model: CustomGenerator, size: 4, params: {data: [[0.3, 0.1, 0.7, 0.25], [0.05, 0.6, 0.2, 0.35], [0.5, 0.15, 0.05, 0.45]]}}
  a: {model: SNNIF, size: 4, params: {V_reset: null}}
  b: {model: SNNLIF, size: 4, params: {tau: 3.0, V_rest: 0.1, V_th: 0.8}}
synapses:
  - {pre: x, post: a, conn: {rule: one_to_one}, weight: 0.9, delay: 0}
  - {pre: x, post: b, conn: {rule: all_to_all}, weight: 0.35, delay: 0}
  - {pre: x, post: b, conn: {rule: one_to_one}, weight: 0.5, delay: 2}
monitors:
  - {population: a, record: [spikes, v]}
  - {population: b, record: [spikes, v]}
`
	rows := "["
	for k := range 400 {
		if k > 0 {
			rows += ", "
		}
		rows += "[" + ftoa(0.5+0.5*math.Sin(float64(k)/7)) + ", " + ftoa(0.3+0.3*math.Cos(float64(k)/5)) + ", " + ftoa(0.9*math.Mod(float64(k)*0.6180339887, 1)) + ", 0.21]"
	}
	src = strings.Replace(src, "[[0.3, 0.1, 0.7, 0.25], [0.05, 0.6, 0.2, 0.35], [0.5, 0.15, 0.05, 0.45]]", rows+"]", 1)
	results := map[string]apu.Record{}
	var rep *compile.Report
	for _, name := range []string{"cpu", "fixed"} {
		net, err := models.Load([]byte(src), "snn.yaml", models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		var b apu.Backend = cpu.New()
		if name == "fixed" {
			b = fixed.New()
		}
		if err := b.Load(net); err != nil {
			t.Fatal(err)
		}
		var all apu.Record
		b.Drain(&all)
		if err := b.Advance(400); err != nil {
			t.Fatal(err)
		}
		var rec apu.Record
		b.Drain(&rec)
		all.Spikes = rec.Spikes
		for i := range rec.Traces {
			all.Traces[i].Stamps = append(all.Traces[i].Stamps, rec.Traces[i].Stamps...)
			all.Traces[i].Values = append(all.Traces[i].Values, rec.Traces[i].Values...)
		}
		results[name] = all
		if name == "fixed" {
			rep = b.(*fixed.Backend).Report()
		}
	}
	got, want := results["fixed"], results["cpu"]
	off := spikesWithinOneStep(t, got, want)
	if len(want.Spikes) < 50 {
		t.Fatalf("only %d spikes", len(want.Spikes))
	}
	for ti := range want.Traces {
		gt, wt := got.Traces[ti], want.Traces[ti]
		worst, skipped := 0.0, 0
		for r, stamp := range wt.Stamps {
			for c, n := range wt.Neurons {
				if slices.ContainsFunc(off[unit{int32(gt.Pop), int32(n)}], func(w [2]int64) bool { return stamp >= w[0] && stamp <= w[1] }) {
					skipped++
					continue
				}
				i := r*len(wt.Neurons) + c
				worst = max(worst, math.Abs(gt.Values[i]-wt.Values[i]))
			}
		}
		pr, _ := rep.Pop(rep.Host.Pops[gt.Pop].Name)
		if worst > pr.Bound {
			t.Errorf("%s: largest |v - v_cpu| %.3g above the report's bound %.3g", pr.Name, worst, pr.Bound)
		}
		t.Logf("%s: largest |v - v_cpu| %.3g (bound %.3g), %d samples skipped", pr.Name, worst, pr.Bound, skipped)
	}
	t.Logf("%d spikes, cpu %d; %d units with spikes one step apart", len(got.Spikes), len(want.Spikes), len(off))
}

type unit struct{ pop, n int32 }

// spikesWithinOneStep fails unless every unit has as many spikes in got
// as in want, each within one step, and returns per unit the stamp
// windows [earlier, later] of the spikes one step apart.
func spikesWithinOneStep(t *testing.T, got, want apu.Record) map[unit][][2]int64 {
	t.Helper()
	stamps := func(r apu.Record) map[unit][]int64 {
		m := map[unit][]int64{}
		for _, s := range r.Spikes {
			m[unit{s.Pop, s.Neuron}] = append(m[unit{s.Pop, s.Neuron}], s.Stamp)
		}
		return m
	}
	gs, ws := stamps(got), stamps(want)
	off := map[unit][][2]int64{}
	for k, w := range ws {
		g := gs[k]
		if len(g) != len(w) {
			t.Fatalf("%v: %d spikes, cpu %d", k, len(g), len(w))
		}
		for i := range w {
			if d := g[i] - w[i]; d < -1 || d > 1 {
				t.Fatalf("%v: spike %d at stamp %d, cpu %d", k, i, g[i], w[i])
			} else if d != 0 {
				off[k] = append(off[k], [2]int64{min(g[i], w[i]), max(g[i], w[i])})
			}
		}
	}
	if len(gs) != len(ws) {
		t.Fatalf("%d units spiked, cpu %d", len(gs), len(ws))
	}
	return off
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
