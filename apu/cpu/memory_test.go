package cpu_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// probeMemory is what the engine's Probe reports for src.
func probeMemory(t *testing.T, src string) (int64, *models.Network) {
	t.Helper()
	net, err := models.Load([]byte(src), "m.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := cpu.New().Probe(net)
	if err != nil {
		t.Fatal(err)
	}
	return pr.Memory, net
}

// Probe's memory counts the spike times a network holds (16 bytes each,
// in the description and in the engine's own generator), its connections
// (22 bytes each with one weight and one delay per entry into a
// population of at most 65,536) and the delay rings as
// models.Network.RingBytes counts them, the figure Limits.MaxRingBytes
// bounds: one count, not two that disagree.
func TestProbeMemoryCountsSpikeTimesConnectionsRings(t *testing.T) {
	est := func(times int, conns string) int64 {
		ts := make([]string, times)
		for i := range ts {
			ts[i] = fmt.Sprint(i + 1) // ms, on the grid, distinct
		}
		src := "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 10, params: {spike_times: [" + strings.Join(ts, ", ") + "]}}\n  a: {model: LIF, size: 100}\n"
		if conns != "" {
			src += "synapses:\n  - {pre: g, post: a, conn: {rule: all_to_all}" + conns + "}\n"
		}
		m, _ := probeMemory(t, src)
		return m
	}
	base := est(0, "")
	if d := est(1000, "") - base; d != 2*10*1000*16 {
		t.Errorf("1000 times on 10 units add %d bytes, want %d", d, 2*10*1000*16)
	}
	if d := est(5000, "") - base; d != 2*10*5000*16 {
		t.Errorf("5000 times on 10 units add %d bytes, want %d", d, 2*10*5000*16)
	}
	// 1000 connections of 22 bytes, CSR offsets (11 int32) and the ring
	// of a: 1 slot (one step of delay) of one row of 100 float64s, with
	// its list of written neurons (100/16 = 6 int32).
	if d := est(0, ", delay: 0.1") - base; d != 1000*22+11*4+1*(100*8+6*4) {
		t.Errorf("1000 connections with delay 1 step add %d bytes, want %d", d, 1000*22+11*4+1*(100*8+6*4))
	}
	// 10 steps of delay: 10 slots.
	if d := est(0, ", delay: 1.0") - base; d != 1000*22+11*4+10*(100*8+6*4) {
		t.Errorf("1000 connections with delay 10 steps add %d bytes, want %d", d, 1000*22+11*4+10*(100*8+6*4))
	}
	for _, delay := range []string{"0.1", "1.0", "7.5"} {
		m1, n1 := probeMemory(t, "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 1}\n  a: {model: ExpLIF, size: 50, params: {tau_syn: [2.0, 5.0]}}\nsynapses:\n  - {pre: g, post: a, conn: {rule: all_to_all}, delay: "+delay+", receptor: 1}\n")
		m0, n0 := probeMemory(t, "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 1}\n  a: {model: ExpLIF, size: 50, params: {tau_syn: [2.0, 5.0]}}\nsynapses:\n  - {pre: g, post: a, conn: {rule: all_to_all}, delay: 0.1, receptor: 1}\n")
		// The rings and their lists of written neurons (50/16 = 3 int32
		// per spike row: a 32nd of the row, rounded down).
		rows := func(n *models.Network) int64 {
			var r int64
			for _, x := range n.SpikeRows() {
				r += x
			}
			return r
		}
		if got, want := m1-m0, n1.RingBytes()-n0.RingBytes()+(rows(n1)-rows(n0))*3*4; got != want {
			t.Errorf("delay %s: Probe grows by %d bytes, RingBytes and the lists by %d", delay, got, want)
		}
	}
}

// Loading allocates each connection's CSR arrays once, at their final
// length and width: 2 bytes per static connection into a population of at
// most 65,536 (a uint16 target) when the entry has one weight, 10 with a
// weight per connection, 12 past 65,536 (an int32 target), plus offsets
// and rings, which is what Probe counts, not the 2-3x of growing them by
// append.
func TestLoadPeakMatchesEstimate(t *testing.T) {
	cases := []struct {
		name      string
		pre, post int // all_to_all: pre*post connections, one delay
		weight    string
		perConn   int64
	}{
		{"one weight", 2000, 2000, "1.0", 2},
		{"weights of their own", 2000, 2000, "{dist: uniform, low: 1.0, high: 2.0}", 10},
		{"int32 targets", 60, 1<<16 + 8, "{dist: uniform, low: 1.0, high: 2.0}", 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := fmt.Sprintf("version: 1\npopulations:\n  p: {model: LIF, size: %d}\n  a: {model: LIF, size: %d}\nsynapses:\n  - {pre: p, post: a, conn: {rule: all_to_all}, weight: %s}\n", c.pre, c.post, c.weight)
			probed, net := probeMemory(t, src)
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
			// Offsets, rings and the engine's states are small next to the
			// connections.
			want := conns * c.perConn
			t.Logf("%d connections: Load allocated %d bytes, %.2f per connection", conns, alloc, float64(alloc)/float64(conns))
			if alloc > want+want/10 {
				t.Errorf("Load allocated %d bytes for %d connections (%.2f each), want at most %d each plus 10%%", alloc, conns, float64(alloc)/float64(conns), c.perConn)
			}
			if spec := conns * 20; probed < spec+want {
				t.Errorf("Probe's memory %d is less than the network's %d and the engine's %d bytes of connections", probed, spec, want)
			}
			runtime.KeepAlive(e)
		})
	}
}
