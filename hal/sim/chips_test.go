package sim

import (
	"fmt"
	"math"
	"testing"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/hal"
)

// allChannels is a board with every single-ended input and every
// differential pair of one ADC chip as parts.
func allChannels(chip string, vref float64) hal.Config {
	a := hal.ADCConfig{Name: "adc0", Chip: chip, Port: "SPI0.0", SpeedHz: 1_000_000, VRef: vref}
	for ch := 0; ch < 8; ch++ {
		a.Channels = append(a.Channels,
			hal.ADCChannelConfig{Name: fmt.Sprintf("se%d", ch), Channel: ch},
			hal.ADCChannelConfig{Name: fmt.Sprintf("diff%d", ch), Channel: ch, Differential: true})
	}
	return hal.Config{Driver: hal.DriverSim, ADCs: []hal.ADCConfig{a}}
}

// TestADCThroughDriver reads every channel of the emulated chip through
// hal's MCP3x08 driver and compares with the voltages the plant put on
// the inputs: within one LSB, and the code exactly the ideal one.
func TestADCThroughDriver(t *testing.T) {
	for _, tc := range []struct {
		chip string
		vref float64
		lsb  float64
	}{{"mcp3008", 3.3, 3.3 / 1024}, {"mcp3208", 4.096, 4.096 / 4096}} {
		t.Run(tc.chip, func(t *testing.T) {
			sb, hb, err := Open(allChannels(tc.chip, tc.vref), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer hb.Close()
			adc := sb.ADCChip("adc0")
			// Assorted voltages across the range, including both ends.
			in := []float64{0, tc.vref * 0.999, 1.234, 0.5 * tc.vref, 0.001, 2.2, 0.75, tc.vref / 3}
			for ch, v := range in {
				adc.SetInput(ch, v)
			}
			for ch := 0; ch < 8; ch++ {
				part, err := hb.ADC(fmt.Sprintf("se%d", ch))
				if err != nil {
					t.Fatal(err)
				}
				s, err := part.Read()
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(s.Volts-in[ch]) > tc.lsb {
					t.Errorf("ch%d: read %.5f V, plant %.5f V (LSB %.5f)", ch, s.Volts, in[ch], tc.lsb)
				}
				if want := int(in[ch] / tc.vref * float64(int(1)<<part.Bits())); s.Raw != want {
					t.Errorf("ch%d: code %d, want %d", ch, s.Raw, want)
				}

				d, _ := hb.ADC(fmt.Sprintf("diff%d", ch))
				s, err = d.Read()
				if err != nil {
					t.Fatal(err)
				}
				want := max(in[ch]-in[ch^1], 0) // pseudo-differential: negative reads 0
				if math.Abs(s.Volts-want) > tc.lsb {
					t.Errorf("diff %d-%d: read %.5f V, want %.5f V", ch, ch^1, s.Volts, want)
				}
				if s.Raw != adc.Ideal(ch, true) {
					t.Errorf("diff %d: code %d, ideal %d", ch, s.Raw, adc.Ideal(ch, true))
				}
			}
			if got := adc.Conversions(); got != 16 {
				t.Errorf("%d conversions, want 16", got)
			}
		})
	}
}

func TestADCClamps(t *testing.T) {
	adc, _ := NewADC("mcp3008", 3.3)
	adc.SetInput(0, 5)
	adc.SetInput(1, -1)
	adc.SetInput(2, math.NaN())
	if adc.Ideal(0, false) != 1023 || adc.Ideal(1, false) != 0 || adc.Ideal(2, false) != 0 {
		t.Errorf("clamps: %d %d %d", adc.Ideal(0, false), adc.Ideal(1, false), adc.Ideal(2, false))
	}
}

func connect(t *testing.T, c Chip, f physic.Frequency) *Port {
	t.Helper()
	p := NewPort("SPI0.0", c)
	if _, err := p.Connect(f, spi.Mode0, 8); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestADCWire checks the emulated chip's answers bit by bit against the
// datasheet, independent of the driver: the 3-byte frames, another byte
// alignment, and the LSB-first tail.
func TestADCWire(t *testing.T) {
	adc, _ := NewADC("mcp3008", 3.3)
	adc.SetInput(5, 3.3*0x2A5/1024+1e-6) // code 0x2A5
	p := connect(t, adc, physic.MegaHertz)
	r := make([]byte, 3)
	if err := p.Tx([]byte{0x01, 0xD0, 0x00}, r); err != nil {
		t.Fatal(err)
	}
	// High-Z bits read 1, null bit 0, then B9..B0.
	if want := []byte{0xFF, 0xFA, 0xA5}; string(r) != string(want) {
		t.Errorf("MCP3008 ch5: % x, want % x", r, want)
	}

	// Start bit at stream position 11 (0-based), two bytes later than the
	// usual alignment, and 40 clocks: B9 is at position 18, B0 at 27,
	// then B1..B9 LSB first at 28..36, then zeros.
	adc.SetInput(0, 3.3*0x2A5/1024+1e-6)
	w := []byte{0x00, 0x18, 0x00, 0x00, 0x00} // 0001 1000: start, SGL=1, D2..D0 = 000
	r = make([]byte, 5)
	if err := p.Tx(w, r); err != nil {
		t.Fatal(err)
	}
	bit := func(i int) int { return int(r[i/8]>>(7-i%8)) & 1 }
	code := 0
	for i := 18; i <= 27; i++ {
		code = code<<1 | bit(i)
	}
	if code != 0x2A5 || bit(17) != 0 {
		t.Errorf("misaligned frame: code %#x, null bit %d (% x)", code, bit(17), r)
	}
	lsbFirst := 0
	for i := 0; i < 9; i++ {
		lsbFirst |= bit(28+i) << (i + 1)
	}
	if lsbFirst != 0x2A5&^1 {
		t.Errorf("LSB-first tail %#x, want %#x", lsbFirst, 0x2A5&^1)
	}
	for i := 37; i < 40; i++ {
		if bit(i) != 0 {
			t.Errorf("bit %d after the LSB-first tail is 1", i)
		}
	}

	// MCP3208, differential 5+/4-, code 0xABC.
	adc12, _ := NewADC("mcp3208", 4.096)
	adc12.SetInput(4, 1)
	adc12.SetInput(5, 1+4.096*0xABC/4096+1e-6)
	p = connect(t, adc12, physic.MegaHertz)
	r = make([]byte, 3)
	if err := p.Tx([]byte{0x05, 0x40, 0x00}, r); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0xFF, 0xEA, 0xBC}; string(r) != string(want) {
		t.Errorf("MCP3208 diff 5-4: % x, want % x", r, want)
	}

	// The same frame split over packets that keep CS low is one
	// conversion; with CS released after the first byte it is not.
	r1, r2, r3 := make([]byte, 1), make([]byte, 1), make([]byte, 1)
	err := p.TxPackets([]spi.Packet{
		{W: []byte{0x05}, R: r1, KeepCS: true},
		{W: []byte{0x40}, R: r2, KeepCS: true},
		{W: []byte{0x00}, R: r3},
	})
	if err != nil || r2[0] != 0xEA || r3[0] != 0xBC {
		t.Errorf("KeepCS packets: % x % x, %v", r2, r3, err)
	}
	_ = p.TxPackets([]spi.Packet{{W: []byte{0x05}, R: r1}, {W: []byte{0x40}, R: r2}, {W: []byte{0x00}, R: r3}})
	if r3[0] == 0xBC {
		t.Error("conversion survived CS going high between bytes")
	}
}

func TestDAC(t *testing.T) {
	cfg := hal.Config{Driver: hal.DriverSim, DACs: []hal.DACConfig{{
		Name: "dac0", Chip: "mcp4922", Port: "SPI0.1", SpeedHz: 20_000_000, Mode: 3, VRef: 3.0,
		Channels: []hal.DACChannelConfig{
			{Name: "a", Channel: 0, SafeVolts: 0.5},
			{Name: "b", Channel: 1, Gain: 2, Buffered: true, HaltShutdown: true},
		},
	}}}
	sb, hb, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	outA, _ := sb.AnalogOutput("a")
	outB, _ := sb.AnalogOutput("b")
	// Safe state at open: a at 0.5 V, b shut down.
	if st := outA.State(); !st.Active || math.Abs(st.Volts-0.5) > 3.0/4096 || st.Gain != 1 {
		t.Errorf("a at open: %+v", st)
	}
	if st := outB.State(); !st.Written || st.Active || st.Volts != 0 {
		t.Errorf("b at open: %+v", st)
	}
	a, _ := hb.DAC("a")
	b, _ := hb.DAC("b")
	if err := a.SetVolts(2.25); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVolts(4.5); err != nil { // gain 2: range 0..6 V, but VDD is 5 V
		t.Fatal(err)
	}
	if v := outA.Volts(); math.Abs(v-2.25) > 3.0/4096 {
		t.Errorf("a = %v V", v)
	}
	if st := outB.State(); !st.Active || st.Gain != 2 || !st.Buffered || math.Abs(st.Volts-4.5) > 6.0/4096 {
		t.Errorf("b = %+v", st)
	}
	if err := b.SetCode(4095); err != nil {
		t.Fatal(err)
	}
	if v := outB.Volts(); v != DACSupply {
		t.Errorf("b at full scale x2 = %v V, want clipped to %v", v, DACSupply)
	}
	if err := hb.Halt(); err != nil {
		t.Fatal(err)
	}
	if outB.State().Active || outB.Volts() != 0 || math.Abs(outA.Volts()-0.5) > 3.0/4096 {
		t.Errorf("after Halt: a %v V, b %+v", outA.Volts(), outB.State())
	}

	// Short transactions are ignored, bits past 16 too.
	dac := sb.DACChip("dac0")
	before, _ := dac.Writes()
	p := sb.Port("SPI0.1")
	_ = p.Tx([]byte{0x3F}, nil)
	if _, ign := dac.Writes(); ign != 1 || math.Abs(outA.Volts()-0.5) > 3.0/4096 {
		t.Errorf("8-bit write not ignored: ignored=%d a=%v", ign, outA.Volts())
	}
	_ = p.Tx([]byte{0x38, 0x00, 0xFF}, nil) // A, 1x, active, 2048; 0xFF ignored
	if w, _ := dac.Writes(); w != before+1 || outA.State().Code != 2048 {
		t.Errorf("24-bit write: writes %d, code %d", w-before, outA.State().Code)
	}
}

func TestPortRejects(t *testing.T) {
	adc, _ := NewADC("mcp3208", 3.3)
	for _, tc := range []struct {
		name string
		f    physic.Frequency
		mode spi.Mode
		bits int
	}{
		{"mode 1", physic.MegaHertz, spi.Mode1, 8},
		{"mode 2", physic.MegaHertz, spi.Mode2, 8},
		{"lsb first", physic.MegaHertz, spi.Mode0 | spi.LSBFirst, 8},
		{"16 bits", physic.MegaHertz, spi.Mode0, 16},
		{"too fast", 2100 * physic.KiloHertz, spi.Mode0, 8},
		{"zero speed", 0, spi.Mode0, 8},
	} {
		if _, err := NewPort("x", adc).Connect(tc.f, tc.mode, tc.bits); err == nil {
			t.Errorf("%s accepted", tc.name)
		}
	}
	p := NewPort("x", adc)
	if err := p.Tx([]byte{1}, nil); err == nil {
		t.Error("Tx before Connect accepted")
	}
	if _, err := p.Connect(physic.MegaHertz, spi.Mode3, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Connect(physic.MegaHertz, spi.Mode3, 8); err == nil {
		t.Error("second Connect accepted")
	}
	if err := p.Tx([]byte{1, 2}, make([]byte, 1)); err == nil {
		t.Error("mismatched buffers accepted")
	}
	_ = p.Close()
	if err := p.Tx([]byte{1}, nil); err == nil {
		t.Error("Tx after Close accepted")
	}
	if _, err := NewADC("mcp3004", 3.3); err == nil || err.Error() != `sim: ADC model: must be "mcp3008" or "mcp3208", got "mcp3004"` {
		t.Errorf("unknown ADC model: %v", err)
	}
}
