package recording_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/recording"
)

// FuzzScanRecording feeds the recording decoder arbitrary bytes: it
// must never panic, its errors wrap recording.ErrRecording, segments it lists replay
// (or fail with an error) without panicking, and a segment that stops
// early says why. Each input is also read with its chunks' checksums
// made right (refreshed), so that mutations reach the msgp payloads
// rather than only the framing.
func FuzzScanRecording(f *testing.F) {
	// A recording of the demo, 20 ticks with a command at tick 5, so
	// that the seeds hold a command row too (testdata/v3, made by the
	// daemon before the format moved here).
	rec := read(f, "fuzzseed.rec")
	demoNetwork := read(f, "braitenberg.yaml")
	if segs, err := recording.Scan(bytes.NewReader(rec)); err != nil || segs[0].Commands != 1 {
		f.Fatalf("seed: %+v, %v; want one command row", segs, err)
	}
	f.Add(rec)
	f.Add(append(append([]byte(nil), rec...), rec...))
	f.Add(rec[:len(rec)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(data []byte) {
			segs, err := recording.Scan(bytes.NewReader(data))
			if err != nil && !errors.Is(err, recording.ErrRecording) {
				t.Fatalf("error does not wrap recording.ErrRecording: %v", err)
			}
			if len(segs) == 0 && err == nil {
				t.Fatal("no segments and no error")
			}
			if len(segs) > 0 && err != nil && !errors.Is(err, recording.ErrIncomplete) {
				t.Fatalf("segments and an error that is not recording.ErrIncomplete: %v", err)
			}
			for i, s := range segs {
				if s.Ticks < 0 || s.StepsPerTick < 1 || (s.Stop != "") == (err == nil) && s.Stop != "" {
					t.Fatalf("segment %d: %+v, %v", i, s, err)
				}
				if s.NetworkHash != recording.Hash(demoNetwork) || s.Steps() > 20_000 {
					continue
				}
				_, rerr := daemon.ReplaySegment(demoNetwork, "braitenberg.yaml", bytes.NewReader(data), i)
				if rerr != nil && s.Stop == "" && errors.Is(rerr, recording.ErrIncomplete) {
					t.Fatalf("segment %d is whole, its replay says %v", i, rerr)
				}
			}
		}
		check(data)
		if fixed, ok := refreshed(data); ok {
			check(fixed)
		}
	})
}

// refreshed is data with the checksums of its chunks made right, as far
// as its framing goes; false: there is no chunk to fix.
func refreshed(data []byte) ([]byte, bool) {
	out := append([]byte(nil), data...)
	fixed := false
	for off := 0; off+recording.ChunkHead <= len(out) && string(out[off:off+4]) == recording.ChunkMagic; {
		// Compared as uint32: int is 32 bits on arm, where a length of
		// 2^31 or more would be negative.
		n32 := binary.LittleEndian.Uint32(out[off+5:])
		if n32 > uint32(len(out)-off-recording.ChunkHead) {
			break
		}
		n := int(n32)
		copy(out[off:], recording.AppendChunk(nil, out[off+4], out[off+recording.ChunkHead:off+recording.ChunkHead+n])[:recording.ChunkHead])
		off += recording.ChunkHead + n
		fixed = true
	}
	return out, fixed
}
