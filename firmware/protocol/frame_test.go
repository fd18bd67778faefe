package protocol

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCorruptFrameNeverDecodes is the rule that the host never acts on a
// frame whose CRC it did not check: every single-bit flip of every
// golden frame, and 20000 random corruptions of 1 to 8 bytes, are
// refused by Decode (no Frame, so no payload to unmarshal) and yield
// nothing from a Reader.
func TestCorruptFrameNeverDecodes(t *testing.T) {
	check := func(name string, bad []byte) {
		t.Helper()
		if f, n, err := Decode(bad); err == nil {
			t.Fatalf("%s: decoded as %v seq %d (%d bytes): % x", name, f.Type(), f.Seq(), n, bad)
		} else if f.Type() != 0 || f.Payload() != nil || n != 0 {
			t.Fatalf("%s: refused (%v) but returned a frame %v, %d bytes", name, err, f.Type(), n)
		}
		var r Reader
		r.Write(bad)
		for {
			f, err := r.Next()
			if err == ErrNeedMore {
				break
			}
			if err == nil {
				t.Fatalf("%s: Reader yielded %v seq %d from % x", name, f.Type(), f.Seq(), bad)
			}
		}
	}
	flips := 0
	for _, c := range goldenFrames() {
		for bit := 0; bit < 8*len(c.wire); bit++ {
			bad := bytes.Clone(c.wire)
			bad[bit/8] ^= 1 << (bit % 8)
			check(c.name, bad)
			flips++
		}
	}
	rng := rand.New(rand.NewPCG(15, 1))
	golden := goldenFrames()
	for i := 0; i < 20000; i++ {
		c := golden[rng.IntN(len(golden))]
		bad := bytes.Clone(c.wire)
		for k := 1 + rng.IntN(8); k > 0; k-- {
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
		}
		if bytes.Equal(bad, c.wire) {
			continue // two changes of one byte cancelled
		}
		check(c.name, bad)
	}
	t.Logf("%d single-bit flips and 20000 random corruptions refused", flips)
}

// TestDecodeChecks: the frame-level checks, each with its code.
func TestDecodeChecks(t *testing.T) {
	good := goldenFrames()[1].wire // hello_ok
	set := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	cases := []struct {
		name string
		b    []byte
		want Code
	}{
		{"empty", nil, CodeShort},
		{"one byte", good[:1], CodeShort},
		{"no sync", set(good, 0, 0x00), CodeSync},
		{"half sync", set(good, 1, 0xA5), CodeSync},
		{"header cut", good[:7], CodeShort},
		{"version 2", set(good, 2, 2), CodeVersion},
		{"length 4097", set(set(good, 6, 0x01), 7, 0x10), CodeTooLong},
		{"length 65535", set(set(good, 6, 0xff), 7, 0xff), CodeTooLong},
		{"crc cut", good[:len(good)-1], CodeShort},
		{"payload cut", good[:HeaderSize+3], CodeShort},
		{"crc wrong", set(good, len(good)-1, good[len(good)-1]^0x80), CodeCRC},
		{"seq changed", set(good, 4, 2), CodeCRC},
	}
	for _, c := range cases {
		_, _, err := Decode(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The version error names what was seen.
	_, _, err := Decode(set(good, 2, 7))
	var pe *Error
	if !errors.As(err, &pe) || pe.Value != 7 || !strings.Contains(err.Error(), "version 7, this side speaks 1") {
		t.Errorf("version error %v", err)
	}
	// Trailing bytes are not part of the frame.
	f, n, err := Decode(append(bytes.Clone(good), 1, 2, 3))
	if err != nil || n != len(good) || f.Type() != TypeHelloOK {
		t.Errorf("with trailing bytes: %v, %d, %v", f.Type(), n, err)
	}
	// An unknown type with a good CRC decodes: the chip answers it with a
	// NAK (CodeType) that echoes the sequence number; no payload type
	// accepts it.
	raw, _ := AppendFrame(nil, 0x42, 9, []byte{1})
	f, _, err = Decode(raw)
	if err != nil || f.Type() != 0x42 || f.Type().Known() || f.Seq() != 9 || f.Type().String() != "type 66" {
		t.Errorf("unknown type: %v %v", f.Type(), err)
	}
	for _, ty := range allTypes {
		if err := newPayload(ty).Unmarshal(f); !errors.Is(err, CodeType) {
			t.Errorf("%v.Unmarshal of type 0x42: %v", ty, err)
		}
	}
	if err := new(Run).Unmarshal(Frame{}); !errors.Is(err, CodeType) {
		t.Errorf("Unmarshal of the zero Frame: %v", err)
	}
}

// TestPayloadBound: a payload over MaxPayload is refused by both
// encoders, which leave dst as it was; exactly MaxPayload passes.
func TestPayloadBound(t *testing.T) {
	dst := []byte{7}
	out, err := AppendFrame(dst, TypeImageChunk, 1, make([]byte, MaxPayload+1))
	if !errors.Is(err, CodeTooLong) || !bytes.Equal(out, dst) {
		t.Errorf("AppendFrame of %d bytes: %v, %d bytes out", MaxPayload+1, err, len(out))
	}
	chunk := &ImageChunk{Offset: 0, Data: make([]byte, MaxPayload-3)}
	out, err = Append(dst, 1, chunk)
	if !errors.Is(err, CodeTooLong) || !bytes.Equal(out, dst) ||
		err.Error() != "protocol: IMAGE_CHUNK payload: length: frame too long: payload of 4097 bytes, at most 4096" {
		t.Errorf("Append of a %d-byte chunk: %v, %d bytes out", len(chunk.Data), err, len(out))
	}
	chunk.Data = chunk.Data[:MaxPayload-4]
	out, err = Append(nil, 1, chunk)
	if err != nil || len(out) != MaxFrame {
		t.Fatalf("Append of a full chunk: %v, %d bytes", err, len(out))
	}
	f, _, err := Decode(out)
	var got ImageChunk
	if err != nil || got.Unmarshal(f) != nil || len(got.Data) != MaxPayload-4 {
		t.Errorf("full frame: %v", err)
	}
}

// TestReaderResync: frames between garbage (random bytes, idle-bus 0x00
// and 0xFF, false sync pairs, a corrupted frame, a truncated one) come
// out in order, whatever the sizes of the writes; the bad frames are
// reported, the garbage counted.
func TestReaderResync(t *testing.T) {
	golden := goldenFrames()
	rng := rand.New(rand.NewPCG(15, 2))
	for trial := 0; trial < 200; trial++ {
		var stream []byte
		var want []string
		for i := 0; i < 12; i++ {
			switch rng.IntN(6) {
			case 0:
				for k := rng.IntN(40); k > 0; k-- {
					stream = append(stream, byte(rng.Uint32()))
				}
			case 1:
				stream = append(stream, 0x00, 0x00, 0xff, 0xff, 0xA5)
			case 2:
				stream = append(stream, Sync0, Sync1, Version, 0x05, 0, 0, 0x10, 0) // a header whose frame never comes
			case 3:
				bad := bytes.Clone(golden[rng.IntN(len(golden))].wire)
				bad[HeaderSize+rng.IntN(len(bad)-HeaderSize)] ^= 0x10
				stream = append(stream, bad...)
			case 4:
				c := golden[rng.IntN(len(golden))]
				stream = append(stream, c.wire[:1+rng.IntN(len(c.wire)-1)]...)
			}
			c := golden[rng.IntN(len(golden))]
			stream = append(stream, c.wire...)
			want = append(want, c.name)
		}
		var got []string
		var r Reader
		rest := stream
		for {
			n := r.Write(rest[:min(len(rest), 1+rng.IntN(3*MaxFrame/2))])
			rest = rest[n:]
			f, err := r.Next()
			switch {
			case err == nil:
				got = append(got, nameOf(golden, f))
			case err == ErrNeedMore && len(rest) == 0:
				// The stream ended: what waits for more bytes is a
				// frame whose length was cut or corrupted; a host gives
				// it up when its response is overdue.
				r.Drop()
			}
			if len(rest) == 0 && r.Buffered() == 0 {
				break
			}
		}
		// A frame behind a truncated one or a header that never
		// completes is held only until that one's CRC fails (or it is
		// dropped): every golden frame comes out, in order.
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("trial %d: got\n%v\nwant\n%v", trial, got, want)
		}
	}
}

// nameOf is the name of the golden frame f is (by its bytes).
func nameOf(golden []goldenFrame, f Frame) string {
	raw, _ := AppendFrame(nil, f.Type(), f.Seq(), f.Payload())
	for _, c := range golden {
		if bytes.Equal(raw, c.wire) {
			return c.name
		}
	}
	return "unknown"
}

// TestReaderBuffer: a Reader takes at most MaxFrame bytes, and a full
// buffer always lets Next make progress (a frame, or a dropped byte).
func TestReaderBuffer(t *testing.T) {
	var r Reader
	junk := bytes.Repeat([]byte{Sync0, Sync1, Version, 1, 0, 0, 0xff, 0x0f}, MaxFrame) // length 4095 headers, bad CRCs
	n := r.Write(junk)
	if n != MaxFrame || r.Buffered() != MaxFrame {
		t.Fatalf("wrote %d, buffered %d", n, r.Buffered())
	}
	junk = junk[n:]
	bad := 0
	for i := 0; i < 10*MaxFrame; i++ {
		_, err := r.Next()
		if err == ErrNeedMore {
			if len(junk) == 0 {
				break
			}
			w := r.Write(junk)
			if w == 0 {
				t.Fatalf("buffer full (%d bytes) and Next needs more", r.Buffered())
			}
			junk = junk[w:]
			continue
		}
		if err == nil {
			t.Fatal("a frame out of junk")
		}
		bad++
	}
	if bad == 0 || r.Skipped == 0 {
		t.Errorf("%d bad frames, %d skipped", bad, r.Skipped)
	}
	r.Reset()
	if r.Buffered() != 0 {
		t.Errorf("after Reset %d buffered", r.Buffered())
	}
}
