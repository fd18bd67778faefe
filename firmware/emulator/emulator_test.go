package emulator

import (
	"bytes"
	"encoding/hex"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/protocol"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// withCRC appends the CRC-32C of b[2:] to b, as firmware/README.md's
// frame layout says (computed here with hash/crc32, not the protocol
// package).
func withCRC(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	c := crc32.Checksum(b[2:], crc32.MakeTable(crc32.Castagnoli))
	return append(b, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
}

// TestGoldenHello: HELLO and its HELLO_OK byte by byte across the
// emulated wire, and the handshake's lines and idle bytes.
func TestGoldenHello(t *testing.T) {
	b := newBus(t, Config{Chip: chip.Config{Memory: 1 << 20, BootCount: 7}}, 10*physic.MegaHertz)
	if b.ready.Read() != gpio.High {
		t.Fatal("data-ready low before any request")
	}
	if got := b.read(4); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("a read with no response gives %x, want zeros", got)
	}
	req := withCRC(t, "a55a 01 01 0100 0000")
	want := withCRC(t, "a55a 01 81 0100 1900"+
		"01"+ // protocol version
		"00000100"+ // firmware 1.0.0
		"0100"+ // image format 1
		"3e003f0000000000"+ // kinds 1..5, 16..21
		"00001000"+ // memory 1 MiB
		"07000000"+ // boot counter
		"0010") // max payload 4096
	b.write(req)
	if b.ready.Read() != gpio.Low || b.ready.Edges() != 1 {
		t.Fatalf("data-ready %v after %d falling edges; want low after 1", b.ready.Read(), b.ready.Edges())
	}
	// Header first: data-ready stays low until the whole frame is read.
	if h := b.read(8); !bytes.Equal(h, want[:8]) {
		t.Fatalf("header %x, want %x", h, want[:8])
	}
	if b.ready.Read() != gpio.Low {
		t.Fatal("data-ready rose after a partial read")
	}
	got := b.read(len(want) + 3)
	if !bytes.Equal(got[:len(want)], want) || !bytes.Equal(got[len(want):], []byte{0, 0, 0}) {
		t.Fatalf("HELLO_OK\n got %x\nwant %x000000", got, want)
	}
	if b.ready.Read() != gpio.High {
		t.Fatal("data-ready low after the whole response was read")
	}
	// Read again: the same response, until the next request.
	if again := b.read(len(want)); !bytes.Equal(again, want) {
		t.Fatalf("re-read %x", again)
	}
	// During the next write MISO carries the old response (the host
	// ignores it).
	b.write(withCRC(t, "a55a 01 09 0200 0000"))
	if !bytes.Equal(b.misoW, want[:len(b.misoW)]) {
		t.Fatalf("MISO during a write %x", b.misoW)
	}
	st := b.emu.Stats()
	if st.Writes != 2 || st.Reads != 4 || st.Requests != 2 || st.Responses != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestRunAcrossTheWire: an image loaded in chunks and 200 ticks of RUN
// through the bit-serial port give the engine's spikes bit for bit, and
// each RUN_OK's bytes are the frame protocol.Append makes of them.
func TestRunAcrossTheWire(t *testing.T) {
	b := newBus(t, Config{}, 20*physic.MegaHertz)
	b.load(testImage())
	want := engineSpikes(t, 200)
	var got []engine.Spike
	for k := 0; k < 200; k++ {
		f := b.send(runFeed(k))
		ok := mustRunOK(t, f)
		if ok.Now != int64(10*(k+1)) {
			t.Fatalf("tick %d: now %d", k, ok.Now)
		}
		re, _ := protocol.Append(nil, b.seq, &ok)
		if !bytes.Equal(re, b.rsp[:len(re)]) {
			t.Fatalf("tick %d: RUN_OK bytes %x, want %x", k, b.rsp, re)
		}
		got = append(got, spikesOf(ok.Spikes)...)
	}
	if len(want) < 100 || !slices.Equal(got, want) {
		t.Fatalf("%d spikes across the wire, %d in-process (or too few)", len(got), len(want))
	}
}

// TestRepeatOnTheWire: a RUN written twice with its sequence number
// runs once.
func TestRepeatOnTheWire(t *testing.T) {
	b := newBus(t, Config{}, 10*physic.MegaHertz)
	b.load(testImage())
	b.seq++
	first := mustRunOK(t, b.sendSeq(b.seq, runFeed(0)))
	r1 := append([]byte(nil), b.rsp...)
	second := mustRunOK(t, b.sendSeq(b.seq, runFeed(0)))
	if first.Now != 10 || second.Now != 10 || !bytes.Equal(r1, b.rsp) {
		t.Fatalf("now %d then %d; want 10 twice, same bytes", first.Now, second.Now)
	}
	b.emu.Do(func(c *chip.Chip) {
		if c.Now() != 10 {
			t.Fatalf("the chip ran %d steps, want 10", c.Now())
		}
	})
	if s := b.status(); s.Replays != 1 {
		t.Errorf("replays %d", s.Replays)
	}
}

// TestTiming: the emulated clock counts each bit at the port's clock
// and each request's compute; Clocked holds data-ready until Advance.
func TestTiming(t *testing.T) {
	cfg := Config{StepCost: 3 * time.Microsecond, FrameCost: 20 * time.Microsecond}
	b := newBus(t, cfg, physic.MegaHertz)
	b.load(testImage())
	t0 := b.emu.Elapsed()
	f := b.send(runFeed(0))
	mustRunOK(t, f)
	// The RUN, an 8-byte header read, the frame read; 1 µs a bit.
	bits := 8 * (len(b.req) + 8 + f.Len())
	want := time.Duration(bits)*time.Microsecond + 20*time.Microsecond + 10*3*time.Microsecond
	if d := b.emu.Elapsed() - t0; d != want {
		t.Errorf("a tick took %v emulated, want %v (%d bits at 1 MHz + 20 µs + 10 × 3 µs)", d, want, bits)
	}
	if c := b.emu.LastCompute(); c != 50*time.Microsecond {
		t.Errorf("compute %v", c)
	}

	cfg.Clocked = true
	c := newBus(t, cfg, 10*physic.MegaHertz)
	req, _ := protocol.Append(nil, 1, &protocol.Hello{})
	c.write(req)
	if c.ready.Read() == gpio.Low {
		t.Fatal("data-ready fell before its time")
	}
	// 32 bits at 10 MHz: 3.2 µs of the 20.
	if got := c.read(4); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("a response readable before its time: %x", got)
	}
	c.emu.Advance(16 * time.Microsecond)
	if c.ready.Read() == gpio.Low {
		t.Fatal("data-ready fell 0.8 µs early")
	}
	c.emu.Advance(time.Microsecond)
	if c.ready.Read() != gpio.Low {
		t.Fatal("data-ready still high at the ready time")
	}
	if _, _, err := protocol.Decode(c.readFrame()); err != nil {
		t.Fatal(err)
	}
}

func TestAcceptsClock(t *testing.T) {
	emu, err := New(Config{MaxClock: 10 * physic.MegaHertz})
	if err != nil {
		t.Fatal(err)
	}
	p := sim.NewPort("SPI0.0", emu)
	if _, err := p.Connect(20*physic.MegaHertz, spi.Mode0, 8); err == nil || !strings.Contains(err.Error(), "clock: must be above 0 and at most 10MHz, got 20MHz") {
		t.Errorf("20 MHz on a 10 MHz chip: %v", err)
	}
	if err := emu.Accepts(physic.MegaHertz, spi.Mode1, 8); err == nil {
		t.Error("mode 1 accepted")
	}
	if _, err := New(Config{Faults: Faults{RequestFlip: 1.5}}); err == nil || !strings.Contains(err.Error(), "request flip: must be a probability in 0..1, got 1.5") {
		t.Errorf("rate 1.5: %v", err)
	}
}

// TestRequestFlip: every request corrupted: each NAKed with sequence 0
// (CRC, or the check the flipped bit broke), nothing executed.
func TestRequestFlip(t *testing.T) {
	b := newBus(t, Config{Faults: Faults{Seed: 1, RequestFlip: 1}}, 10*physic.MegaHertz)
	codes := map[protocol.Code]int{}
	for i := 0; i < 200; i++ {
		b.req, _ = protocol.Append(b.req[:0], uint16(i+1), runFeed(i))
		raw, err := b.exchange(b.req)
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := protocol.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		var n protocol.Nak
		if f.Type() != protocol.TypeNak || n.Unmarshal(f) != nil || f.Seq() != 0 {
			t.Fatalf("request %d: %s seq %d, want a NAK with seq 0", i, f.Type(), f.Seq())
		}
		codes[n.Code]++
	}
	if codes[protocol.CodeCRC] < 150 || len(codes) < 2 {
		t.Errorf("codes %v: want mostly CRC, and some sync/version/length", codes)
	}
	st := b.emu.Stats()
	if st.RequestFlips != 200 {
		t.Errorf("%d flips injected", st.RequestFlips)
	}
	b.emu.Do(func(c *chip.Chip) {
		if c.Engine() != nil || c.Now() != 0 {
			t.Error("a corrupted request changed the chip")
		}
	})
}

// hostCounts are the faults a host saw.
type hostCounts struct{ naks, bad, timeouts uint64 }

// ticks runs n ticks of runFeed from tick k0 the way a host does over a
// faulty link: on a NAK with sequence 0, a response that fails its
// checks, or no data-ready, it resends the request with the same
// sequence number. It checks that every RUN ran exactly once.
func ticks(t *testing.T, b *bus, k0, n int, hc *hostCounts) []engine.Spike {
	t.Helper()
	var got []engine.Spike
	for k := k0; k < k0+n; k++ {
		b.seq++
		b.req, _ = protocol.Append(b.req[:0], b.seq, runFeed(k))
		for try := 0; ; try++ {
			if try == 20 {
				t.Fatalf("tick %d: 20 tries", k)
			}
			raw, err := b.exchange(b.req)
			if err != nil {
				hc.timeouts++
				continue
			}
			f, _, err := protocol.Decode(raw)
			if err != nil {
				hc.bad++
				continue
			}
			if f.Type() == protocol.TypeNak && f.Seq() == 0 {
				hc.naks++
				continue
			}
			if f.Seq() != b.seq {
				t.Fatalf("tick %d: response seq %d", k, f.Seq())
			}
			ok := mustRunOK(t, f)
			if ok.Now != int64(10*(k+1)) {
				t.Fatalf("tick %d: now %d: a RUN ran twice or not at all", k, ok.Now)
			}
			got = append(got, spikesOf(ok.Spikes)...)
			break
		}
	}
	return got
}

// TestFaultyLink: each fault alone at 10% over 200 ticks, then all
// three at 20%: the host that resends gets every tick's spikes as a
// clean link gives them, each RUN runs once, and with one fault kind
// at a time the host's counts equal the injected ones (every corrupted
// frame detected).
func TestFaultyLink(t *testing.T) {
	want := engineSpikes(t, 1000)
	cases := []struct {
		name string
		flt  Faults
	}{
		{"request flips", Faults{Seed: 1, RequestFlip: 0.1}},
		{"response flips", Faults{Seed: 2, ResponseFlip: 0.1}},
		{"dropped data-ready", Faults{Seed: 3, DropReady: 0.1}},
		{"all", Faults{Seed: 4, RequestFlip: 0.2, ResponseFlip: 0.2, DropReady: 0.2}},
	}
	for i, c := range cases {
		b := newBus(t, Config{}, 20*physic.MegaHertz)
		b.load(testImage())
		b.emu.mu.Lock()
		b.emu.cfg.Faults = c.flt // the load ran clean
		b.emu.mu.Unlock()
		var hc hostCounts
		got := ticks(t, b, 0, 200, &hc)
		if !slices.Equal(got, want[:len(got)]) || len(got) < 20 {
			t.Fatalf("%s: spikes differ from the clean run's", c.name)
		}
		st := b.emu.Stats()
		inj := st.RequestFlips + st.ResponseFlips + st.DroppedReady
		if inj < 15 {
			t.Fatalf("%s: only %d faults injected", c.name, inj)
		}
		switch i {
		case 0:
			if hc.naks != st.RequestFlips || hc.bad+hc.timeouts != 0 {
				t.Errorf("%s: host %+v, injected %d", c.name, hc, st.RequestFlips)
			}
		case 1:
			if hc.bad != st.ResponseFlips || hc.naks+hc.timeouts != 0 {
				t.Errorf("%s: host %+v, injected %d", c.name, hc, st.ResponseFlips)
			}
		case 2:
			if hc.timeouts != st.DroppedReady || hc.naks+hc.bad != 0 {
				t.Errorf("%s: host %+v, injected %d", c.name, hc, st.DroppedReady)
			}
		case 3:
			// A response both flipped and without data-ready is one
			// timeout; a NAK for a flipped request may itself be lost.
			if seen := hc.naks + hc.bad + hc.timeouts; seen > inj || seen < st.DroppedReady {
				t.Errorf("%s: host %+v, injected %+v", c.name, hc, st)
			}
		}
		t.Logf("%s: injected %d request flips, %d response flips, %d dropped data-ready; host saw %d NAKs, %d bad frames, %d timeouts",
			c.name, st.RequestFlips, st.ResponseFlips, st.DroppedReady, hc.naks, hc.bad, hc.timeouts)
	}
}

// TestSelfReset: a reset at the 6th frame and one at step 25: no
// response (data-ready stays high), then the boot counter is one up and
// the image and state are gone.
func TestSelfReset(t *testing.T) {
	for _, flt := range []Faults{{ResetAtStep: 25}, {ResetAtFrame: 0}} {
		b := newBus(t, Config{Chip: chip.Config{BootCount: 4}, Faults: flt}, 10*physic.MegaHertz)
		b.load(testImage())
		frames := b.emu.Stats().Requests
		if flt.ResetAtStep == 0 {
			b.emu.cfg.Faults.ResetAtFrame = frames + 3 // the third RUN
		}
		mustRunOK(t, b.send(runFeed(0)))
		mustRunOK(t, b.send(runFeed(1)))
		b.seq++
		b.req, _ = protocol.Append(b.req[:0], b.seq, runFeed(2))
		if raw, err := b.exchange(b.req); err != errNoReady {
			t.Fatalf("%+v: the RUN that resets got %x, %v; want no data-ready", flt, raw, err)
		}
		if got := b.read(8); !bytes.Equal(got, make([]byte, 8)) {
			t.Fatalf("%+v: a read after the reset gives %x", flt, got)
		}
		// The resend is executed, and refused: no image.
		mustNak(t, b.sendSeq(b.seq, runFeed(2)), protocol.CodeNoImage)
		if h := b.hello(); h.BootCount != 5 {
			t.Errorf("%+v: boot counter %d, want 5", flt, h.BootCount)
		}
		if s := b.status(); s.Image != protocol.ImageNone || s.Now != 0 {
			t.Errorf("%+v: status %+v", flt, s)
		}
		if st := b.emu.Stats(); st.SelfResets != 1 {
			t.Errorf("%+v: %d self-resets", flt, st.SelfResets)
		}
		// Once only: reloaded, the run goes past step 25 and frame N.
		b.load(testImage())
		for k := 0; k < 5; k++ {
			mustRunOK(t, b.send(runFeed(k)))
		}
	}
}

func TestWrongFirmware(t *testing.T) {
	b := newBus(t, Config{Faults: Faults{Firmware: 0x020304}}, 10*physic.MegaHertz)
	if h := b.hello(); h.Firmware != 0x020304 {
		t.Errorf("firmware %#x, want the injected 0x020304", h.Firmware)
	}
}

// TestResetLine: a pulse on the reset line between transactions reboots
// the chip; a line held low makes it ignore the bus (MISO 0xFF, no
// response) until released.
func TestResetLine(t *testing.T) {
	b := newBus(t, Config{}, 10*physic.MegaHertz)
	b.load(testImage())
	mustRunOK(t, b.send(runFeed(0)))
	_ = b.reset.Out(gpio.Low)
	_ = b.reset.Out(gpio.High)
	if h := b.hello(); h.BootCount != 1 {
		t.Fatalf("boot counter %d after a pulse, want 1", h.BootCount)
	}
	if s := b.status(); s.Image != protocol.ImageNone {
		t.Fatal("image kept across a reset")
	}
	// Held low.
	_ = b.reset.Out(gpio.Low)
	req, _ := protocol.Append(nil, 50, &protocol.Hello{})
	b.write(req)
	if b.ready.Read() == gpio.Low {
		t.Fatal("a chip in reset answered")
	}
	if got := b.read(4); !bytes.Equal(got, []byte{0xff, 0xff, 0xff, 0xff}) {
		t.Fatalf("MISO in reset %x, want ones", got)
	}
	_ = b.reset.Out(gpio.High)
	if h := b.hello(); h.BootCount != 2 {
		t.Fatalf("boot counter %d after release, want 2", h.BootCount)
	}
	if st := b.emu.Stats(); st.ResetPulses != 2 || st.Ignored != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestDeterministic: the same seed and traffic inject the same faults
// and put the same bytes on MISO; another seed does not.
func TestDeterministic(t *testing.T) {
	trace := func(seed uint64) (Stats, []byte) {
		b := newBus(t, Config{Faults: Faults{Seed: seed, RequestFlip: 0.3, ResponseFlip: 0.3, DropReady: 0.3}}, 10*physic.MegaHertz)
		var miso []byte
		for i := 0; i < 100; i++ {
			req, _ := protocol.Append(nil, uint16(i), &protocol.Status{})
			b.write(req)
			miso = append(miso, b.readFrame()...)
		}
		st := b.emu.Stats()
		return st, miso
	}
	s1, m1 := trace(9)
	s2, m2 := trace(9)
	s3, m3 := trace(10)
	if s1 != s2 || !bytes.Equal(m1, m2) {
		t.Fatalf("same seed, different runs:\n%+v\n%+v", s1, s2)
	}
	if s1 == s3 || bytes.Equal(m1, m3) {
		t.Fatal("another seed, the same faults")
	}
}

// TestGoldenExchanges: requests and their responses byte by byte across
// the wire, written out from firmware/README.md's tables (the CRCs
// computed with hash/crc32): STATUS at power-up, a RUN with no image
// (NAK 9 with its text), an IMAGE_BEGIN (ACK 0), a frame with a bad CRC
// (NAK 1, sequence 0).
func TestGoldenExchanges(t *testing.T) {
	b := newBus(t, Config{}, 10*physic.MegaHertz)
	badCRC := withCRC(t, "a55a 01 09 0400 0000")
	badCRC[len(badCRC)-1] ^= 0x80
	for _, c := range []struct {
		name      string
		req, want []byte
	}{
		{"STATUS", withCRC(t, "a55a 01 09 0100 0000"), withCRC(t, "a55a 01 89 0100 2b00"+
			"0000000000000000"+ // now
			"00000000"+ // boot counter
			"00"+ // no image
			"01000000"+ // frames: this one
			"00000000 00000000 00000000 00000000 00000000 00000000"+ // crc, bad, naks, replays, resets, dropped
			"0000")}, // no populations
		{"RUN without an image", withCRC(t, "a55a 01 05 0200 0400 0100 0000"), withCRC(t, "a55a 01 f1 0200 2300"+
			"09 05 0000000000000000 18"+hex.EncodeToString([]byte("RUN needs a loaded image")))},
		{"IMAGE_BEGIN", withCRC(t, "a55a 01 02 0300 2400 88130000"+strings.Repeat("00", 32)),
			withCRC(t, "a55a 01 f0 0300 0800 0000000000000000")},
		{"bad CRC", badCRC, withCRC(t, "a55a 01 f1 0000 0b00 01 00 0000000000000000 00")},
	} {
		got, err := b.exchange(c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, got, c.want)
		}
	}
}
