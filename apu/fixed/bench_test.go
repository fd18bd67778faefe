package fixed_test

import (
	"path/filepath"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/fixed"
	"github.com/spikeloop/spikeloop/models"
)

// The fixed backend's benchmarks, next to apu/cpu's BenchmarkLIF100k and
// BenchmarkCUBA on the same files and with the same metrics:
//
//	go test -run XXX -bench 'Fixed' -benchmem ./apu/fixed/

func loadExample(b *testing.B, name string) *models.Network {
	b.Helper()
	net, err := models.LoadFile(filepath.Join("..", "..", "examples", name), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	return net
}

// runSeconds loads net on the fixed backend and times one simulated
// second per iteration, draining after each second as apu/cpu's does.
func runSeconds(b *testing.B, net *models.Network) (spikes int64) {
	e := fixed.New()
	if err := e.Load(net); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	steps := int(1000/net.Dt + 0.5)
	var rec apu.Record
	b.ResetTimer()
	c0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		if err := e.Advance(steps); err != nil {
			b.Fatal(err)
		}
		e.Drain(&rec)
		spikes += int64(len(rec.Spikes))
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/simsec")
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/simsec")
	return spikes
}

// BenchmarkFixedLIF100k: examples/lif100k.yaml on the fixed backend.
func BenchmarkFixedLIF100k(b *testing.B) {
	net := loadExample(b, "lif100k.yaml")
	spikes := runSeconds(b, net)
	updates := float64(net.Populations[0].Size) * 10000 * float64(b.N)
	b.ReportMetric(updates/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
}

// BenchmarkFixedCUBA: examples/cuba.yaml on the fixed backend.
func BenchmarkFixedCUBA(b *testing.B) {
	net := loadExample(b, "cuba.yaml")
	spikes := runSeconds(b, net)
	b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
}
