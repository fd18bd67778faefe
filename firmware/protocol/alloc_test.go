package protocol

import (
	"testing"
)

// TestZeroAllocs: with the caller's buffer and payload structs kept
// (as a host backend and the chip keep theirs), encoding, decoding,
// unmarshalling and the Reader allocate nothing, for every frame type.
func TestZeroAllocs(t *testing.T) {
	for _, c := range goldenFrames() {
		buf := make([]byte, 0, MaxFrame)
		dst := c.zero()
		var r Reader
		if err := dst.Unmarshal(mustDecode(t, c.wire)); err != nil { // grows dst's slices once
			t.Fatal(err)
		}
		a := testing.AllocsPerRun(100, func() {
			var err error
			buf, err = Append(buf[:0], c.seq, c.msg)
			if err != nil {
				t.Fatal(err)
			}
			f, _, err := Decode(buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := dst.Unmarshal(f); err != nil {
				t.Fatal(err)
			}
			r.Write(buf)
			if f, err = r.Next(); err != nil || f.Type() != c.msg.Type() {
				t.Fatal(err)
			}
			if err := dst.Unmarshal(f); err != nil {
				t.Fatal(err)
			}
		})
		if a != 0 {
			t.Errorf("%s: %v allocations per encode+decode", c.name, a)
		}
	}
	// The frame-level refusals a noisy link causes allocate nothing
	// either (their errors are Code values).
	bad := append([]byte(nil), goldenFrames()[0].wire...)
	bad[len(bad)-1] ^= 1
	var r Reader
	if a := testing.AllocsPerRun(100, func() {
		if _, _, err := Decode(bad); err != CodeCRC {
			t.Fatal(err)
		}
		r.Write(bad)
		for {
			if _, err := r.Next(); err == ErrNeedMore {
				break
			}
		}
	}); a != 0 {
		t.Errorf("a CRC error: %v allocations", a)
	}
}

func mustDecode(t testing.TB, b []byte) Frame {
	t.Helper()
	f, _, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// demoTick is the demo's tick (10 steps of 0.1 ms, two held light
// inputs) and a RUN_OK carrying n spikes.
func demoTick(n int) (*Run, *RunOK) {
	run := &Run{Steps: 10, Feeds: []Feed{
		{Pop: 0, Hold: true, Size: 1, Values: []int32{q(1000)}},
		{Pop: 1, Hold: true, Size: 1, Values: []int32{q(250)}},
	}}
	ok := &RunOK{Now: 10, Spikes: SpikeList{Base: 1}}
	for i := 0; i < n; i++ {
		ok.Spikes.Spikes = append(ok.Spikes.Spikes, Spike{Off: uint16(i), Pop: 3 + uint16(i%2), Unit: uint32(i % 5)})
	}
	return run, ok
}

// TestDemoTickSizes: the frame sizes of the demo's tick that
// firmware/README.md gives (RUN 38 bytes, 110 without holding; RUN_OK
// 38 + 8 per spike).
func TestDemoTickSizes(t *testing.T) {
	for _, n := range []int{0, 2, 10} {
		run, ok := demoTick(n)
		a, _ := Append(nil, 1, run)
		b, _ := Append(nil, 1, ok)
		if len(a) != 38 || len(b) != 38+8*n {
			t.Errorf("%d spikes: RUN %d bytes, RUN_OK %d", n, len(a), len(b))
		}
		t.Logf("demo tick, %d spikes: RUN %d bytes, RUN_OK %d bytes, %d in all", n, len(a), len(b), len(a)+len(b))
	}
	// Without holding, a row per step: 110 bytes.
	run, _ := demoTick(0)
	for i := range run.Feeds {
		run.Feeds[i].Hold = false
		run.Feeds[i].Values = make([]int32, 10)
	}
	if a, _ := Append(nil, 1, run); len(a) != 110 {
		t.Errorf("RUN with a row per step: %d bytes", len(a))
	}
}

// BenchmarkDemoTick: one tick of the demo through the protocol, both
// ends: the host encodes RUN, the chip's Reader finds it and decodes
// it, the chip encodes RUN_OK with 4 spikes, the host's Reader finds and
// decodes it.
func BenchmarkDemoTick(b *testing.B) {
	run, ok := demoTick(4)
	var hostRun, chipRun Run
	var hostOK RunOK
	hostRun = *run
	var chipR, hostR Reader
	req := make([]byte, 0, MaxFrame)
	resp := make([]byte, 0, MaxFrame)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req, _ = Append(req[:0], uint16(i), &hostRun)
		chipR.Write(req)
		f, err := chipR.Next()
		if err != nil || chipRun.Unmarshal(f) != nil {
			b.Fatal(err)
		}
		resp, _ = Append(resp[:0], f.Seq(), ok)
		hostR.Write(resp)
		g, err := hostR.Next()
		if err != nil || hostOK.Unmarshal(g) != nil || g.Seq() != uint16(i) {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageChunk: a full 4092-byte image chunk encoded and decoded
// (the CRC over 4 KiB dominates).
func BenchmarkImageChunk(b *testing.B) {
	chunk := &ImageChunk{Data: make([]byte, MaxPayload-4)}
	var got ImageChunk
	buf := make([]byte, 0, MaxFrame)
	b.SetBytes(MaxFrame)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = Append(buf[:0], 1, chunk)
		f, _, err := Decode(buf)
		if err != nil || got.Unmarshal(f) != nil {
			b.Fatal(err)
		}
	}
}
