package image

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestGoldenBytes writes a small image field by field as
// firmware/README.md's tables give them, independently of Encode, and
// asserts that Encode produces exactly these bytes and Decode reads
// them back: a change of the layout fails here, and a port in another
// language can check its encoder against the same bytes.
func TestGoldenBytes(t *testing.T) {
	img, w := goldenImage(), goldenBytes()
	got := Encode(img)
	if !bytes.Equal(got, w) {
		t.Fatalf("Encode:\n%s\nwant:\n%s", hex.Dump(got), hex.Dump(w))
	}
	back, err := Decode(w)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Encode(back), w) {
		t.Fatal("Decode then Encode changed the bytes")
	}
	if len(w) != 64+2*68+5*2+4*2+4*(1+2)*2+28+4*2+4*2+2*2+2*2+20+1+4 {
		t.Errorf("length %d", len(w))
	}
}

// goldenImage is the image of README's example.
func goldenImage() *Image {
	return &Image{
		Version: 1, DtPicos: 100_000_000, Seed: 42,
		Pops: []Pop{
			{Kind: KindLIF, Flags: FlagSoftReset, Ports: 1, Size: 2, RefSteps: 20,
				Coefs:  []Coef{{M: 0x7FF00000, Shift: 31}, {M: 1234, Shift: 40}},
				Consts: []int32{15 << 16, 15 << 16},
				Unit:   [][]int32{{0, 65536}, {-1, 2}}},
			{Kind: KindInput, Flags: FlagBinary, Size: 1},
		},
		Synapses: []Synapse{{Pre: 1, Post: 0, Port: 0, Shift: 3, Off: []uint32{0, 2}, Target: []uint32{1, 0}, Weight: []int16{-2, 300}, Delay: []uint16{1, 10}}},
		Monitors: []Monitor{{Pop: 0, Spikes: true, States: []uint8{0}, Units: []uint32{1}, Every: 5}},
	}
}

// goldenBytes is goldenImage written by hand from README's tables.
func goldenBytes() []byte {
	var w []byte
	le := binary.LittleEndian
	u8 := func(v ...uint8) {
		w = append(w, v...)
	}
	u16 := func(v uint16) { w = le.AppendUint16(w, v) }
	u32 := func(v ...uint32) {
		for _, x := range v {
			w = le.AppendUint32(w, x)
		}
	}
	u64 := func(v uint64) { w = le.AppendUint64(w, v) }

	// header
	u8('S', 'L', 'P', 'I')
	u16(1)           // version
	u16(0)           // flags
	u64(100_000_000) // dt_picos
	u64(42)          // seed
	u32(2, 1, 1)     // pops, synapses, monitors
	bodyAt := len(w)
	u32(0)    // body_length, set below
	u64(3)    // units
	u64(2)    // connections
	u32(0, 0) // reserved, crc (set below)
	// population 0: LIF
	u8(1, 1, 1, 0)           // kind, flags (soft reset), ports, reserved
	u32(2, 20, 0)            // size, ref_steps, row_width
	u64(0)                   // win_first
	u64(0)                   // win_end
	u64(0)                   // k0
	u32(2, 2, 2, 0, 0, 0, 0) // n_coefs, n_consts, n_unit, n_spike_off, n_spike_step, n_spike_val, n_rows
	u32(0x7FF00000)          // coef 0: M
	u8(31)                   //         shift
	u32(1234)                // coef 1: M
	u8(40)                   //         shift
	u32(15<<16, 15<<16)      // consts: Th, Reset
	u32(2, 0, 65536)         // unit row I_e: count, values
	u32(2, 0xFFFFFFFF, 2)    // unit row y0
	u8(21, 2, 0, 0)          // population 1: Input, flags (binary), ports, reserved
	u32(1, 0, 0)             // size, ref_steps, row_width
	u64(0)                   // win_first
	u64(0)                   // win_end
	u64(0)                   // k0
	u32(0, 0, 0, 0, 0, 0, 0) // no arrays
	u32(1, 0)                // synapse entry 0: pre, post
	u8(0, 3)                 // port, shift
	u16(0)                   // reserved
	u32(2, 2, 2, 2)          // n_off, n_target, n_weight, n_delay
	u32(0, 2)                // off
	u32(1, 0)                // target
	u16(0xFFFE)              // weight -2
	u16(300)                 // weight 300
	u16(1)                   // delay
	u16(10)                  // delay
	u32(0)                   // monitor 0: pop
	u8(1, 0)                 // spikes, reserved
	u16(0)                   // reserved
	u32(5, 1, 1)             // every, n_states, n_units
	u8(0)                    // states
	u32(1)                   // units
	le.PutUint32(w[bodyAt:], uint32(len(w)-64))
	crc := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), w[:60])
	le.PutUint32(w[60:], crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), w[64:]))

	return w
}

// TestGoldenListing: firmware/README.md's example listing is
// goldenBytes.
func TestGoldenListing(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- golden image")
	if !ok {
		t.Fatal("README has no golden image listing")
	}
	_, after, _ = strings.Cut(after, "```\n")
	listing, _, _ := strings.Cut(after, "```")
	var b []byte
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		off, bytesHex, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("listing line %q", line)
		}
		if o, err := strconv.ParseUint(off, 16, 32); err != nil || int(o) != len(b) {
			t.Fatalf("listing line %q: offset, want %04x", line, len(b))
		}
		for _, h := range strings.Fields(bytesHex) {
			v, err := strconv.ParseUint(h, 16, 8)
			if err != nil {
				t.Fatalf("listing line %q: %v", line, err)
			}
			b = append(b, byte(v))
		}
	}
	if want := goldenBytes(); !bytes.Equal(b, want) {
		t.Errorf("README's listing (%d bytes) is not the golden image (%d bytes):\n%s", len(b), len(want), hex.Dump(want))
	}
}
