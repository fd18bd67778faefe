package sim

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/hal/mcp3x08"
	"github.com/spikeloop/spikeloop/hal/mcp4922"
)

// FuzzADCAgreement: for any input voltages and any channel selection,
// the hal driver reading the emulated chip gets exactly the chip's
// ideal code. Seeds are the golden cases of the driver's tests.
func FuzzADCAgreement(f *testing.F) {
	f.Add(false, uint8(5), false, 3.3*0x2A5/1024+1e-6, 0.0)
	f.Add(false, uint8(0), true, 2.0, 1.0)
	f.Add(false, uint8(7), true, 0.5, 1.0) // negative difference reads 0
	f.Add(true, uint8(0), false, 4.0, 0.0)
	f.Add(true, uint8(5), true, 1+4.096*0xABC/4096+1e-6, 1.0)
	f.Add(true, uint8(3), false, 9.0, -2.0) // clamps
	f.Fuzz(func(t *testing.T, is12 bool, ch uint8, diff bool, vplus, vminus float64) {
		if math.IsNaN(vplus) || math.IsNaN(vminus) || math.IsInf(vplus, 0) || math.IsInf(vminus, 0) {
			t.Skip()
		}
		model, v := "mcp3008", mcp3x08.MCP3008
		if is12 {
			model, v = "mcp3208", mcp3x08.MCP3208
		}
		adc, err := NewADC(model, 3.3)
		if err != nil {
			t.Fatal(err)
		}
		c := int(ch & 7)
		adc.SetInput(c, vplus)
		adc.SetInput(c^1, vminus)
		p := NewPort("SPI0.0", adc)
		conn, err := p.Connect(physic.MegaHertz, spi.Mode0, 8)
		if err != nil {
			t.Fatal(err)
		}
		dev, _ := mcp3x08.New(conn, v)
		got, err := dev.Read(c, diff)
		if err != nil {
			t.Fatal(err)
		}
		if want := adc.Ideal(c, diff); got != want {
			t.Fatalf("%s ch%d diff=%t: driver %d, chip %d", model, c, diff, got, want)
		}
	})
}

// FuzzDACAgreement: any word the driver builds is decoded by the
// emulated chip into the same channel, code, gain, buffer and shutdown.
func FuzzDACAgreement(f *testing.F) {
	f.Add(uint8(0), uint16(4095), uint8(1), true, true)
	f.Add(uint8(1), uint16(2048), uint8(2), false, true)
	f.Add(uint8(1), uint16(1), uint8(2), true, false)
	f.Fuzz(func(t *testing.T, ch uint8, code uint16, gain uint8, buf, active bool) {
		dac, _ := NewDAC(2.0, 5.0)
		p := NewPort("SPI0.1", dac)
		conn, _ := p.Connect(physic.MegaHertz, spi.Mode3, 8)
		dev, _ := mcp4922.New(conn)
		c := mcp4922.Channel(ch & 1)
		s := mcp4922.Settings{Gain: int(gain&1) + 1, Buffered: buf}
		k := int(code & 0x0FFF)
		w, err := mcp4922.Word(c, k, s, active)
		if err != nil {
			t.Fatal(err)
		}
		if err := dev.WriteWord(w); err != nil {
			t.Fatal(err)
		}
		o := dac.Output(int(c))
		if !o.Written || o.Code != k || o.Gain != s.Gain || o.Buffered != buf || o.Active != active {
			t.Fatalf("wrote ch %s code %d %+v active=%t; chip has %+v", c, k, s, active, o)
		}
		want := 0.0
		if active {
			want = math.Min(2.0*float64(s.Gain)*float64(k)/4096, 5.0)
		}
		if o.Volts != want {
			t.Fatalf("volts %v, want %v", o.Volts, want)
		}
	})
}
