package cpu_test

import (
	"fmt"
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"path/filepath"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

func loadExample(b *testing.B, name string) *models.Network {
	b.Helper()
	net, err := models.LoadFile(filepath.Join("..", "..", "examples", name), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	return net
}

// runSeconds is backendtest.Seconds on a cpu engine with opts.
func runSeconds(b *testing.B, net *models.Network, opts ...cpu.Option) int64 {
	return backendtest.Seconds(b, cpu.New(opts...), net)
}

// BenchmarkLIF100k: 100,000 LIF neurons, no synapses, 1 s at dt 0.1 ms
// per iteration (examples/lif100k.yaml). Reports neuron-updates/s.
func BenchmarkLIF100k(b *testing.B) {
	net := loadExample(b, "lif100k.yaml")
	spikes := runSeconds(b, net)
	updates := float64(net.Populations[0].Size) * 10000 * float64(b.N)
	b.ReportMetric(updates/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
}

// BenchmarkCUBA: the Vogels-Abbott CUBA network of examples/cuba.yaml.
// Reports wall seconds per simulated second and synaptic events/s.
func BenchmarkCUBA(b *testing.B) {
	benchCUBA(b, loadExample(b, "cuba.yaml"))
}

func benchCUBA(b *testing.B, net *models.Network, opts ...cpu.Option) {
	spikes := runSeconds(b, net, opts...)
	// Events: every recorded spike times the out-degree of its neuron.
	outdeg := map[string][]int32{}
	for _, s := range net.Synapses {
		d := outdeg[s.Pre.Name]
		if d == nil {
			d = make([]int32, s.Pre.Size)
			outdeg[s.Pre.Name] = d
		}
		for _, c := range s.Conns {
			d[c.Pre]++
		}
	}
	var conns, n int64
	for _, d := range outdeg {
		for _, x := range d {
			conns += int64(x)
			n++
		}
	}
	events := float64(spikes) * float64(conns) / float64(n) // mean out-degree
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
	b.ReportMetric(b.Elapsed().Seconds()/events*1e9, "ns/event")
}

// BenchmarkCUBAScaling runs CUBA at 4,000, 16,000 and 64,000 neurons with
// p = 80/N, so that each neuron keeps 80 inputs and the cost per synaptic
// event should stay flat.
func BenchmarkCUBAScaling(b *testing.B) {
	for _, n := range []int{4000, 16000, 64000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchCUBA(b, cubaNetwork(b, n))
		})
	}
}

// BenchmarkCUBAThreads is CUBAScaling on one and on two threads
// (cpu.WithThreads); run it with GOMAXPROCS >= 2.
func BenchmarkCUBAThreads(b *testing.B) {
	for _, n := range []int{4000, 16000, 64000} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%d/threads=%d", n, th), func(b *testing.B) {
				benchCUBA(b, cubaNetwork(b, n), cpu.WithThreads(th, nil))
			})
		}
	}
}

// cubaNetwork is cpu.CUBASource(n) loaded.
func cubaNetwork(b *testing.B, n int) *models.Network {
	// fixed_prob looks at N^2 pairs: 64,000 neurons are over the default
	// bound of a network file, which a benchmark may lift.
	lim := models.DefaultLimits
	lim.MaxPairs = 0
	net, err := models.Load([]byte(cpu.CUBASource(n)), fmt.Sprintf("cuba%d.yaml", n), models.NewRegistry(), lim)
	if err != nil {
		b.Fatal(err)
	}
	return net
}
