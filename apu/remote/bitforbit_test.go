package remote_test

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/apu/fixed"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/models"
)

// networkFiles are the repository's network files (those the compiler
// test walks): every one the APU runs is compared.
func networkFiles(t *testing.T) []string {
	var paths []string
	for _, pat := range []string{"../../examples/*.yaml", "../../examples/demo/braitenberg.yaml", "../../testdata/reference/*/*.yaml",
		"../../models/testdata/neurai/*.yaml", "../../models/testdata/neurai/*/*.yaml", "../../recording/testdata/*/braitenberg*.yaml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	return paths
}

// feeds are a tick's inputs for every InputTransmitter of the network:
// a slow sweep, in pA for current inputs, else around 1.
func feeds(host *compile.Host, tick, steps int) []apu.Feed {
	var fs []apu.Feed
	for _, p := range host.Pops {
		if !p.Feed {
			continue
		}
		scale := 1.0
		if p.Current {
			scale = 2000
		}
		v := make([]float64, steps*p.Size)
		for i := range v {
			x := float64(tick*steps+i/p.Size) / 37
			v[i] = scale * (1 + math.Sin(x+float64(i%p.Size)))
		}
		fs = append(fs, apu.Feed{Pop: p.Name, Values: v})
	}
	return fs
}

// twin runs the same calls on the fixed backend and on the chip and
// fails at the first difference: spikes, trace stamps and values (bit
// for bit), Now, and every state of every unit at the end.
type twin struct {
	t         *testing.T
	name      string
	fb        *fixed.Backend
	rb        *remote.Backend
	got, want apu.Record
}

func newTwin(t *testing.T, name string, net *models.Network, rb *remote.Backend) *twin {
	t.Helper()
	tw := &twin{t: t, name: name, fb: fixed.New(), rb: rb}
	if err := tw.fb.Load(net); err != nil {
		t.Fatalf("%s: fixed: %v", name, err)
	}
	if rb.Image() == nil { // else loaded (and Reset) by the caller
		if err := rb.Load(net); err != nil {
			t.Fatalf("%s: apu: %v", name, err)
		}
	}
	tw.compare()
	return tw
}

func (tw *twin) run(n int, fs []apu.Feed) {
	tw.t.Helper()
	ef, er := tw.fb.Run(n, fs), tw.rb.Run(n, fs)
	if (ef == nil) != (er == nil) {
		tw.t.Fatalf("%s: Run: fixed %v, apu %v", tw.name, ef, er)
	}
	tw.compare()
}

func (tw *twin) set(pop string, s apu.Setting, v []float64) {
	tw.t.Helper()
	ef, er := tw.fb.Set(pop, s, v), tw.rb.Set(pop, s, v)
	if (ef == nil) != (er == nil) {
		tw.t.Fatalf("%s: Set(%s, %s): fixed %v, apu %v", tw.name, pop, s, ef, er)
	}
}

func (tw *twin) compare() {
	tw.t.Helper()
	tw.fb.Drain(&tw.want)
	tw.rb.Drain(&tw.got)
	if tw.fb.Now() != tw.rb.Now() {
		tw.t.Fatalf("%s: Now %d, fixed %d", tw.name, tw.rb.Now(), tw.fb.Now())
	}
	if !slices.Equal(tw.got.Spikes, tw.want.Spikes) {
		tw.t.Fatalf("%s: at step %d: %d spikes, fixed %d (or they differ)", tw.name, tw.fb.Now(), len(tw.got.Spikes), len(tw.want.Spikes))
	}
	if len(tw.got.Traces) != len(tw.want.Traces) {
		tw.t.Fatalf("%s: %d traces, fixed %d", tw.name, len(tw.got.Traces), len(tw.want.Traces))
	}
	for i, g := range tw.got.Traces {
		w := tw.want.Traces[i]
		if g.State != w.State || !slices.Equal(g.Stamps, w.Stamps) || !bitsEqual(g.Values, w.Values) {
			tw.t.Fatalf("%s: at step %d: trace %d (%s): %d rows, fixed %d (or the values differ)", tw.name, tw.fb.Now(), i, g.State, len(g.Stamps), len(w.Stamps))
		}
	}
}

// states compares every state of every population, all units.
func (tw *twin) states() int {
	tw.t.Helper()
	n := 0
	for _, p := range tw.fb.Report().Host.Pops {
		units := make([]int, p.Size)
		for i := range units {
			units[i] = i
		}
		for _, st := range p.States {
			w, ef := tw.fb.State(p.Name, st.Name, units, nil)
			g, er := tw.rb.State(p.Name, st.Name, units, nil)
			if ef != nil || er != nil || !bitsEqual(g, w) {
				tw.t.Fatalf("%s: State(%s, %s): %v, %v; fixed %v, %v", tw.name, p.Name, st.Name, g[:min(len(g), 4)], er, w[:min(len(w), 4)], ef)
			}
			n += len(units)
		}
	}
	return n
}

func bitsEqual(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// Every network file of the repository that the APU runs, up to 300
// steps (300 for those without a duration) in ticks of 10 with inputs for its InputTransmitters: the chip
// behind the emulated SPI wire gives the fixed backend's spikes, traces
// and states bit for bit.
func TestBitForBitFiles(t *testing.T) {
	ran := 0
	for _, path := range networkFiles(t) {
		net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			continue // not a network file
		}
		if _, err := fixed.New().Probe(net); err != nil {
			if !errors.Is(err, apu.ErrUnsupported) {
				t.Fatalf("%s: %v", path, err)
			}
			continue
		}
		rb, _ := onSPI(t, emulator.Config{}, remote.Config{})
		tw := newTwin(t, path, net, rb)
		host := &tw.fb.Report().Host
		steps := min(net.Steps(), 300)
		if steps == 0 {
			steps = 300 // a network without a duration (the daemon's)
		}
		for tick := 0; int64(tick*10) < steps; tick++ {
			tw.run(10, feeds(host, tick, 10))
		}
		n := tw.states()
		st := rb.Stats()
		t.Logf("%s: %d steps, %d state values; %d frames out, %d in, %d + %d bytes", path, tw.fb.Now(), n, st.FramesOut, st.FramesIn, st.BytesOut, st.BytesIn)
		ran++
	}
	if ran < 8 {
		t.Errorf("%d network files compared: the globs found too few", ran)
	}
}

// The conformance suite's network (every generator setting) driven
// through every setter, one value and one per unit, with a Custom table
// too long for one frame, on the chip and on the fixed backend: the same
// bits.
func TestBitForBitSettings(t *testing.T) {
	rb, _ := onSPI(t, emulator.Config{}, remote.Config{})
	net, err := models.Load([]byte(backendtest.Net), "net.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	tw := newTwin(t, "backendtest.Net", net, rb)
	host := &tw.fb.Report().Host
	table := make([]float64, 3*2000) // 24 KB of rows: several SETs
	for i := range table {
		table[i] = float64(i%17) * 3.5
	}
	for tick := range 120 {
		switch tick {
		case 10:
			tw.set("drive", apu.DCAmplitude, []float64{812.25})
			tw.set("noise", apu.PoissonRate, []float64{900})
		case 30:
			tw.set("noise", apu.PoissonRate, []float64{100, 200, 300, 400, 500, 600, 700, 5000})
			tw.set("coin", apu.BernoulliProb, []float64{0.01, 0.5, 0.9, 0.33})
		case 50:
			tw.set("window", apu.CustomRows, table)
		case 70:
			tw.set("window", apu.CustomRows, []float64{7, 8, 9})
			tw.set("coin", apu.BernoulliProb, []float64{0.7})
		case 90:
			tw.set("noise", apu.PoissonRate, []float64{-1}) // refused by both
			tw.set("drive", apu.DCAmplitude, []float64{0})
		}
		tw.run(10, feeds(host, tick, 10))
	}
	tw.states()
	// After Reset both start again from the image's settings.
	if ef, er := tw.fb.Reset(), rb.Reset(); ef != nil || er != nil {
		t.Fatal(ef, er)
	}
	tw.compare()
	for tick := range 30 {
		tw.run(10, feeds(host, tick, 10))
	}
	tw.states()
}

// The demo's network with its motors' V recorded, driven by light
// sensor currents tick by tick as the daemon drives it (1 ms ticks of
// 10 steps): the chip gives the fixed backend's bits.
func TestBitForBitDemo(t *testing.T) {
	net, err := models.LoadFile("../../examples/demo/braitenberg.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"motor_left", "motor_right"} {
		net.Monitors = append(net.Monitors, &models.MonitorSpec{Population: net.Population(name), Record: []string{"V"}, Every: 1})
	}
	rb, _ := onSPI(t, emulator.Config{}, remote.Config{})
	tw := newTwin(t, "demo", net, rb)
	left, right := make([]float64, 10), make([]float64, 10)
	spikes := 0
	for tick := range 1000 {
		for s := range 10 {
			left[s] = 2000 * 3.3 * 0.5 * (1 + math.Sin(float64(tick*10+s)/3000))
			right[s] = 2000 * 3.3 * 0.5 * (1 + math.Cos(float64(tick*10+s)/2100))
		}
		tw.run(10, []apu.Feed{{Pop: "eye_left", Values: left}, {Pop: "eye_right", Values: right}})
		spikes += len(tw.got.Spikes)
	}
	tw.states()
	if spikes < 100 {
		t.Errorf("%d spikes in 1 s: the comparison saw too little", spikes)
	}
	st := rb.Stats()
	t.Logf("%d spikes; %d requests, %d frames out, %d in, %.1f + %.1f bytes per tick", spikes, st.Requests, st.FramesOut, st.FramesIn,
		float64(st.BytesOut)/1000, float64(st.BytesIn)/1000)
}

// Per-unit settings of a population larger than a frame holds go in
// several SETs that the chip stages: the same bits as the fixed backend.
func TestBitForBitLargeSetting(t *testing.T) {
	const src = `version: 1
dt: 0.1
seed: 5
populations:
  noise: {model: PoissonGenerator, size: 3000, params: {rate: 10.0}}
  drive: {model: DCGenerator, size: 2500, params: {amplitude: 0.0}}
  cells: {model: LIF, size: 50, params: {V_th: -55.0, V_reset: -70.0, tau: 10.0, R: 0.04}}
synapses:
  - {pre: noise, post: cells, conn: {rule: fixed_indegree, n: 100}, weight: 2.0, delay: 1.0}
  - {pre: drive, post: cells, conn: {rule: fixed_indegree, n: 10}, weight: 1.0}
monitors:
  - population: cells
    record: [spikes, V]
`
	net, err := models.Load([]byte(src), "large.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := onSPI(t, emulator.Config{}, remote.Config{})
	tw := newTwin(t, "large settings", net, rb)
	rates := make([]float64, 3000)
	amps := make([]float64, 2500)
	for i := range rates {
		rates[i] = float64(i % 900)
	}
	for i := range amps {
		amps[i] = float64(i%13) * 40
	}
	tw.set("noise", apu.PoissonRate, rates)
	tw.set("drive", apu.DCAmplitude, amps)
	spikes := 0
	for range 30 {
		tw.run(10, nil)
		spikes += len(tw.got.Spikes)
	}
	tw.states()
	if spikes == 0 {
		t.Error("no spikes: the settings did not arrive")
	}
}
