package daemon

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu/cpu"
)

// bigDemo is the demo with two more populations of n LIF units joined
// all to all (n*n connections the loop carries along, unused).
func bigDemo(t *testing.T, n int) *Config {
	t.Helper()
	net := strings.Replace(string(demoNetwork), "\npopulations:\n", `
populations:
  bulk_a:
    model: LIF
    size: `+strconv.Itoa(n)+`
    params: {V_th: -55.0, V_reset: -70.0, tau: 10.0, R: 0.04, tau_ref: 2.0}
  bulk_b:
    model: LIF
    size: `+strconv.Itoa(n)+`
    params: {V_th: -55.0, V_reset: -70.0, tau: 10.0, R: 0.04, tau_ref: 2.0}
`, 1)
	net = strings.Replace(net, "\nsynapses:\n", `
synapses:
  - pre: bulk_a
    post: bulk_b
    conn: {rule: all_to_all}
    weight: 0.001
`, 1)
	cfg, err := Parse([]byte(quietDemoText()), "demo.yaml", []byte(net))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// liveHeapNow collects garbage and returns the bytes of live objects.
func liveHeapNow() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestServeHoldsOneNetwork: under Serve, before and after a reload, the
// daemon holds one built network and engine, not a second copy for the
// fall-back or the reload's dry run (heap measured after a collection,
// on the loop's goroutine at a fixed tick: no wall clock involved).
func TestServeHoldsOneNetwork(t *testing.T) {
	const n = 1000 // 1 M connections, about 32 MB with the engine's
	base := liveHeapNow()
	cfg := bigDemo(t, n)
	nop := zerolog.Nop()
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: &nop})
	if err != nil {
		t.Fatal(err)
	}
	one := liveHeapNow() - base
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, cfg = nil, nil
	base = liveHeapNow()
	pr, err := probe(cpu.Name, bigDemo(t, n).net)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one run of the network: %.1f MB live (the backend's Probe: %.1f MB)", float64(one)/1e6, float64(pr.Memory)/1e6)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{}, 1)
	var runs, loads atomic.Int32
	var during [2]int64
	opts := Options{Clock: &FakeClock{}, Logger: &nop, SummaryEvery: -1, AfterTick: func(d *Daemon, k int64) {
		if k == 0 {
			runs.Add(1)
		}
		if k != 2000 {
			return
		}
		r := runs.Load()
		during[r-1] = liveHeapNow() - base
		if r == 1 {
			reload <- struct{}{}
		} else {
			cancel()
		}
	}}
	err = Serve(ctx, bigDemo(t, n), opts, reload, func() (*Config, error) {
		loads.Add(1)
		return bigDemo(t, n), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 || loads.Load() != 1 {
		t.Fatalf("%d runs, %d loads; want 2 and 1", runs.Load(), loads.Load())
	}
	for i, h := range during {
		t.Logf("run %d under Serve: %.1f MB live", i+1, float64(h)/1e6)
		if h > one+one/5 {
			t.Errorf("run %d under Serve holds %.1f MB, more than one run's %.1f MB + 20%%: a second copy of the network is kept", i+1, float64(h)/1e6, float64(one)/1e6)
		}
	}
}

// TestReloadRefusedByMemory: a reload whose network's estimate is more
// than the system's available memory is refused before its engine is
// built, naming both, and the running loop goes on.
func TestReloadRefusedByMemory(t *testing.T) {
	const avail = 1 << 20
	runs, logs, err := serveReloadsWith(t, 1, Options{memAvailable: func() int64 { return avail }},
		func(int32) (*Config, error) { return bigDemo(t, 300), nil })
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || !strings.Contains(logs, "reload: the new config cannot start; keeping the running one") ||
		!strings.Contains(logs, "the system has 1.0 MiB available; refused before building it") {
		t.Errorf("%d runs, want 1 (the reload refused for memory); log:\n%s", runs, logs)
	}
}

// TestNetworkFileTooLarge: a network file over MaxFileBytes is refused
// by its size, naming the limit, without reading all of it.
func TestNetworkFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "huge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 1 GB on the file system's books, nothing on disk.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	text := strings.Replace(quietDemoText(), "network: braitenberg.yaml", "network: huge.yaml", 1)
	if text == quietDemoText() {
		t.Fatal("the demo's network line changed; update the test")
	}
	before := liveHeapNow()
	var ms runtime.MemStats
	_, err = Parse([]byte(text), filepath.Join(dir, "spikeloop.yaml"), nil)
	runtime.ReadMemStats(&ms)
	if err == nil || !strings.Contains(err.Error(), "more than 67108864 bytes, the limit (MaxFileBytes); refused before reading it") {
		t.Fatalf("err = %v; want the size limit named", err)
	}
	if grew := int64(ms.HeapAlloc) - before; grew > 1<<20 {
		t.Errorf("the heap grew by %d MB refusing a 1 GB file", grew>>20)
	}
}

// TestConfigFileTooLarge: a config file over MaxConfigBytes is refused
// by its size, naming the limit, without reading it.
func TestConfigFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spikeloop.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: nothing on disk
		t.Fatal(err)
	}
	f.Close()
	before := liveHeapNow()
	var ms runtime.MemStats
	_, err = LoadConfig(path)
	runtime.ReadMemStats(&ms)
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes (MaxConfigBytes)") {
		t.Fatalf("err = %v; want the size limit named", err)
	}
	if grew := int64(ms.HeapAlloc) - before; grew > 1<<20 {
		t.Errorf("the heap grew by %d MB refusing a 1 GB config", grew>>20)
	}
	if _, err := Parse(make([]byte, MaxConfigBytes+1), "big.yaml", nil); err == nil || !strings.Contains(err.Error(), "MaxConfigBytes") {
		t.Errorf("Parse of %d bytes: %v; want the size limit named", MaxConfigBytes+1, err)
	}
}
