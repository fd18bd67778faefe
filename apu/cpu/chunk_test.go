package cpu

import (
	"reflect"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Stepping a population in chunks, each cleared after its step, gives
// what stepping it whole gives, bit for bit: CUBA at 10,000 neurons (8,000
// excitatory: two chunks of 4,096 and a part) on one and two threads,
// with chunks of 4,096 and of 1,000 against one chunk.
func TestChunksMatchWhole(t *testing.T) {
	src := CUBASource(10000) + "  - {population: exc, record: [V, I_syn_0, I_syn_1], neurons: [0, 999, 1000, 4095, 4096, 7999], every: 3}\n" +
		"  - {population: inh, record: [V], neurons: [0, 1999]}\n"
	lim := models.DefaultLimits
	lim.MaxPairs = 0
	net, err := models.Load([]byte(src), "cuba10000.yaml", models.NewRegistry(), lim)
	if err != nil {
		t.Fatal(err)
	}
	run := func(chunk, threads int) apu.Record {
		e := New(WithThreads(threads, nil))
		e.chunk = chunk
		if err := e.Load(net); err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.Threads() != threads {
			t.Fatalf("runs on %d threads, want %d", e.Threads(), threads)
		}
		if err := e.Advance(400); err != nil {
			t.Fatal(err)
		}
		var rec apu.Record
		e.Drain(&rec)
		return rec
	}
	whole := run(1<<30, 1)
	if len(whole.Spikes) < 1000 {
		t.Fatalf("%d spikes in 40 ms: too few to test anything", len(whole.Spikes))
	}
	for _, c := range []struct{ chunk, threads int }{{0, 1}, {1000, 1}, {1000, 2}, {0, 2}} {
		got := run(c.chunk, c.threads)
		if !reflect.DeepEqual(got.Spikes, whole.Spikes) {
			t.Errorf("chunk %d, %d threads: %d spikes, differing from the %d stepped whole", c.chunk, c.threads, len(got.Spikes), len(whole.Spikes))
		}
		for i := range whole.Traces {
			if !reflect.DeepEqual(got.Traces[i].Values, whole.Traces[i].Values) {
				t.Errorf("chunk %d, %d threads: trace %s differs from the one stepped whole", c.chunk, c.threads, whole.Traces[i].State)
			}
		}
	}
}
