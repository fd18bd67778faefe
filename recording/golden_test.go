package recording_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/recording"
)

// The tests replay on the cpu engine, registered as cmd/spikeloop
// registers it.
func init() {
	apu.Register(cpu.Name, cpu.Open)
}

// The recordings in testdata/v3 were made by the daemon before the
// format moved into this package (commit 5efe8ba): the demo (current
// encoders) and its rate-encoder variant for 1000 ticks, and the demo for
// 300 ticks with a command at tick 5 (a command row); each beside the
// spikes the live run recorded (population, neuron, stamp) and, for the
// first two, the config that made it. fuzzseed.rec (20 ticks, a command
// at tick 5) seeds FuzzScanRecording.
type golden struct {
	name, net string
	ticks     int64
	commands  int64
}

var goldens = []golden{
	{"current", "braitenberg.yaml", 1000, 0},
	{"rate", "braitenberg-rate.yaml", 1000, 0},
	{"commands", "braitenberg.yaml", 300, 1},
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v3", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spikesCSV(spikes []apu.Spike) string {
	var sb strings.Builder
	for _, s := range spikes {
		fmt.Fprintf(&sb, "%d,%d,%d\n", s.Pop, s.Neuron, s.Stamp)
	}
	return sb.String()
}

// TestGoldenRecordingsReplay: recordings written before this package
// existed still scan as they did and replay the live run's spikes, bit
// for bit.
func TestGoldenRecordingsReplay(t *testing.T) {
	for _, g := range goldens {
		rec, net := read(t, g.name+".rec"), read(t, g.net)
		segs, err := recording.Scan(bytes.NewReader(rec))
		if err != nil || len(segs) != 1 || segs[0].Ticks != g.ticks || !segs[0].Complete || segs[0].Commands != g.commands ||
			segs[0].Backend != "cpu" || segs[0].NetworkHash != recording.Hash(net) || strings.Join(segs[0].Inputs, ",") != "left_eye,right_eye" {
			t.Fatalf("%s: %+v, %v", g.name, segs, err)
		}
		spikes, err := daemon.Replay(net, "braitenberg.yaml", bytes.NewReader(rec))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		want := string(read(t, g.name+".spikes.csv"))
		if len(spikes) == 0 || spikesCSV(spikes) != want {
			t.Errorf("%s: replay gives %d spikes, not the live run's %d", g.name, len(spikes), strings.Count(want, "\n"))
		}
	}
}

// unframed is a recording's content without its chunk boundaries (which
// depend on when the writer polled): each header and end chunk's payload,
// and the rows payloads between them joined.
func unframed(t *testing.T, rec []byte) [][]byte {
	t.Helper()
	kinds, payloads, err := recording.ReadChunks(rec)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, k := range kinds {
		if k == 'R' && i > 0 && kinds[i-1] == 'R' {
			out[len(out)-1] = append(out[len(out)-1], payloads[i]...)
			continue
		}
		out = append(out, append([]byte{k}, payloads[i]...))
	}
	return out
}

// TestGoldenRecordingsBytes: the daemon, given the config and network
// of a golden recording, writes the same bytes again (header, rows, end),
// up to where the writer cut the rows into chunks.
func TestGoldenRecordingsBytes(t *testing.T) {
	for _, g := range goldens[:2] {
		net := read(t, g.net)
		cfg, err := daemon.Parse(read(t, g.name+".config.yaml"), "demo.yaml", net)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		quiet := zerolog.Nop()
		d, err := daemon.New(cfg, daemon.Options{Clock: &daemon.FakeClock{}, Logger: &quiet, Ticks: g.ticks, SummaryEvery: -1, Record: &buf})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		d.Close()
		got, want := unframed(t, buf.Bytes()), unframed(t, read(t, g.name+".rec"))
		if len(got) != len(want) || len(got) != 3 {
			t.Fatalf("%s: %d parts (header, rows, end), the golden has %d", g.name, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: chunk kind %q differs from the golden recording's (%d bytes, golden %d)", g.name, got[i][0], len(got[i]), len(want[i]))
			}
		}
	}
}
