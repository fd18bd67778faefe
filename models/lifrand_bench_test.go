package models

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLIFKernelRandomPhase: 100,000 LIF neurons with random initial
// V, so refractory neurons are spread over every block (the opposite of
// LIF100k, whose ramp keeps them together).
func BenchmarkLIFKernelRandomPhase(b *testing.B) {
	n := loadPop(b, "LIF", 100000, "{tau_ref: 2.0, I_e: 376.0}").(*LIF)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n.v {
		n.v[i] = -70 + 15*rng.Float64()
	}
	spk := make([]int32, 0, 100000)
	for b.Loop() {
		for range 100 {
			spk, _ = n.Step(nil, nil, spk[:0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e7, "ns/update")
}
