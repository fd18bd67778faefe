package cpu_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// richNet has what a shared description could leak through: random
// generators (their streams), a CustomGenerator's rows read from a .dat
// file, initial states drawn from a distribution, Izhikevich's u derived
// from an init V (afterInit), HH's gates from its V, and a plastic
// synapse whose weights change as it runs.
const richNet = `version: 1
seed: 11
duration: 60.0
populations:
  noise: {model: PoissonGenerator, size: 40, params: {rate: 400.0}}
  rows: {model: CustomGenerator, size: 3, params: {datapath: rows.dat}}
  exc:
    model: LIF
    size: 60
    params: {tau_ref: 2.0}
    init: {V: {dist: uniform, low: -70.0, high: -56.0}}
  izh: {model: Izhikevich, size: 20, params: {I_e: 4.0}, init: {V: -60.0}}
  hh: {model: HH, size: 5, params: {I_e: 300.0}, init: {V: [-65.0, -64.0, -63.0, -62.0, -61.0]}}
synapses:
  - {name: plastic, pre: noise, post: exc, model: STDPSynapse, conn: {rule: fixed_indegree, n: 8}, weight: 4.0, delay: 1.0}
  - {pre: rows, post: exc, conn: {rule: all_to_all}, weight: 3.0, delay: 0.5}
  - {pre: exc, post: izh, conn: {rule: fixed_prob, p: 0.2}, weight: 2.0, delay: 1.5}
monitors:
  - {population: exc, record: [spikes, V]}
  - {population: izh, record: [spikes, u]}
  - {population: hh, record: [V, m]}
  - {synapse: plastic, record: [weight], every: 10}
`

// loadRich writes richNet and its .dat into a new folder and loads it;
// the .dat file is removed afterwards, so that nothing may read it again.
func loadRich(t *testing.T) *models.Network {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rows.dat"), []byte("1 0 1\n0 1 0\n1 1 1\n0 0 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rich.yaml")
	if err := os.WriteFile(path, []byte(richNet), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "rows.dat")); err != nil {
		t.Fatal(err)
	}
	return net
}

// initialStates copies every state of every population of the
// description, and every synapse entry's weights.
func initialStates(net *models.Network) map[string][]float64 {
	s := map[string][]float64{}
	for _, p := range net.Populations {
		for _, name := range p.Model.StateNames() {
			s[p.Name+"."+name] = append([]float64(nil), p.Model.State(name)...)
		}
	}
	for _, syn := range net.Synapses {
		s["synapse "+syn.Pre.Name+"->"+syn.Post.Name+" weights"] = append([]float64(nil), syn.Weights...)
	}
	return s
}

func runFor(t *testing.T, e *cpu.Engine, steps int) apu.Record {
	t.Helper()
	if err := e.Advance(steps); err != nil {
		t.Fatal(err)
	}
	var rec apu.Record
	e.Drain(&rec)
	return rec
}

// TestOneNetworkTwoEngines: a Network is a description. Loaded into two
// engines, the first runs a while, then the second gives bit for bit what
// an engine on a network loaded anew gives; the description's initial
// states and weights are what they were before either ran; and the
// .dat file the network named, removed after loading, is not needed by
// Load or Reset.
func TestOneNetworkTwoEngines(t *testing.T) {
	files := []string{filepath.Join("..", "..", "examples", "cuba.yaml"), filepath.Join("..", "..", "examples", "starter.yaml")}
	stdp, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "reference", "stdp", "*.yaml"))
	files = append(files, stdp...)
	type netCase struct {
		name string
		load func(t *testing.T) *models.Network
	}
	cases := []netCase{{"rich", loadRich}}
	for _, path := range files {
		cases = append(cases, netCase{filepath.Base(path), func(t *testing.T) *models.Network {
			net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			return net
		}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := c.load(t)
			steps := int(min(net.Steps(), 400))
			before := initialStates(net)

			fresh := cpu.New()
			if err := fresh.Load(c.load(t)); err != nil {
				t.Fatal(err)
			}
			want := runFor(t, fresh, steps)
			if len(want.Spikes) == 0 {
				t.Fatalf("%s: no spikes in %d steps; the test would compare nothing that moves", c.name, steps)
			}

			a, b := cpu.New(), cpu.New(cpu.WithThreads(2, nil))
			defer b.Close()
			if err := a.Load(net); err != nil {
				t.Fatal(err)
			}
			if err := b.Load(net); err != nil {
				t.Fatal(err)
			}
			runFor(t, a, steps/2+13)
			got := runFor(t, b, steps)
			if !reflect.DeepEqual(got.Spikes, want.Spikes) {
				t.Errorf("second engine on the shared network: %d spikes, a fresh load %d (or the same count, different spikes)", len(got.Spikes), len(want.Spikes))
			}
			if !reflect.DeepEqual(got.Traces, want.Traces) {
				t.Error("second engine on the shared network: traces differ from a fresh load")
			}
			if after := initialStates(net); !reflect.DeepEqual(after, before) {
				for k, v := range before {
					if !reflect.DeepEqual(after[k], v) {
						t.Errorf("description's %s changed by a run", k)
					}
				}
			}
			// Reset builds from the description again, the first engine's
			// run notwithstanding (and with the .dat file gone).
			if err := a.Reset(); err != nil {
				t.Fatal(err)
			}
			if again := runFor(t, a, steps); !reflect.DeepEqual(again.Spikes, want.Spikes) || !reflect.DeepEqual(again.Traces, want.Traces) {
				t.Error("after Reset: outputs differ from a fresh load")
			}
		})
	}
}

// TestNewModelIsOwn: NewModel gives a new object at the description's
// initial state each time; stepping it changes neither the description
// nor another one.
func TestNewModelIsOwn(t *testing.T) {
	net := loadRich(t)
	ps := net.Population("exc")
	m1, err := ps.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ps.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	v0 := append([]float64(nil), ps.Model.State("V")...)
	if !reflect.DeepEqual(m1.State("V"), v0) || !reflect.DeepEqual(m2.State("V"), v0) {
		t.Fatal("NewModel's initial V differs from the description's (init: drawn from a distribution)")
	}
	in := make([]float64, ps.Size)
	for i := range in {
		in[i] = 20
	}
	for range 30 {
		if _, err := m1.(models.NeuronModel).Step(nil, [][]float64{in}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if reflect.DeepEqual(m1.State("V"), v0) {
		t.Fatal("30 steps with input left V unchanged; the test shows nothing")
	}
	if !reflect.DeepEqual(ps.Model.State("V"), v0) || !reflect.DeepEqual(m2.State("V"), v0) {
		t.Error("stepping one NewModel object changed the description or another object")
	}
}
