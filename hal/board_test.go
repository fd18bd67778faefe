package hal

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// fakeHost is a Host made of periph's own test doubles.
type fakeHost struct {
	pins   map[string]gpio.PinIO
	ports  map[string]*fakePort
	opened []string
}

func (h *fakeHost) PinByName(name string) gpio.PinIO {
	if p, ok := h.pins[name]; ok {
		return p
	}
	return nil
}

func (h *fakeHost) OpenSPI(name string) (spi.PortCloser, error) {
	p, ok := h.ports[name]
	if !ok {
		return nil, fmt.Errorf("no port %q", name)
	}
	h.opened = append(h.opened, name)
	return p, nil
}

// fakePort wraps a spitest.Playback to remember how it was connected and
// whether it was closed.
type fakePort struct {
	*spitest.Playback
	freq   physic.Frequency
	mode   spi.Mode
	bits   int
	closed int
}

func (p *fakePort) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	p.freq, p.mode, p.bits = f, m, bits
	return p.Playback.Connect(f, m, bits)
}

func (p *fakePort) Close() error {
	p.closed++
	return p.Playback.Close()
}

func newPort(ops ...conntest.IO) *fakePort {
	return &fakePort{Playback: &spitest.Playback{Playback: conntest.Playback{Ops: ops, D: conn.Full, DontPanic: true}}}
}

func pin(name string) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level, 4)}
}

// testConfig uses every kind of part.
func testConfig() Config {
	return Config{
		Driver: DriverSim,
		Outputs: []OutputConfig{
			{Name: "led", Pin: "GPIO17"},
			{Name: "brake_n", Pin: "GPIO27", Safe: "high"},
		},
		Inputs: []InputConfig{
			{Name: "bumper", Pin: "GPIO22", Pull: "up", Edge: "falling"},
			{Name: "mode", Pin: "GPIO23"},
		},
		PWM: []PWMConfig{
			{Name: "motor_left", Pin: "GPIO12", FrequencyHz: 1000, SafeDuty: 0},
			{Name: "servo", Pin: "GPIO13", FrequencyHz: 50, SafeDuty: 0.075},
		},
		ADCs: []ADCConfig{{
			Name: "adc0", Chip: "mcp3008", Port: "SPI0.0", SpeedHz: 1_000_000, Mode: 0, VRef: 3.3,
			Channels: []ADCChannelConfig{
				{Name: "light_left", Channel: 0},
				{Name: "light_diff", Channel: 3, Differential: true},
			},
		}},
		DACs: []DACConfig{{
			Name: "dac0", Chip: "mcp4922", Port: "SPI0.1", SpeedHz: 10_000_000, Mode: 3, VRef: 2.5,
			Channels: []DACChannelConfig{
				{Name: "bias", Channel: 0, Gain: 1, SafeVolts: 1.25},
				{Name: "drive", Channel: 1, Gain: 2, Buffered: true, HaltShutdown: true},
			},
		}},
	}
}

// Halt writes these two DAC words: bias 1.25 V = code 2048 on A, 1x,
// active (0x3800); drive shut down on B, buffered, 2x (0xC000).
var haltDAC = []conntest.IO{{W: []byte{0x38, 0x00}}, {W: []byte{0xC0, 0x00}}}

func testHost(dacOps ...conntest.IO) (*fakeHost, map[string]*gpiotest.Pin) {
	pins := map[string]*gpiotest.Pin{}
	h := &fakeHost{pins: map[string]gpio.PinIO{}, ports: map[string]*fakePort{}}
	for _, n := range []string{"GPIO12", "GPIO13", "GPIO17", "GPIO22", "GPIO23", "GPIO27"} {
		pins[n] = pin(n)
		h.pins[n] = pins[n]
	}
	h.ports["SPI0.0"] = newPort()
	h.ports["SPI0.1"] = newPort(dacOps...)
	return h, pins
}

// fieldErrors flattens a joined error into its FieldErrors.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}

func TestOpenSetsSafeStateAndConnects(t *testing.T) {
	// Safe state written at open and again by Close.
	h, pins := testHost(append(append([]conntest.IO{}, haltDAC...), haltDAC...)...)
	pins["GPIO17"].L = gpio.High // must be driven low at open
	b, err := Open(testConfig(), h)
	if err != nil {
		t.Fatal(err)
	}
	if pins["GPIO17"].L != gpio.Low || pins["GPIO27"].L != gpio.High {
		t.Errorf("outputs at open: led %v, brake_n %v; want Low, High", pins["GPIO17"].L, pins["GPIO27"].L)
	}
	if d, f := pins["GPIO13"].D, pins["GPIO13"].F; d != gpio.Duty(math.Round(0.075*float64(gpio.DutyMax))) || f != 50*physic.Hertz {
		t.Errorf("servo at open: duty %v freq %v", d, f)
	}
	if pins["GPIO22"].P != gpio.PullUp {
		t.Errorf("bumper pull = %v", pins["GPIO22"].P)
	}
	adc, dac := h.ports["SPI0.0"], h.ports["SPI0.1"]
	if adc.freq != physic.MegaHertz || adc.mode != spi.Mode0 || adc.bits != 8 {
		t.Errorf("adc connected at %v mode %v bits %d", adc.freq, adc.mode, adc.bits)
	}
	if dac.freq != 10*physic.MegaHertz || dac.mode != spi.Mode3 {
		t.Errorf("dac connected at %v mode %v", dac.freq, dac.mode)
	}
	if dac.Count != 2 {
		t.Errorf("%d DAC writes at open, want 2", dac.Count)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if adc.closed != 1 || dac.closed != 1 {
		t.Errorf("ports closed %d, %d times", adc.closed, dac.closed)
	}
}

func TestParts(t *testing.T) {
	h, pins := testHost(haltDAC...)
	cfg := testConfig()
	b, err := Open(cfg, h)
	if err != nil {
		t.Fatal(err)
	}

	led, err := b.DigitalOut("led")
	if err != nil {
		t.Fatal(err)
	}
	if err := led.Out(gpio.High); err != nil || pins["GPIO17"].L != gpio.High {
		t.Errorf("led.Out(High): %v, pin %v", err, pins["GPIO17"].L)
	}

	m, _ := b.PWM("motor_left")
	if err := m.SetDuty(gpio.DutyHalf); err != nil {
		t.Fatal(err)
	}
	if pins["GPIO12"].D != gpio.DutyHalf || pins["GPIO12"].F != physic.KiloHertz || m.Duty() != gpio.DutyHalf {
		t.Errorf("pwm pin duty %v freq %v", pins["GPIO12"].D, pins["GPIO12"].F)
	}
	for _, d := range []gpio.Duty{-1, gpio.DutyMax + 1} {
		if err := m.SetDuty(d); !errors.Is(err, ErrDuty) {
			t.Errorf("SetDuty(%d) = %v", d, err)
		}
	}
	if err := m.SetFraction(1.5); !errors.Is(err, ErrDuty) {
		t.Errorf("SetFraction(1.5) = %v", err)
	}
	if pins["GPIO12"].D != gpio.DutyHalf {
		t.Error("a rejected duty changed the pin")
	}

	bump, _ := b.DigitalIn("bumper")
	if bump.Read() != gpio.High {
		t.Error("pulled-up input reads low")
	}
	if bump.Edge() {
		t.Error("edge reported before any")
	}
	pins["GPIO22"].EdgesChan <- gpio.Low
	if !bump.Edge() {
		t.Error("edge not reported")
	}
	if bump.Read() != gpio.Low {
		t.Error("level after falling edge not low")
	}
	mode, _ := b.DigitalIn("mode")
	pins["GPIO23"].EdgesChan <- gpio.High
	if mode.Edge() || mode.WaitForEdge(0) {
		t.Error("input without edge detection reported an edge")
	}

	// ADC: the conversion frames are checked byte for byte by the
	// playback; answers are 0x2A5 on ch0 and 0x100 on the 3-2 pair.
	adcPort := h.ports["SPI0.0"]
	adcPort.Ops = append(adcPort.Ops,
		conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0xFF, 0xFA, 0xA5}},
		conntest.IO{W: []byte{0x01, 0x30, 0x00}, R: []byte{0x00, 0x01, 0x00}},
	)
	ll, _ := b.ADC("light_left")
	s, err := ll.Read()
	if err != nil || s.Raw != 0x2A5 || math.Abs(s.Volts-float64(0x2A5)*3.3/1024) > 1e-12 {
		t.Errorf("light_left = %+v, %v", s, err)
	}
	ld, _ := b.ADC("light_diff")
	if s, err := ld.Read(); err != nil || s.Raw != 256 {
		t.Errorf("light_diff = %+v, %v", s, err)
	}
	if ll.Bits() != 10 || ll.VRef() != 3.3 {
		t.Errorf("bits %d vref %v", ll.Bits(), ll.VRef())
	}
	// The playback is now empty: the next read fails and names the part.
	if _, err := ll.Read(); err == nil || !strings.Contains(err.Error(), `"light_left"`) {
		t.Errorf("read past script: %v", err)
	}

	// DAC: 2.0 V on "drive" (vref 2.5, gain 2): code round(2/5*4096) =
	// 1638 = 0x666, B, buffered, 2x, active -> 0xD666.
	dacPort := h.ports["SPI0.1"]
	dacPort.Ops = append(dacPort.Ops, conntest.IO{W: []byte{0xD6, 0x66}})
	drive, _ := b.DAC("drive")
	if err := drive.SetVolts(2.0); err != nil {
		t.Fatal(err)
	}
	if err := drive.SetVolts(5.0); !errors.Is(err, ErrRange) || !strings.Contains(err.Error(), "volts: must be 0..4.999 V (vref 2.5 V x gain 2), got 5 V") {
		t.Errorf("5 V on a 0..4.999 V channel: %v, want an ErrRange naming both", err)
	}
	if dacPort.Count != len(dacPort.Ops) {
		t.Errorf("DAC writes %d, scripted %d", dacPort.Count, len(dacPort.Ops))
	}

	for _, kind := range []func() error{
		func() error { _, err := b.DigitalOut("nope"); return err },
		func() error { _, err := b.DigitalIn("led"); return err },
		func() error { _, err := b.PWM("nope"); return err },
		func() error { _, err := b.ADC("nope"); return err },
		func() error { _, err := b.DAC("nope"); return err },
	} {
		if err := kind(); !errors.Is(err, ErrUnknownPart) {
			t.Errorf("lookup of a missing part: %v", err)
		}
	}
	if got := len(b.Parts()); got != 10 {
		t.Errorf("Parts() has %d entries, want 10", got)
	}
}

func TestHaltTwice(t *testing.T) {
	// Open writes the DAC safe state once, then Halt twice, then Close.
	var ops []conntest.IO
	for i := 0; i < 4; i++ {
		ops = append(ops, haltDAC...)
	}
	h, pins := testHost(ops...)
	b, err := Open(testConfig(), h)
	if err != nil {
		t.Fatal(err)
	}
	led, _ := b.DigitalOut("led")
	brake, _ := b.DigitalOut("brake_n")
	m, _ := b.PWM("motor_left")
	servo, _ := b.PWM("servo")
	_ = led.Out(gpio.High)
	_ = brake.Out(gpio.Low)
	_ = m.SetDuty(gpio.DutyMax)
	_ = servo.SetDuty(gpio.DutyMax / 10)
	for i := 0; i < 2; i++ {
		if err := b.Halt(); err != nil {
			t.Fatalf("Halt #%d: %v", i+1, err)
		}
		if pins["GPIO17"].L != gpio.Low || pins["GPIO27"].L != gpio.High {
			t.Errorf("Halt #%d: led %v brake_n %v", i+1, pins["GPIO17"].L, pins["GPIO27"].L)
		}
		if pins["GPIO12"].D != 0 || pins["GPIO13"].D != servo.SafeDuty() || pins["GPIO13"].F != 50*physic.Hertz {
			t.Errorf("Halt #%d: duties %v %v", i+1, pins["GPIO12"].D, pins["GPIO13"].D)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err) // the playback's Close checks every DAC word was sent
	}
}

// failPin is a gpiotest pin whose Out and PWM fail.
type failPin struct{ *gpiotest.Pin }

var errStuck = errors.New("stuck")

func (failPin) Out(gpio.Level) error                  { return errStuck }
func (failPin) PWM(gpio.Duty, physic.Frequency) error { return errStuck }

func TestHaltTriesEveryPart(t *testing.T) {
	ops := append(append([]conntest.IO{}, haltDAC...), haltDAC...)
	h, pins := testHost(ops...)
	b, err := Open(testConfig(), h)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := b.PWM("motor_left")
	_ = m.SetDuty(gpio.DutyMax)
	led, _ := b.DigitalOut("led")
	_ = led.Out(gpio.High)
	// The led's pin breaks after open.
	led.p = failPin{pins["GPIO17"]}
	err = b.Halt()
	if !errors.Is(err, errStuck) || !strings.Contains(err.Error(), `"led"`) {
		t.Errorf("Halt error = %v; want the stuck led named", err)
	}
	if pins["GPIO12"].D != 0 {
		t.Error("a failing output stopped Halt before the PWM")
	}
	if h.ports["SPI0.1"].Count != 4 {
		t.Errorf("DAC halt words sent: %d, want 4", h.ports["SPI0.1"].Count)
	}
}

func TestOpenFailsIfSafeStateFails(t *testing.T) {
	h, pins := testHost(haltDAC...)
	h.pins["GPIO12"] = failPin{pins["GPIO12"]}
	if _, err := Open(testConfig(), h); !errors.Is(err, errStuck) {
		t.Errorf("Open with a stuck PWM pin: %v", err)
	}
	for n, p := range h.ports {
		if p.closed != 1 {
			t.Errorf("port %s closed %d times after failed open", n, p.closed)
		}
	}
}

func TestClose(t *testing.T) {
	h, _ := testHost(append(append([]conntest.IO{}, haltDAC...), haltDAC...)...)
	b, err := Open(testConfig(), h)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Halt(); err != nil {
		t.Errorf("Halt after Close: %v", err)
	}
	led, _ := b.DigitalOut("led")
	m, _ := b.PWM("motor_left")
	a, _ := b.ADC("light_left")
	d, _ := b.DAC("bias")
	in, _ := b.DigitalIn("bumper")
	if err := led.Out(gpio.High); !errors.Is(err, ErrClosed) {
		t.Errorf("Out after Close: %v", err)
	}
	if err := m.SetDuty(1); !errors.Is(err, ErrClosed) {
		t.Errorf("SetDuty after Close: %v", err)
	}
	if _, err := a.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("ADC read after Close: %v", err)
	}
	if err := d.SetCode(1); !errors.Is(err, ErrClosed) {
		t.Errorf("DAC write after Close: %v", err)
	}
	if in.Edge() || in.Read() != gpio.Low {
		t.Error("input live after Close")
	}
	if h.ports["SPI0.0"].closed != 1 || h.ports["SPI0.1"].closed != 1 {
		t.Error("ports not closed exactly once")
	}
}

func TestOpenUnknownNames(t *testing.T) {
	cfg := testConfig()
	cfg.Outputs = append(cfg.Outputs, OutputConfig{Name: "x", Pin: "GPIO99"})
	cfg.DACs[0].Port = "SPI9.9"
	h, pins := testHost()
	pins["GPIO17"].L = gpio.High
	_, err := Open(cfg, h)
	if err == nil {
		t.Fatal("opened with unknown pin and port")
	}
	fes := fieldErrors(err)
	if len(fes) != 2 {
		t.Fatalf("want 2 field errors, got %v", err)
	}
	if got := fes[0].Error(); got != `board.outputs[2].pin: must be a pin of this host, got "GPIO99"` {
		t.Errorf("pin error = %q", got)
	}
	if fes[1].Field != "board.dacs[0].port" || !errors.Is(fes[1], ErrNotFound) || !strings.Contains(fes[1].Error(), `"SPI9.9"`) {
		t.Errorf("port error = %v", fes[1])
	}
	// Nothing touched, and the port that did open was closed again.
	if pins["GPIO17"].L != gpio.High {
		t.Error("a pin was driven although open failed")
	}
	if h.ports["SPI0.0"].closed != 1 {
		t.Error("SPI0.0 left open after failed open")
	}
}

// alias is a pin registered under a second name, as periph's gpioreg
// aliases are.
type alias struct {
	gpio.PinIO
	name string
}

func (a *alias) Name() string     { return a.name }
func (a *alias) Real() gpio.PinIO { return a.PinIO }

func TestOpenRejectsAliasOfUsedPin(t *testing.T) {
	cfg := testConfig()
	cfg.Outputs[1].Pin = "P1_32" // the header name of GPIO12, used by pwm[0]
	h, pins := testHost()
	h.pins["P1_32"] = &alias{PinIO: pins["GPIO12"], name: "P1_32"}
	_, err := Open(cfg, h)
	fes := fieldErrors(err)
	if len(fes) != 1 || fes[0].Field != "board.pwm[0].pin" || !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `"GPIO12" is pin GPIO12, already used by board.outputs[1].pin`) {
		t.Errorf("message: %v", err)
	}
}
