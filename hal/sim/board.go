package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/hal"
)

// Pins and ports of the emulated board, named as periph names them on a
// Raspberry Pi: GPIO0..GPIO27, SPI0.0, SPI0.1, SPI1.0..SPI1.2 (also
// reachable as /dev/spidevB.C).
const NumPins = 28

var portNames = []string{"SPI0.0", "SPI0.1", "SPI1.0", "SPI1.1", "SPI1.2"}

// DACSupply is the VDD of emulated MCP4922s: outputs clip at 5 V.
const DACSupply = 5.0

// Plant is the physical system around the board, stepped in simulated
// time.
type Plant interface {
	// Attach binds the plant to the board's parts by their config names
	// and writes the initial sensor values. It is called once.
	Attach(b *Board) error
	// Step advances the plant by dt: it reads the actuators (pin duty,
	// levels, DAC outputs), integrates, and writes the sensors (ADC
	// inputs, input pins). An error is a plant fault (a crash, a stall);
	// the board stays usable, so Halt still works.
	Step(dt time.Duration) error
}

// A Reporter is a plant that says how it is doing after each step, as
// figures of fixed names, so that the program running the board (the
// daemon's loop, its log and telemetry, a terminal's status line) shows
// them without knowing what the plant is.
type Reporter interface {
	Plant
	// Figures names the values Report writes, in order; fixed.
	Figures() []Figure
	// Report writes the plant's figures now, one per Figures entry,
	// into dst (at least that long), without allocating.
	Report(dst []float64)
	// Status appends a short human line about figures v (as Report
	// wrote them) to b. It reads only v: another goroutine may call it.
	Status(b []byte, v []float64) []byte
}

// Figure names one of a Reporter's figures.
type Figure struct {
	Name string // the telemetry sample's key, e.g. "x"
	Log  string // the summary log's key, with the unit, e.g. "x_m"
}

// Board is the emulated board: emulated pins and SPI chips that the real
// drivers of hal run on (it is a hal.Host), and a plant wired to them.
// Time advances only through Advance; there are no goroutines.
type Board struct {
	cfg   hal.Config
	pins  map[string]*Pin
	ports map[string]*Port
	adcs  map[string]*ADC // by chip name
	dacs  map[string]*DAC // by chip name
	plant Plant
	now   time.Duration
}

// New builds the emulated hardware for cfg: every pin, every port, and
// an emulated chip on each port that cfg puts an ADC or DAC on. It does
// not validate cfg; hal.Open does, and reports unknown pins and ports by
// their config field as it would on real hardware.
func New(cfg hal.Config) *Board {
	b := &Board{
		cfg:   cfg,
		pins:  map[string]*Pin{},
		ports: map[string]*Port{},
		adcs:  map[string]*ADC{},
		dacs:  map[string]*DAC{},
	}
	for i := 0; i < NumPins; i++ {
		n := "GPIO" + strconv.Itoa(i)
		b.pins[n] = NewPin(n, i)
	}
	chips := map[string]Chip{}
	for _, a := range cfg.ADCs {
		if c, err := NewADC(a.Chip, a.VRef); err == nil {
			chips[canonPort(a.Port)] = c
			b.adcs[a.Name] = c
		}
	}
	for _, d := range cfg.DACs {
		if d.Chip != "mcp4922" {
			continue
		}
		if c, err := NewDAC(d.VRef, DACSupply); err == nil {
			chips[canonPort(d.Port)] = c
			b.dacs[d.Name] = c
		}
	}
	for _, n := range portNames {
		b.ports[n] = NewPort(n, chips[n])
	}
	return b
}

// canonPort maps /dev/spidevB.C to SPIB.C.
func canonPort(name string) string {
	if s, ok := strings.CutPrefix(name, "/dev/spidev"); ok {
		return "SPI" + s
	}
	return name
}

// Open builds the emulated board for cfg, opens it with hal.Open (so the
// same validation and the same drivers run as on hardware) and attaches
// plant, if not nil.
func Open(cfg hal.Config, plant Plant) (*Board, *hal.Board, error) {
	sb := New(cfg)
	hb, err := hal.Open(cfg, sb)
	if err != nil {
		return nil, nil, err
	}
	if plant != nil {
		if err := sb.Attach(plant); err != nil {
			return nil, nil, errors.Join(err, hb.Close())
		}
	}
	return sb, hb, nil
}

// PinByName implements hal.Host.
func (b *Board) PinByName(name string) gpio.PinIO {
	if p, ok := b.pins[name]; ok {
		return p
	}
	return nil
}

// OpenSPI implements hal.Host.
func (b *Board) OpenSPI(name string) (spi.PortCloser, error) {
	if p, ok := b.ports[canonPort(name)]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("sim: no SPI port %q (have %s)", name, strings.Join(portNames, ", "))
}

// Attach wires plant to the board; see Plant.Attach.
func (b *Board) Attach(p Plant) error {
	if b.plant != nil {
		return errors.New("sim: a plant is already attached")
	}
	if err := p.Attach(b); err != nil {
		return fmt.Errorf("sim: attaching plant: %w", err)
	}
	b.plant = p
	return nil
}

// Advance moves simulated time forward by dt and steps the plant. A
// plant fault is returned (wrapped with the time); time still advances.
// It does not allocate unless the plant faults.
func (b *Board) Advance(dt time.Duration) error {
	if dt < 0 {
		return fmt.Errorf("sim: Advance: step: must be >= 0, got %s", dt)
	}
	b.now += dt
	if b.plant == nil || dt == 0 {
		return nil
	}
	if err := b.plant.Step(dt); err != nil {
		return fmt.Errorf("sim: plant fault at t=%s: %w", b.now, err)
	}
	return nil
}

// Now is the simulated time since New.
func (b *Board) Now() time.Duration { return b.now }

// Pin returns the emulated pin called name (e.g. "GPIO12"), or nil.
func (b *Board) Pin(name string) *Pin { return b.pins[name] }

// Port returns the emulated SPI port called name, or nil.
func (b *Board) Port(name string) *Port { return b.ports[canonPort(name)] }

// ADCChip returns the emulated ADC of the adcs entry called name, or nil.
func (b *Board) ADCChip(name string) *ADC { return b.adcs[name] }

// DACChip returns the emulated DAC of the dacs entry called name, or nil.
func (b *Board) DACChip(name string) *DAC { return b.dacs[name] }

// PartPin returns the pin of the output, input or PWM part called part.
func (b *Board) PartPin(part string) (*Pin, error) {
	pin := ""
	for _, o := range b.cfg.Outputs {
		if o.Name == part {
			pin = o.Pin
		}
	}
	for _, in := range b.cfg.Inputs {
		if in.Name == part {
			pin = in.Pin
		}
	}
	for _, p := range b.cfg.PWM {
		if p.Name == part {
			pin = p.Pin
		}
	}
	if pin == "" {
		return nil, fmt.Errorf("sim: no output, input or pwm part %q in the board config", part)
	}
	p := b.pins[pin]
	if p == nil {
		return nil, fmt.Errorf("sim: part %q: no pin %q", part, pin)
	}
	return p, nil
}

// AnalogInput is the plant's side of one ADC part: the voltage on its
// input (IN+ for a differential part).
type AnalogInput struct {
	adc *ADC
	ch  int
}

// Set puts volts on the input. It does not allocate.
func (a AnalogInput) Set(volts float64) { a.adc.SetInput(a.ch, volts) }

// Get returns the voltage on the input.
func (a AnalogInput) Get() float64 { return a.adc.Input(a.ch) }

// VRef is the reference of the chip, the top of its range.
func (a AnalogInput) VRef() float64 { return a.adc.VRef() }

// AnalogInput returns the plant's side of the ADC part called part.
func (b *Board) AnalogInput(part string) (AnalogInput, error) {
	for _, a := range b.cfg.ADCs {
		for _, ch := range a.Channels {
			if ch.Name == part {
				adc := b.adcs[a.Name]
				if adc == nil {
					return AnalogInput{}, fmt.Errorf("sim: adc part %q: chip %q not emulated", part, a.Name)
				}
				return AnalogInput{adc, ch.Channel}, nil
			}
		}
	}
	return AnalogInput{}, fmt.Errorf("sim: no adc part %q in the board config", part)
}

// AnalogOutput is the plant's side of one DAC part.
type AnalogOutput struct {
	dac *DAC
	ch  int
}

// Volts is the output voltage now.
func (a AnalogOutput) Volts() float64 { return a.dac.Volts(a.ch) }

// State is the full output state (code, gain, buffer, shutdown).
func (a AnalogOutput) State() DACOutput { return a.dac.Output(a.ch) }

// AnalogOutput returns the plant's side of the DAC part called part.
func (b *Board) AnalogOutput(part string) (AnalogOutput, error) {
	for _, d := range b.cfg.DACs {
		for _, ch := range d.Channels {
			if ch.Name == part {
				dac := b.dacs[d.Name]
				if dac == nil {
					return AnalogOutput{}, fmt.Errorf("sim: dac part %q: chip %q not emulated", part, d.Name)
				}
				return AnalogOutput{dac, ch.Channel}, nil
			}
		}
	}
	return AnalogOutput{}, fmt.Errorf("sim: no dac part %q in the board config", part)
}

var _ hal.Host = (*Board)(nil)

// HasSPI implements hal.Names: SPI0.0, SPI0.1, SPI1.0..SPI1.2 (also as
// /dev/spidevB.C).
func (b *Board) HasSPI(name string) bool { return b.ports[canonPort(name)] != nil }

// PinNames implements hal.PinLister: GPIO0..GPIO27.
func (b *Board) PinNames() []string {
	names := make([]string, 0, len(b.pins))
	for n := range b.pins {
		names = append(names, n)
	}
	return names
}

var (
	_ hal.Names     = (*Board)(nil)
	_ hal.PinLister = (*Board)(nil)
)

// PortNames lists the emulated board's SPI ports.
func PortNames() []string { return append([]string(nil), portNames...) }

// SetChip puts chip c on the SPI port called name (an emulated part that
// hal's config does not describe, such as the APU the daemon's backend
// section places on the bus). Call it before hal.Open connects the port.
func (b *Board) SetChip(name string, c Chip) error {
	p := b.ports[canonPort(name)]
	if p == nil {
		return fmt.Errorf("sim: no SPI port %q (have %s)", name, strings.Join(portNames, ", "))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chip != nil {
		return fmt.Errorf("sim: %s: a chip is on the port already", name)
	}
	if p.connected {
		return fmt.Errorf("sim: %s: the port is connected already", name)
	}
	p.chip = c
	return nil
}
