package mcp3x08

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// golden is one conversion as it appears on the wire: the bytes the
// driver must send (datasheet figures 6-1) and bytes a chip answers.
// Where the chip's DOUT is high impedance the answer carries ones, so a
// driver that forgets to mask them gets a wrong code.
type golden struct {
	name string
	v    Variant
	ch   int
	diff bool
	w    [3]byte
	r    [3]byte
	code int
}

var goldens = []golden{
	// MCP3008: start bit is bit 0 of byte 0; SGL D2 D1 D0 are the top
	// nibble of byte 1; the answer is ? ? ? ? ? 0 B9 B8 | B7..B0.
	{"3008 single ch0 zero", MCP3008, 0, false, [3]byte{0x01, 0x80, 0x00}, [3]byte{0x00, 0x00, 0x00}, 0},
	{"3008 single ch0 full", MCP3008, 0, false, [3]byte{0x01, 0x80, 0x00}, [3]byte{0xFF, 0xFB, 0xFF}, 1023},
	{"3008 single ch5", MCP3008, 5, false, [3]byte{0x01, 0xD0, 0x00}, [3]byte{0xFF, 0xFA, 0xA5}, 0x2A5},
	{"3008 single ch7", MCP3008, 7, false, [3]byte{0x01, 0xF0, 0x00}, [3]byte{0x00, 0x01, 0x00}, 256},
	// Differential: D2..D0 = 000 is CH0+/CH1-, 001 is CH0-/CH1+ ...
	{"3008 diff 0+1-", MCP3008, 0, true, [3]byte{0x01, 0x00, 0x00}, [3]byte{0xFF, 0xF9, 0x01}, 0x101},
	{"3008 diff 1+0-", MCP3008, 1, true, [3]byte{0x01, 0x10, 0x00}, [3]byte{0xFF, 0xF8, 0x7F}, 0x07F},
	{"3008 diff 6+7-", MCP3008, 6, true, [3]byte{0x01, 0x60, 0x00}, [3]byte{0xFF, 0xFB, 0x00}, 0x300},
	{"3008 diff 7+6-", MCP3008, 7, true, [3]byte{0x01, 0x70, 0x00}, [3]byte{0x00, 0x00, 0x00}, 0},

	// MCP3208: start bit is bit 2 of byte 0, SGL bit 1, D2 bit 0; D1 D0
	// are the top two bits of byte 1; the answer is ? ? ? 0 B11..B8 |
	// B7..B0.
	{"3208 single ch0", MCP3208, 0, false, [3]byte{0x06, 0x00, 0x00}, [3]byte{0xFF, 0xEA, 0xBC}, 0xABC},
	{"3208 single ch1", MCP3208, 1, false, [3]byte{0x06, 0x40, 0x00}, [3]byte{0xFF, 0xEF, 0xFF}, 4095},
	{"3208 single ch3", MCP3208, 3, false, [3]byte{0x06, 0xC0, 0x00}, [3]byte{0x00, 0x08, 0x00}, 2048},
	{"3208 single ch4", MCP3208, 4, false, [3]byte{0x07, 0x00, 0x00}, [3]byte{0x00, 0x00, 0x01}, 1},
	{"3208 single ch7", MCP3208, 7, false, [3]byte{0x07, 0xC0, 0x00}, [3]byte{0xFF, 0xE1, 0x23}, 0x123},
	{"3208 diff 0+1-", MCP3208, 0, true, [3]byte{0x04, 0x00, 0x00}, [3]byte{0xFF, 0xE7, 0xFF}, 0x7FF},
	{"3208 diff 5+4-", MCP3208, 5, true, [3]byte{0x05, 0x40, 0x00}, [3]byte{0xFF, 0xE0, 0x10}, 0x010},
	{"3208 diff 3+2-", MCP3208, 3, true, [3]byte{0x04, 0xC0, 0x00}, [3]byte{0xFF, 0xE8, 0x00}, 0x800},
	// The null bit (bit 4 of byte 1) is read as 1 here: the driver must
	// still only use B11..B8.
	{"3208 null bit high", MCP3208, 2, false, [3]byte{0x06, 0x80, 0x00}, [3]byte{0xFF, 0xFF, 0x00}, 0xF00},
}

func playback(ops ...conntest.IO) *spitest.Playback {
	return &spitest.Playback{Playback: conntest.Playback{Ops: ops, D: conn.Full, DontPanic: true}}
}

func TestReadGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			p := playback(conntest.IO{W: g.w[:], R: g.r[:]})
			c, err := p.Connect(physic.MegaHertz, spi.Mode0, 8)
			if err != nil {
				t.Fatal(err)
			}
			d, err := New(c, g.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Read(g.ch, g.diff)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got != g.code {
				t.Errorf("code = %#x, want %#x", got, g.code)
			}
			if err := p.Close(); err != nil {
				t.Errorf("playback not consumed: %v", err)
			}
		})
	}
}

// TestRecordFrames records what the driver sends for every channel and
// mode and checks it against the frame layout worked out bit by bit.
func TestRecordFrames(t *testing.T) {
	for _, v := range []Variant{MCP3008, MCP3208} {
		for _, diff := range []bool{false, true} {
			for ch := 0; ch < Channels; ch++ {
				rec := &spitest.Record{Port: &echoPort{}}
				c, err := rec.Connect(physic.MegaHertz, spi.Mode0, 8)
				if err != nil {
					t.Fatal(err)
				}
				d, _ := New(c, v)
				if _, err := d.Read(ch, diff); err != nil {
					t.Fatal(err)
				}
				if len(rec.Ops) != 1 {
					t.Fatalf("%v ch%d: %d transactions, want 1", v, ch, len(rec.Ops))
				}
				w := rec.Ops[0].W
				// Rebuild the 24-bit stream and find the fields.
				bits := uint32(w[0])<<16 | uint32(w[1])<<8 | uint32(w[2])
				start := 7 // MCP3008: start bit at stream position 7 (0 = MSB)
				if v == MCP3208 {
					start = 5
				}
				for i := 0; i < start; i++ {
					if bits>>(23-i)&1 != 0 {
						t.Errorf("%v ch%d: leading bit %d is 1", v, ch, i)
					}
				}
				if bits>>(23-start)&1 != 1 {
					t.Errorf("%v ch%d: no start bit at %d", v, ch, start)
				}
				sgl := bits >> (23 - start - 1) & 1
				sel := int(bits>>(23-start-4)) & 7
				if (sgl == 1) == diff {
					t.Errorf("%v ch%d diff=%t: SGL/DIFF bit = %d", v, ch, diff, sgl)
				}
				if sel != ch {
					t.Errorf("%v ch%d: select bits = %d", v, ch, sel)
				}
				if rest := bits & (1<<(23-start-4) - 1); rest != 0 {
					t.Errorf("%v ch%d: trailing bits %#x, want zeros", v, ch, rest)
				}
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	p := playback()
	c, _ := p.Connect(physic.MegaHertz, spi.Mode0, 8)
	d, err := New(c, MCP3008)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []int{-1, 8, 100} {
		if _, err := d.ReadSingle(ch); !errors.Is(err, ErrChannel) {
			t.Errorf("ReadSingle(%d) err = %v, want ErrChannel", ch, err)
		}
	}
	// No op is scripted, so the bus fails and the error must come back.
	if _, err := d.ReadDiff(0); err == nil {
		t.Error("bus error was swallowed")
	}
	if _, err := New(c, Variant(9)); !errors.Is(err, ErrVariant) {
		t.Errorf("New(bad variant) err = %v", err)
	}
	if _, err := New(nil, MCP3008); err == nil {
		t.Error("New(nil conn) accepted")
	}
}

func TestVariant(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         Variant
		bits, max int
	}{{"mcp3008", MCP3008, 10, 1023}, {"mcp3208", MCP3208, 12, 4095}} {
		v, err := ParseVariant(tc.name)
		if err != nil || v != tc.v {
			t.Fatalf("ParseVariant(%q) = %v, %v", tc.name, v, err)
		}
		if v.String() != tc.name || v.Bits() != tc.bits || v.MaxCode() != tc.max {
			t.Errorf("%s: String %q Bits %d MaxCode %d", tc.name, v.String(), v.Bits(), v.MaxCode())
		}
	}
	if _, err := ParseVariant("mcp3004"); err == nil {
		t.Error("ParseVariant accepted mcp3004")
	}
	// Half of full scale: code 512 of 1024 at 3.3 V is 1.65 V.
	if got := MCP3008.Volts(512, 3.3); got != 1.65 {
		t.Errorf("Volts(512, 3.3) = %v", got)
	}
	if got := MCP3208.Volts(4096/4, 4.096); got != 1.024 {
		t.Errorf("Volts(1024, 4.096) = %v", got)
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	d, _ := New(&echoConn{}, MCP3208)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.Read(3, false); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read allocates %v times per call", allocs)
	}
}

// echoConn answers every transaction with the bytes it was sent; enough
// for tests that only look at what was written.
type echoConn struct{}

func (echoConn) String() string                 { return "echo" }
func (echoConn) Duplex() conn.Duplex            { return conn.Full }
func (echoConn) TxPackets(p []spi.Packet) error { return errors.New("not implemented") }
func (echoConn) Tx(w, r []byte) error           { copy(r, w); return nil }

type echoPort struct{}

func (echoPort) String() string                      { return "echo" }
func (echoPort) Close() error                        { return nil }
func (echoPort) LimitSpeed(f physic.Frequency) error { return nil }
func (echoPort) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	return echoConn{}, nil
}

var _ spi.Conn = echoConn{}
var _ spi.PortCloser = echoPort{}
