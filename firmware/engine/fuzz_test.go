package engine

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// FuzzEngine: whatever image.Decode accepts, New accepts too (the
// engine's own checks refuse nothing valid), and the engine runs it
// without a panic: 30 steps with the host's inputs, Reset, the same 30
// steps again with the same checksums. Images needing more than 16 MB of
// run-time memory are skipped (NewWithin refuses them, as a chip with
// that much memory would). Seeded with the test vectors' images; run
// with
//
//	go test -run '^$' -fuzz FuzzEngine -fuzztime 5m ./firmware/engine/
func FuzzEngine(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.img"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(image.Encode(zoo()))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The body length and the CRC (firmware/README.md, "Header")
		// written again, so that mutations reach the fields behind them.
		if len(b) >= image.HeaderSize {
			b = append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(b[36:], uint32(len(b)-image.HeaderSize))
			c := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), b[:60])
			binary.LittleEndian.PutUint32(b[60:], crc32.Update(c, crc32.MakeTable(crc32.Castagnoli), b[image.HeaderSize:]))
		}
		img, err := image.Decode(b)
		if err != nil {
			return
		}
		const limit = 16 << 20
		e, err := NewWithin(img, limit)
		if err != nil {
			if RAM(img) > limit {
				return
			}
			t.Fatalf("Decode accepted the image, New refused it: %v", err)
		}
		run := func() []uint32 {
			var sums []uint32
			var sp []Spike
			var rows []Row
			var vals []int32
			for k := 0; k < 30; k++ {
				for p := range img.Pops {
					if img.Pops[p].Kind == image.KindInput {
						v := make([]int32, img.Pops[p].Size)
						for i := range v {
							v[i] = int32(k*7919+i*104729) % (4 * One)
						}
						if err := e.SetInput(p, v); err != nil {
							t.Fatal(err)
						}
					}
				}
				e.Step()
				sp = e.DrainSpikes(sp[:0])
				rows, vals = e.DrainRows(rows[:0], vals[:0])
				sums = append(sums, e.Checksum())
			}
			return sums
		}
		a := run()
		e.Reset()
		b2 := run()
		for i := range a {
			if a[i] != b2[i] {
				t.Fatalf("step %d: checksum %08x, after Reset %08x", i, a[i], b2[i])
			}
		}
		if e.Dropped() != 0 {
			t.Fatalf("%d records dropped while draining every step", e.Dropped())
		}
	})
}
