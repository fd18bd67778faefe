package mcp4922

import (
	"errors"
	"math"
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// Golden words from datasheet register 5-1: A/B BUF /GA /SHDN D11..D0.
var goldens = []struct {
	name   string
	ch     Channel
	code   int
	s      Settings
	active bool
	w      [2]byte
}{
	// 0111 1111 1111 1111: DAC A, buffered, 1x, active, full scale.
	{"A buf 1x full", A, 4095, Settings{Gain: 1, Buffered: true}, true, [2]byte{0x7F, 0xFF}},
	// 0011 0000 0000 0000: DAC A, unbuffered, 1x, active, zero.
	{"A 1x zero", A, 0, Settings{Gain: 1}, true, [2]byte{0x30, 0x00}},
	// 1011 1000 0000 0000: DAC B, unbuffered, 1x, active, mid scale.
	{"B 1x mid", B, 2048, Settings{Gain: 1}, true, [2]byte{0xB8, 0x00}},
	// 1001 1010 1011 1100: DAC B, unbuffered, 2x (/GA = 0), active.
	{"B 2x abc", B, 0xABC, Settings{Gain: 2}, true, [2]byte{0x9A, 0xBC}},
	// 1100 0000 0000 0001: DAC B, buffered, 2x, shut down.
	{"B buf 2x shutdown", B, 1, Settings{Gain: 2, Buffered: true}, false, [2]byte{0xC0, 0x01}},
	// 0010 0000 0000 0000: DAC A, 1x, shut down.
	{"A shutdown", A, 0, Settings{Gain: 1}, false, [2]byte{0x20, 0x00}},
}

func playback(ops ...conntest.IO) *spitest.Playback {
	return &spitest.Playback{Playback: conntest.Playback{Ops: ops, D: conn.Full, DontPanic: true}}
}

func TestWordGolden(t *testing.T) {
	for _, g := range goldens {
		w, err := Word(g.ch, g.code, g.s, g.active)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		if got := [2]byte{byte(w >> 8), byte(w)}; got != g.w {
			t.Errorf("%s: word % x, want % x", g.name, got, g.w)
		}
	}
}

func TestWritePlayback(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			// R is nil: the driver must not ask to read (no SDO pin).
			p := playback(conntest.IO{W: g.w[:]})
			c, err := p.Connect(10*physic.MegaHertz, spi.Mode0, 8)
			if err != nil {
				t.Fatal(err)
			}
			d, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			if g.active {
				err = d.Write(g.ch, g.code, g.s)
			} else if g.code == 0 {
				err = d.Shutdown(g.ch, g.s)
			} else {
				w, _ := Word(g.ch, g.code, g.s, false)
				err = d.WriteWord(w)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestShutdownBothChannels records the sequence a Halt uses and checks
// it byte for byte.
func TestShutdownBothChannels(t *testing.T) {
	p := playback(
		conntest.IO{W: []byte{0x20, 0x00}},
		conntest.IO{W: []byte{0xA0, 0x00}},
	)
	c, _ := p.Connect(physic.MegaHertz, spi.Mode3, 8)
	d, _ := New(c)
	for _, ch := range []Channel{A, B} {
		if err := d.Shutdown(ch, Settings{Gain: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	p := playback()
	c, _ := p.Connect(physic.MegaHertz, spi.Mode0, 8)
	d, _ := New(c)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"channel 2", d.Write(2, 0, Settings{Gain: 1}), ErrChannel},
		{"channel -1", d.Write(-1, 0, Settings{Gain: 1}), ErrChannel},
		{"code 4096", d.Write(A, 4096, Settings{Gain: 1}), ErrCode},
		{"code -1", d.Write(A, -1, Settings{Gain: 1}), ErrCode},
		{"gain 0", d.Write(A, 1, Settings{}), ErrGain},
		{"gain 3", d.Shutdown(B, Settings{Gain: 3}), ErrGain},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// Nothing was sent for the rejected writes; an accepted one reaches
	// the (empty) playback and its error must come back.
	if err := d.Write(A, 1, Settings{Gain: 1}); err == nil {
		t.Error("bus error swallowed")
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
}

func TestCodeVolts(t *testing.T) {
	cases := []struct {
		v, vref float64
		gain    int
		code    int
	}{
		{0, 3.3, 1, 0},
		{1.65, 3.3, 1, 2048},
		{3.3 * 4095 / 4096, 3.3, 1, 4095},
		{2.048, 2.048, 2, 2048},
		{1.0, 2.5, 2, 819}, // 1.0/(5/4096) = 819.2
	}
	for _, c := range cases {
		got, err := Code(c.v, c.vref, c.gain)
		if err != nil || got != c.code {
			t.Errorf("Code(%v, %v, %d) = %d, %v; want %d", c.v, c.vref, c.gain, got, err, c.code)
		}
		// Round trip within half a step.
		if back := Volts(got, c.vref, c.gain); math.Abs(back-c.v) > c.vref*float64(c.gain)/8192+1e-12 {
			t.Errorf("Volts(%d) = %v, want about %v", got, back, c.v)
		}
	}
	for _, bad := range []struct {
		v, vref float64
		gain    int
	}{{-0.1, 3.3, 1}, {3.3, 3.3, 1}, {6.7, 3.3, 2}, {math.NaN(), 3.3, 1}, {1, 0, 1}, {1, 3.3, 4}} {
		if _, err := Code(bad.v, bad.vref, bad.gain); err == nil {
			t.Errorf("Code(%v, %v, %d) accepted", bad.v, bad.vref, bad.gain)
		}
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	d, _ := New(discard{})
	allocs := testing.AllocsPerRun(1000, func() {
		if err := d.Write(B, 1234, Settings{Gain: 2, Buffered: true}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %v times", allocs)
	}
}

type discard struct{}

func (discard) String() string                 { return "discard" }
func (discard) Duplex() conn.Duplex            { return conn.Full }
func (discard) TxPackets(p []spi.Packet) error { return nil }
func (discard) Tx(w, r []byte) error           { return nil }

var _ spi.Conn = discard{}
