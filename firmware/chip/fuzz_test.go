package chip

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// seedFrames are valid requests of every type for testImage(3), with
// sequence numbers 1, 2, ...
func seedFrames() [][]byte {
	img := testImage(3)
	enc := image.Encode(img)
	sum := image.Hash(enc)
	ps := []protocol.Payload{
		&protocol.Hello{},
		&protocol.Status{},
		&protocol.Reset{},
		&protocol.Run{Steps: 5, Feeds: []protocol.Feed{{Pop: popInput, Hold: true, Size: 2, Values: []int32{engine.One, 0}}}},
		&protocol.Run{Steps: 2, Feeds: []protocol.Feed{{Pop: popInput, Size: 2, Values: []int32{engine.One, 0, 0, engine.One}}}},
		&protocol.Read{What: protocol.ReadSpikes},
		&protocol.Read{What: protocol.ReadCounters, Index: 1},
		&protocol.Read{What: protocol.ReadTrace, Count: 3},
		&protocol.Read{What: protocol.ReadState, Pop: popLIF, First: 1},
		&protocol.Set{Pop: popDC, Op: protocol.SetUnit, Row: image.DCAmp, Values: []int32{q(10)}},
		&protocol.Set{Pop: popLIF, Op: protocol.SetUnit, Row: image.LIFIe, First: 0, Values: []int32{1, 2}},
		&protocol.Set{Pop: popCustom, Op: protocol.SetRows, Width: 1, Values: []int32{engine.One, 0}},
		&protocol.ImageBegin{Size: uint32(len(enc)), SHA256: sum},
		&protocol.ImageChunk{Offset: 0, Data: enc[:100]},
		&protocol.ImageCommit{SHA256: sum},
	}
	var out [][]byte
	for i, p := range ps {
		b, _ := protocol.Append(nil, uint16(i+1), p)
		out = append(out, b)
	}
	return out
}

// fuzzChip is a chip with testImage(3) loaded and run a little.
func fuzzChip(t testing.TB) *Chip {
	h := newHost(t, Config{MaxPayload: 1024, Spikes: 64, Values: 256})
	h.load(testImage(3), 1000)
	h.runOK(h.send(&protocol.Run{Steps: 30}))
	return h.c
}

// checkHandle: any bytes get exactly one response frame that decodes,
// with the request's sequence number or 0, a NAK with a known code;
// and the same bytes handed again get the same response without running
// anything (a repeat, or the same refusal).
func checkHandle(t testing.TB, c *Chip, b []byte) {
	rsp := c.Handle(b, nil)
	f, n, err := protocol.Decode(rsp)
	if err != nil || n != len(rsp) {
		t.Fatalf("request %x: response %x: %v (%d of %d bytes)", b, rsp, err, n, len(rsp))
	}
	if !f.Type().Known() || f.Type().IsRequest() {
		t.Fatalf("request %x: response type %s", b, f.Type())
	}
	var nk protocol.Nak
	if f.Type() == protocol.TypeNak {
		if err := nk.Unmarshal(f); err != nil || nk.Code < protocol.CodeCRC || nk.Code > protocol.CodeInternal {
			t.Fatalf("request %x: NAK %+v %v", b, nk, err)
		}
		if nk.Code == protocol.CodeInternal {
			t.Fatalf("request %x: internal error %s", b, nk.Text)
		}
	}
	// A frame longer than the chip's payload is dropped like one that
	// fails the protocol's checks: sequence 0.
	dropped := f.Type() == protocol.TypeNak && nk.Code <= protocol.CodeShort
	if rf, _, err := protocol.Decode(b); err == nil && !dropped && f.Seq() != rf.Seq() {
		t.Fatalf("request seq %d, response seq %d", rf.Seq(), f.Seq())
	} else if err != nil && f.Seq() != 0 {
		t.Fatalf("a dropped frame answered with seq %d", f.Seq())
	}
	now := c.Now()
	again := c.Handle(b, nil)
	if !bytes.Equal(again, rsp) || c.Now() != now {
		t.Fatalf("request %x handed twice: %x then %x, now %d then %d", b, rsp, again, now, c.Now())
	}
}

// TestRandomFrames: 20 000 corruptions (bit flips, byte changes, cuts,
// insertions) of valid requests of every type, each with a fresh
// sequence number patched in and the CRC fixed half of the time (so the
// payload decoders see the damage), through checkHandle.
func TestRandomFrames(t *testing.T) {
	seeds := seedFrames()
	rng := rand.New(rand.NewPCG(5, 6))
	c := fuzzChip(t)
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
		for k := rng.IntN(3) + 1; k > 0; k-- {
			switch rng.IntN(4) {
			case 0:
				j := rng.IntN(8 * len(b))
				b[j/8] ^= 1 << (j % 8)
			case 1:
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			case 2:
				b = b[:rng.IntN(len(b))+1]
			case 3:
				j := rng.IntN(len(b))
				b = append(b[:j], append([]byte{byte(rng.Uint32())}, b[j:]...)...)
			}
		}
		if len(b) >= protocol.Overhead && rng.IntN(2) == 0 {
			// A new sequence number and a good CRC over whatever is there.
			if f, err := refit(b, uint16(1000+i)); err == nil {
				b = f
			}
		}
		checkHandle(t, c, b)
		if i%2000 == 0 {
			c = fuzzChip(t)
		}
	}
}

// refit rewrites b as a frame with b's type and payload bytes (as many
// as follow the header, bounded), sequence seq and a good CRC.
func refit(b []byte, seq uint16) ([]byte, error) {
	n := len(b) - protocol.Overhead
	if n > protocol.MaxPayload {
		n = protocol.MaxPayload
	}
	return protocol.AppendFrame(nil, protocol.Type(b[3]), seq, b[protocol.HeaderSize:protocol.HeaderSize+n])
}

// FuzzHandle runs checkHandle on arbitrary bytes (and on them as a
// frame with a good CRC):
//
//	go test -run '^$' -fuzz FuzzHandle -fuzztime 5m ./firmware/chip/
func FuzzHandle(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := fuzzChip(t)
		checkHandle(t, c, b)
		if len(b) >= protocol.Overhead {
			if g, err := refit(b, 60000); err == nil {
				checkHandle(t, c, g)
			}
		}
	})
}
