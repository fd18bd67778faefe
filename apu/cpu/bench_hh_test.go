package cpu_test

import (
	"fmt"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// BenchmarkHH1000: 1,000 HHPSC neurons with NEST hh_psc_alpha's defaults
// (tau_ref 2.0 ms), V(0) = -65 mV with steady-state gates, I_e a ramp from
// 800 to 1200 pA across the neurons, no synapses; 1 s simulated per
// iteration. Reports wall seconds per simulated second.
//
// RKF45 runs at dt 0.1 ms. RK4 cannot: at 0.1 ms every neuron of the ramp
// diverges at its first spike (t = 2.3 to 2.8 ms): on the upstroke the
// Jacobian's fastest eigenvalue reaches -36/ms, and h x 36/ms = 3.6 is
// beyond RK4's real stability limit 2.785 (models.TestHHRK4CoarseStepDiverges;
// checked independently with a Python RK4 of the same equations). All
// 1,000 neurons survive 1 s at 0.09 ms (0.0925 diverges), but only
// briefly outside the stability region, which RK4 stays inside throughout
// only for h < 2.785/36 = 0.077 ms. So RK4 runs at 0.05 ms, half the
// RKF45 grid step, inside it, where its spike counts equal RKF45's.
func BenchmarkHH1000(b *testing.B) {
	for _, c := range []struct {
		name, method string
		dt           float64
	}{{"RKF45", "RKF45", 0.1}, {"RK4_dt0.05", "RK4", 0.05}} {
		b.Run(c.name, func(b *testing.B) {
			spikes := runSeconds(b, hhNetwork(b, 1000, c.method, c.dt))
			b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
		})
	}
}

func hhNetwork(b *testing.B, n int, method string, dt float64) *models.Network {
	net, err := models.Load([]byte(cpu.HHSource(n, method, dt)), "hh1000.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	return net
}

// BenchmarkHH1000Threads is BenchmarkHH1000's RKF45 case on one and on
// two threads (cpu.WithThreads; HHPSC with RKF45 is split in ranges of
// neurons); run it with GOMAXPROCS >= 2. Reports wall and CPU seconds
// per simulated second.
func BenchmarkHH1000Threads(b *testing.B) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", th), func(b *testing.B) {
			spikes := runSeconds(b, hhNetwork(b, 1000, "RKF45", 0.1), cpu.WithThreads(th, nil))
			b.ReportMetric(float64(spikes)/float64(b.N), "spikes/simsec")
		})
	}
}
