package backendtest

import (
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/internal/cputime"
	"github.com/spikeloop/spikeloop/models"
)

// Seconds is the body of the backends' whole-network benchmarks: it
// loads net on be (new, unloaded; closed at the end) and times one
// simulated second per iteration. The network runs on across
// iterations; recorded spikes are drained (and dropped) after each
// second, as `spikeloop sim` does in chunks. It reports s/simsec and
// cpu-s/simsec (the process's CPU time: on a busy machine the wall clock
// also counts the time other processes had the CPU) and returns the
// spikes recorded.
func Seconds(b *testing.B, be apu.Backend, net *models.Network) (spikes int64) {
	b.Helper()
	defer be.Close()
	if err := be.Load(net); err != nil {
		b.Fatal(err)
	}
	steps := int(1000/net.Dt + 0.5)
	var rec apu.Record
	b.ResetTimer()
	c0 := cputime.Seconds()
	for i := 0; i < b.N; i++ {
		if err := be.Advance(steps); err != nil {
			b.Fatal(err)
		}
		be.Drain(&rec)
		spikes += int64(len(rec.Spikes))
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/simsec")
	b.ReportMetric((cputime.Seconds()-c0)/float64(b.N), "cpu-s/simsec")
	return spikes
}
