package engine

import (
	"github.com/spikeloop/spikeloop/internal/cputime"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// lif100k is the fixed-point twin of examples/lif100k.yaml, built by
// hand: n independent LIF neurons (NEST iaf_psc_delta defaults, dt 0.1
// ms) driven just above rheobase by I_e 376 pA, y = V - V_rest starting
// on a ramp over [0, 15) mV, spikes recorded.
func lif100k(n int) *image.Image {
	p := lifPop(n, 0.1, 10, 0.04, 15, 0, 376, 20)
	for i := range p.Unit[image.LIFY0] {
		p.Unit[image.LIFY0][i] = int32(int64(q(15)) * int64(i) / int64(n))
	}
	return &image.Image{Version: image.Version, DtPicos: 100_000_000, Pops: []image.Pop{p},
		Monitors: []image.Monitor{{Pop: 0, Spikes: true, Every: 1}}}
}

// BenchmarkFixedLIF100k: 100,000 LIF neurons, no synapses, one
// simulated second (10,000 steps) per iteration, the spikes drained after
// every step. Reports neuron-updates/s and wall seconds per simulated
// second, as apu/cpu's BenchmarkLIF100k does for the float engine.
func BenchmarkFixedLIF100k(b *testing.B) {
	const n, steps = 100_000, 10_000
	e := mustNew(b, lif100k(n))
	sp := make([]Spike, 0, n)
	spikes := 0
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cputime.Seconds()
	for it := 0; it < b.N; it++ {
		e.Reset()
		for k := 0; k < steps; k++ {
			e.Step()
			sp = e.DrainSpikes(sp[:0])
			spikes += len(sp)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*steps*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/simsec")
	// On a busy machine the wall clock also counts the time other
	// processes had the CPU; the process's CPU time does not.
	b.ReportMetric((cputime.Seconds()-c0)/float64(b.N), "cpu-s/simsec")
	b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
}

// BenchmarkStepZoo: one step of the test image with every kind.
func BenchmarkStepZoo(b *testing.B) {
	e := mustNew(b, zoo())
	sp := make([]Spike, 0, 1024)
	rows := make([]Row, 0, 1024)
	vals := make([]int32, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		drive(e, e.Now())
		e.Step()
		sp = e.DrainSpikes(sp[:0])
		rows, vals = e.DrainRows(rows[:0], vals[:0])
	}
}
