package sim

import (
	"fmt"
	"math"
	"sync"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// ADC emulates an MCP3008 (10-bit) or MCP3208 (12-bit) bit by bit, from
// the datasheets' section 5 rather than from the driver's frame layout:
// with CS low, the first 1 on DIN is the start bit; the next four bits
// are SGL/DIFF, D2, D1, D0; the input is sampled then; one more clock
// completes the sample (DOUT still high impedance); the next clock puts
// out the null bit (0), then the code MSB first, then (if the clock
// keeps running) the code LSB first from B1, then zeros. Leading zeros
// before the start bit are ignored, so any byte alignment works as on
// the real chip.
//
// While DOUT is high impedance the emulation reads 1, so a driver that
// forgets to mask those bits gets a wrong code.
type ADC struct {
	model string
	bits  int
	max   physic.Frequency

	mu          sync.Mutex
	vref        float64
	in          [8]float64
	conversions uint64

	// Transaction state; only touched under the Port's lock.
	started bool
	k       int  // clocks since the start bit
	cfg     byte // SGL D2 D1 D0 as shifted in
	code    int
}

// NewADC returns an emulated "mcp3008" or "mcp3208" with reference vref
// volts and all inputs at 0 V.
func NewADC(model string, vref float64) (*ADC, error) {
	a := &ADC{model: model, vref: vref}
	switch model {
	case "mcp3008":
		a.bits, a.max = 10, 3600*physic.KiloHertz
	case "mcp3208":
		a.bits, a.max = 12, 2*physic.MegaHertz
	default:
		return nil, fmt.Errorf("sim: ADC model: must be \"mcp3008\" or \"mcp3208\", got %q", model)
	}
	if !(vref > 0) {
		return nil, fmt.Errorf("sim: ADC vref: must be > 0 V, got %v V", vref)
	}
	return a, nil
}

// Model returns "mcp3008" or "mcp3208".
func (a *ADC) Model() string { return a.model }

// Bits is the resolution.
func (a *ADC) Bits() int { return a.bits }

// VRef is the reference voltage.
func (a *ADC) VRef() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vref
}

// SetInput puts volts on input ch (0..7); out-of-range channels are
// ignored. It does not allocate.
func (a *ADC) SetInput(ch int, volts float64) {
	if ch < 0 || ch > 7 {
		return
	}
	a.mu.Lock()
	a.in[ch] = volts
	a.mu.Unlock()
}

// Input returns the voltage on input ch.
func (a *ADC) Input(ch int) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.in[ch&7]
}

// Conversions counts the conversions started (start bit plus four
// configuration bits received).
func (a *ADC) Conversions() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conversions
}

// Ideal is the code the chip converts for the given input selection:
// floor(2^bits * Vin / Vref) clamped to 0..2^bits-1, with Vin = CHs for
// single-ended and CHs - CH(s^1) for differential (0 when negative).
func (a *ADC) Ideal(sel int, diff bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.convert(sel, diff)
}

func (a *ADC) convert(sel int, diff bool) int {
	v := a.in[sel&7]
	if diff {
		v -= a.in[(sel^1)&7]
	}
	code := math.Floor(v / a.vref * float64(int(1)<<a.bits))
	maxCode := float64(int(1)<<a.bits - 1)
	switch {
	case !(code > 0): // also NaN
		return 0
	case code > maxCode:
		return int(maxCode)
	}
	return int(code)
}

// Accepts implements Chip: SPI mode 0 or 3, 8-bit words, MSB first, and
// at most the datasheet clock at VDD = 5 V.
func (a *ADC) Accepts(f physic.Frequency, mode spi.Mode, bits int) error {
	return accepts(a.model, a.max, f, mode, bits)
}

// Begin implements Chip.
func (a *ADC) Begin() { a.started, a.k, a.cfg, a.code = false, 0, 0, 0 }

// End implements Chip.
func (a *ADC) End() { a.started = false }

// Clock implements Chip.
func (a *ADC) Clock(din byte) byte {
	if !a.started {
		if din&1 == 1 {
			a.started, a.k = true, 0
		}
		return 1 // DOUT high impedance
	}
	a.k++
	n := a.bits
	switch k := a.k; {
	case k <= 4: // SGL/DIFF, D2, D1, D0
		a.cfg = a.cfg<<1 | din&1
		if k == 4 {
			a.mu.Lock()
			a.code = a.convert(int(a.cfg&7), a.cfg&8 == 0)
			a.conversions++
			a.mu.Unlock()
		}
		return 1
	case k == 5: // end of sample period
		return 1
	case k == 6: // null bit
		return 0
	case k < 7+n: // B(n-1) .. B0, MSB first
		return byte(a.code>>(n-1-(k-7))) & 1
	case k < 7+2*n-1: // B1 .. B(n-1), LSB first (B0 is not repeated)
		return byte(a.code>>(k-(7+n)+1)) & 1
	}
	return 0 // zeros for ever after
}

// DACOutput is the state of one MCP4922 output.
type DACOutput struct {
	Written  bool    // a valid command reached this channel
	Code     int     // D11..D0
	Buffered bool    // BUF
	Gain     int     // 1 or 2 (from /GA)
	Active   bool    // /SHDN
	Volts    float64 // the output voltage (0 when shut down)
}

// DAC emulates an MCP4922 bit by bit: with CS low it shifts in the
// first 16 bits and ignores the rest; when CS rises it latches them
// into DAC A or B (LDAC is taken as tied low, so the output follows at
// once). A transaction shorter than 16 bits is ignored. The output is
// Vref*gain*code/4096, limited to VDD, or 0 when shut down. MISO is not
// driven (the chip has no SDO).
type DAC struct {
	vref [2]float64
	vdd  float64

	mu      sync.Mutex
	out     [2]DACOutput
	writes  uint64
	ignored uint64

	// Transaction state; only touched under the Port's lock.
	n    int
	word uint16
}

// NewDAC returns an emulated MCP4922 with both references at vref and
// supply vdd. Until the first write both outputs read 0 V and inactive;
// that is this emulation's choice, not a datasheet claim, and it does
// not matter to hal, which writes every channel's safe state at open.
func NewDAC(vref, vdd float64) (*DAC, error) {
	if !(vref > 0) {
		return nil, fmt.Errorf("sim: DAC vref: must be > 0 V, got %v V", vref)
	}
	if !(vdd > 0) {
		return nil, fmt.Errorf("sim: DAC supply: must be > 0 V, got %v V", vdd)
	}
	return &DAC{vref: [2]float64{vref, vref}, vdd: vdd, out: [2]DACOutput{{Gain: 1}, {Gain: 1}}}, nil
}

// Output returns the state of channel ch (0 = A, 1 = B).
func (d *DAC) Output(ch int) DACOutput {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out[ch&1]
}

// Volts returns the output voltage of channel ch.
func (d *DAC) Volts(ch int) float64 { return d.Output(ch).Volts }

// Writes counts the commands latched; Ignored the transactions shorter
// than 16 bits.
func (d *DAC) Writes() (writes, ignored uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writes, d.ignored
}

// Accepts implements Chip: mode 0 or 3, 8-bit words, up to 20 MHz.
func (d *DAC) Accepts(f physic.Frequency, mode spi.Mode, bits int) error {
	return accepts("mcp4922", 20*physic.MegaHertz, f, mode, bits)
}

// Begin implements Chip.
func (d *DAC) Begin() { d.n, d.word = 0, 0 }

// Clock implements Chip.
func (d *DAC) Clock(din byte) byte {
	if d.n < 16 {
		d.word = d.word<<1 | uint16(din&1)
		d.n++
	}
	return 1
}

// End implements Chip.
func (d *DAC) End() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n < 16 {
		d.ignored++
		return
	}
	w := d.word
	ch := int(w >> 15)
	o := DACOutput{
		Written:  true,
		Code:     int(w & 0x0FFF),
		Buffered: w&(1<<14) != 0,
		Gain:     2,
		Active:   w&(1<<12) != 0,
	}
	if w&(1<<13) != 0 {
		o.Gain = 1
	}
	if o.Active {
		o.Volts = math.Min(d.vref[ch]*float64(o.Gain)*float64(o.Code)/4096, d.vdd)
	}
	d.out[ch] = o
	d.writes++
}

func accepts(model string, max, f physic.Frequency, mode spi.Mode, bits int) error {
	if bits != 8 {
		return fmt.Errorf("%s: bits per word: must be 8, got %d", model, bits)
	}
	if mode&^spi.Mode3 != 0 {
		return fmt.Errorf("%s: mode: must be 0 or 3 without flags, got %s", model, mode)
	}
	if m := mode & spi.Mode3; m != spi.Mode0 && m != spi.Mode3 {
		return fmt.Errorf("%s: mode: must be 0 or 3, got %s", model, m)
	}
	if f > max {
		return fmt.Errorf("%s: clock: must be at most the chip's %s, got %s", model, max, f)
	}
	return nil
}

var (
	_ Chip = (*ADC)(nil)
	_ Chip = (*DAC)(nil)
)
