package models_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// fuzzLimits keep every fuzz input small: no size, connection count or
// pair loop a mutated file asks for can exhaust memory or time.
var fuzzLimits = models.Limits{MaxUnits: 2000, MaxConnections: 20000, MaxPairs: 100000}

// FuzzLoad feeds the loader mutated network files. It must never panic;
// an error is a *FileError naming the fuzz file, or at least mentions the
// file name.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "reference", "bio", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no seed files in ../testdata/reference/bio")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range badNetworks {
		f.Add([]byte(c.yaml))
	}
	f.Add([]byte(richNetwork))
	reg := models.NewRegistry()
	// The file lives in an empty folder, so that datapath and npy paths of
	// mutated inputs read nothing of the repository.
	path := filepath.Join(f.TempDir(), "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := models.Load(data, path, reg, fuzzLimits)
		if err != nil {
			var fe *models.FileError
			if errors.As(err, &fe) {
				if fe.File != path {
					t.Fatalf("FileError.File = %q, want %q", fe.File, path)
				}
				if fe.Msg == "" {
					t.Fatalf("FileError without a message: %#v", fe)
				}
			} else if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q (%T) does not name the file", err, err)
			}
			return
		}
		checkLoaded(t, net)
	})
}

// checkLoaded asserts what the engine relies on from a loaded network.
func checkLoaded(t *testing.T, net *models.Network) {
	t.Helper()
	if !(net.Dt > 0) || net.Duration < 0 || net.Steps() < 0 {
		t.Fatalf("dt %g duration %g steps %d", net.Dt, net.Duration, net.Steps())
	}
	units := 0
	for _, p := range net.Populations {
		if p.Size < 1 || p.Model == nil || p.Model.Size() != p.Size {
			t.Fatalf("population %q: size %d, model %T", p.Name, p.Size, p.Model)
		}
		units += p.Size
	}
	if units > fuzzLimits.MaxUnits {
		t.Fatalf("%d units, limit %d", units, fuzzLimits.MaxUnits)
	}
	conns := 0
	for _, s := range net.Synapses {
		conns += len(s.Conns)
		if len(s.Weights) != len(s.Conns) || len(s.Delays) != len(s.Conns) {
			t.Fatalf("synapse %d: %d conns, %d weights, %d delays", s.Index, len(s.Conns), len(s.Weights), len(s.Delays))
		}
		for i, c := range s.Conns {
			if c.Pre < 0 || int(c.Pre) >= s.Pre.Size || c.Post < 0 || int(c.Post) >= s.Post.Size {
				t.Fatalf("synapse %d: conn %v out of range %dx%d", s.Index, c, s.Pre.Size, s.Post.Size)
			}
			if w := s.Weights[i]; math.IsNaN(w) || math.IsInf(w, 0) {
				t.Fatalf("synapse %d: weight %g", s.Index, w)
			}
			if s.Delays[i] < 0 {
				t.Fatalf("synapse %d: delay %d steps", s.Index, s.Delays[i])
			}
		}
		if n, ok := s.Post.Model.(models.NeuronModel); !ok || s.Receptor < 0 || s.Receptor >= n.Ports() {
			t.Fatalf("synapse %d: receptor %d into %T", s.Index, s.Receptor, s.Post.Model)
		}
	}
	if conns > fuzzLimits.MaxConnections {
		t.Fatalf("%d connections, limit %d", conns, fuzzLimits.MaxConnections)
	}
	for _, m := range net.Monitors {
		if m.Every < 1 {
			t.Fatalf("monitor every %d", m.Every)
		}
		if m.Population == nil {
			continue
		}
		for _, n := range m.Neurons {
			if n < 0 || n >= m.Population.Size {
				t.Fatalf("monitor neuron %d of %d", n, m.Population.Size)
			}
		}
		for _, r := range m.Record {
			if r != "spikes" && len(m.Population.Model.State(r)) != m.Population.Size {
				t.Fatalf("monitor records %q of %q but State gives %d values", r, m.Population.Name, len(m.Population.Model.State(r)))
			}
		}
	}
}

// richNetwork uses every class, rule and value form the loader knows, so
// that mutations start from deep inside the loader.
const richNetwork = `version: 1
dt: 0.1
duration: 20
seed: 3
populations:
  sg: {model: SpikeGenerator, size: 2, params: {spike_times: [[1.0, 2.0], [0.5]], multiplicities: [[1, 2], [3]]}}
  pg: {model: PoissonGenerator, size: 2, params: {rate: [10.0, 20.0], start: 1.0, stop: 10.0}}
  bg: {model: BernoulliGenerator, size: 1, params: {prob: 0.2, stop: inf}}
  cg: {model: CustomGenerator, size: 2, params: {data: [[1, 0], [0, 2]], is_spike_binary: true}}
  dc: {model: DCGenerator, size: 2, params: {amplitude: [1.0, 2.0]}}
  it: {model: InputTransmitter, size: 2, params: {inputs_type: current}}
  lif: {model: LIF, size: 3, params: {tau_ref: null, I_e: [0, 1, 2], method: RK4}, init: {V: {dist: ramp, low: -70, high: -60}}}
  exp: {model: ExpLIF, size: 3, params: {tau_syn: [2.0, 5.0]}, init: {I_syn_1: [1, 2, 3]}}
  izh: {model: Izhikevich, size: 2, init: {V: -70.0}}
  snn: {model: SNNIF, size: 2}
synapses:
  - {name: a, pre: sg, post: lif, conn: {rule: all_to_all}, weight: {dist: normal, mean: 1.0, std: 0.1}}
  - {pre: pg, post: exp, conn: {rule: fixed_indegree, n: 1}, receptor: 1, delay: 0.3}
  - {pre: cg, post: izh, conn: {rule: one_to_one}, weight: [1.0, 2.0]}
  - {pre: dc, post: lif, conn: {rule: fixed_total_num, n: 4, multi_conn: true}}
  - {pre: it, post: exp, conn: {rule: explicit, pairs: [[0, 2], [1, 0]]}, delay: [0.1, 0.2]}
  - {pre: lif, post: lif, conn: {rule: fixed_prob, p: 0.5, allow_autapses: false}, weight: {dist: uniform, low: -1, high: 1}}
  - {pre: bg, post: izh, conn: {rule: all_to_all}}
  - {name: p1, pre: sg, post: izh, model: STDPSynapse, params: {tau_plus: 10.0, Wmax: 5.0}, conn: {rule: one_to_one}, weight: 1.0}
  - {name: p2, pre: lif, post: exp, model: TripletSTDPSynapse, conn: {rule: fixed_prob, p: 0.5}}
  - {pre: lif, post: snn, conn: {rule: all_to_all}, delay: 0}
monitors:
  - {population: lif, record: [spikes, V], neurons: [2, 0], every: 2}
  - {population: exp, record: [I_syn, I_syn_0]}
  - {population: it, record: [I]}
  - {population: izh, record: [u]}
  - {synapse: p1, record: [weight], every: 5}
`

// The rich seed must load, or the fuzzer starts from an early error.
func TestRichNetworkLoads(t *testing.T) {
	net, err := loadString(t, richNetwork, fuzzLimits)
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, net)
	if len(net.Populations) != 10 || len(net.Synapses) != 10 || len(net.Monitors) != 5 {
		t.Errorf("%d populations, %d synapses, %d monitors", len(net.Populations), len(net.Synapses), len(net.Monitors))
	}
}
