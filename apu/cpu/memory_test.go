package cpu_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// The estimate counts the spike times a network holds (16 bytes each) and
// its connections (32 bytes each with one delay per entry).
func TestEstimateMemoryCountsSpikeTimesAndConnections(t *testing.T) {
	est := func(times int, conns bool) int64 {
		ts := make([]string, times)
		for i := range ts {
			ts[i] = fmt.Sprint(i + 1) // ms, on the grid, distinct
		}
		src := "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 10, params: {spike_times: [" + strings.Join(ts, ", ") + "]}}\n  a: {model: LIF, size: 100}\n"
		if conns {
			src += "synapses:\n  - {pre: g, post: a, conn: {rule: all_to_all}}\n"
		}
		net, err := models.Load([]byte(src), "m.yaml", models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return cpu.EstimateMemory(net)
	}
	base := est(0, false)
	if d := est(1000, false) - base; d != 10*1000*16 {
		t.Errorf("1000 times on 10 units add %d bytes, want %d", d, 10*1000*16)
	}
	if d := est(5000, false) - base; d != 10*5000*16 {
		t.Errorf("5000 times on 10 units add %d bytes, want %d", d, 10*5000*16)
	}
	// 1000 connections of 32 bytes and CSR offsets (11 int32); the ring of
	// a grows from 1 slot to 2 (one step of delay) of 100 neurons per row.
	d := est(0, true) - base
	if rings := d - 1000*32 - 11*4; rings <= 0 || rings%(100*8) != 0 {
		t.Errorf("1000 connections add %d bytes, want 32 each, offsets and whole ring rows", d)
	}
}

// Loading allocates each connection's CSR arrays once, at their final
// length: 12 bytes per static connection (target int32, weight float64)
// plus offsets and rings, which is what EstimateMemory counts, not the
// 2-3x of growing them by append.
func TestLoadPeakMatchesEstimate(t *testing.T) {
	const n = 2000 // all_to_all: 4e6 connections, one delay
	src := fmt.Sprintf("version: 1\npopulations:\n  a: {model: LIF, size: %d}\nsynapses:\n  - {pre: a, post: a, conn: {rule: all_to_all}}\n", n)
	net, err := models.Load([]byte(src), "m.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	conns := int64(len(net.Synapses[0].Conns))
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	e := cpu.New()
	if err := e.Load(net); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	alloc := int64(m1.TotalAlloc - m0.TotalAlloc)
	// target 4 + weight 8 per connection and no delay array (all equal);
	// offsets, rings and the rest of the engine are small next to it.
	want := conns * 12
	t.Logf("%d connections: Load allocated %d bytes, %.2f per connection", conns, alloc, float64(alloc)/float64(conns))
	if alloc > want+want/20 {
		t.Errorf("Load allocated %d bytes for %d connections (%.2f each), want at most 12 each plus 5%%", alloc, conns, float64(alloc)/float64(conns))
	}
	runtime.KeepAlive(e)
}
