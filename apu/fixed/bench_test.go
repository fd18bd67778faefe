package fixed_test

import (
	"github.com/spikeloop/spikeloop/apu/backendtest"
	"path/filepath"
	"testing"

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

// runSeconds is backendtest.Seconds on the fixed backend.
func runSeconds(b *testing.B, net *models.Network) int64 {
	return backendtest.Seconds(b, fixed.New(), net)
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
