package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/spikeloop/spikeloop/hal"
)

func TestPin(t *testing.T) {
	p := NewPin("GPIO4", 4)
	if err := p.In(gpio.PullUp, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.High || p.Pull() != gpio.PullUp {
		t.Error("pull-up input does not read high")
	}
	if p.WaitForEdge(0) {
		t.Error("edge before any")
	}
	p.Drive(gpio.Low)  // falling: not counted
	p.Drive(gpio.High) // rising
	p.Drive(gpio.Low)
	p.Drive(gpio.High) // rising, merges with the pending one
	if p.Edges() != 2 {
		t.Errorf("rising edges counted %d, want 2", p.Edges())
	}
	if !p.WaitForEdge(0) || p.WaitForEdge(0) {
		t.Error("want exactly one pending edge (edges merge)")
	}
	// A positive timeout waits for an edge made on another goroutine.
	go func() { time.Sleep(time.Millisecond); p.Drive(gpio.Low); p.Drive(gpio.High) }()
	if !p.WaitForEdge(5 * time.Second) {
		t.Error("edge from another goroutine not seen")
	}
	if p.WaitForEdge(time.Millisecond) {
		t.Error("timeout reported an edge")
	}

	if err := p.PWM(gpio.DutyMax/4, 0); err != nil {
		t.Fatal(err)
	}
	if p.Duty() != 0.25 || p.Frequency() != physic.KiloHertz || p.Function() != FuncPWM {
		t.Errorf("PWM: duty %v freq %v func %q", p.Duty(), p.Frequency(), p.Function())
	}
	if p.Drive(gpio.Low) {
		t.Error("plant drove a pin the board drives")
	}
	if err := p.Out(gpio.High); err != nil || p.Duty() != 1 || p.Frequency() != 0 {
		t.Errorf("Out(High): duty %v, %v", p.Duty(), err)
	}
	if err := p.PWM(gpio.DutyMax+1, 0); err == nil || !strings.Contains(err.Error(), "duty: must be 0..16777216, got 16777217") {
		t.Errorf("invalid duty: %v", err)
	}
	boom := errors.New("boom")
	p.Fail(boom)
	if err := p.Out(gpio.Low); !errors.Is(err, boom) {
		t.Errorf("failing pin: %v", err)
	}
	if p.Writes() != 2 {
		t.Errorf("writes %d, want 2", p.Writes())
	}
}

func TestOpenUnknownNames(t *testing.T) {
	cfg := DemoConfig()
	cfg.PWM[1].Pin = "GPIO99"
	cfg.ADCs[0].Port = "SPI7.0"
	_, _, err := Open(cfg, nil)
	if err == nil {
		t.Fatal("opened")
	}
	msg := err.Error()
	for _, want := range []string{`board.pwm[1].pin: must be a pin of this host`, `got "GPIO99"`, `board.adcs[0].port: must be an SPI port of this host, got "SPI7.0"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// The Linux device name of a port works too.
	cfg = DemoConfig()
	cfg.ADCs[0].Port = "/dev/spidev0.0"
	if _, hb, err := Open(cfg, nil); err != nil {
		t.Error(err)
	} else {
		_ = hb.Close()
	}
	// A speed the emulated chip cannot do (above its datasheet maximum
	// but allowed by a hand-made config skipping Validate) is refused at
	// Connect; here via the mode, which Validate also checks.
	cfg = DemoConfig()
	cfg.ADCs[0].Mode = 1
	if _, _, err := Open(cfg, nil); err == nil || !strings.Contains(err.Error(), "board.adcs[0].mode") {
		t.Errorf("mode 1: %v", err)
	}
}

// TestNoAllocs checks the tick loop's calls on the emulated board: an
// ADC read through the MCP3008 driver, a PWM write, a digital write and
// read, and a plant step.
func TestNoAllocs(t *testing.T) {
	v, _ := NewVehicle(DefaultVehicle())
	cfg := DemoConfig()
	cfg.Outputs = []hal.OutputConfig{{Name: "led", Pin: "GPIO17"}}
	cfg.Inputs = []hal.InputConfig{{Name: "bumper", Pin: "GPIO27", Edge: "both"}}
	cfg.DACs = []hal.DACConfig{{Name: "dac0", Chip: "mcp4922", Port: "SPI0.1", SpeedHz: 1_000_000, VRef: 3.3,
		Channels: []hal.DACChannelConfig{{Name: "bias", Channel: 0}}}}
	sb, hb, err := Open(cfg, v)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	adc, _ := hb.ADC("light_left")
	pwm, _ := hb.PWM("motor_left")
	led, _ := hb.DigitalOut("led")
	in, _ := hb.DigitalIn("bumper")
	dac, _ := hb.DAC("bias")
	cases := []struct {
		name string
		f    func()
	}{
		{"adc read", func() {
			if _, err := adc.Read(); err != nil {
				t.Fatal(err)
			}
		}},
		{"pwm write", func() {
			if err := pwm.SetDuty(gpio.DutyHalf); err != nil {
				t.Fatal(err)
			}
		}},
		{"digital out", func() { _ = led.Out(gpio.High) }},
		{"digital in", func() { _ = in.Read(); _ = in.Edge() }},
		{"dac write", func() { _ = dac.SetVolts(1.2) }},
		{"advance 1 ms", func() { _ = sb.Advance(time.Millisecond) }},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(1000, c.f); n != 0 {
			t.Errorf("%s: %v allocs per call", c.name, n)
		}
	}
}

// TestYAMLBoard decodes a board section the way the daemon does (strict
// go.yaml.in/yaml/v3) and opens it on the emulated board.
func TestYAMLBoard(t *testing.T) {
	const doc = `
board:
  driver: sim
  outputs:
    - {name: led, pin: GPIO17, safe: low}
  inputs:
    - {name: bumper, pin: GPIO27, pull: up, edge: falling}
  pwm:
    - {name: motor_left, pin: GPIO12, frequency_hz: 1000, safe_duty: 0}
    - {name: motor_right, pin: GPIO13, frequency_hz: 1000}
  adcs:
    - name: adc0
      chip: mcp3008
      port: SPI0.0
      speed_hz: 1000000
      mode: 0
      vref: 3.3
      channels:
        - {name: light_left, channel: 0}
        - {name: light_right, channel: 1}
        - {name: bridge, channel: 2, differential: true}
  dacs:
    - name: dac0
      chip: mcp4922
      port: SPI0.1
      speed_hz: 10000000
      vref: 2.5
      channels:
        - {name: bias, channel: 0, gain: 2, buffered: true, safe_volts: 1.0}
        - {name: spare, channel: 1, halt_shutdown: true}
`
	var top struct {
		Board hal.Config `yaml:"board"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&top); err != nil {
		t.Fatal(err)
	}
	v, _ := NewVehicle(DefaultVehicle())
	sb, hb, err := Open(top.Board, v)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	if n := len(hb.Parts()); n != 9 {
		t.Errorf("%d parts, want 9", n)
	}
	bias, _ := sb.AnalogOutput("bias")
	if st := bias.State(); st.Gain != 2 || !st.Buffered || st.Code != 819 {
		t.Errorf("bias at open: %+v", st)
	}
	if sb.Pin("GPIO27").Read() != gpio.High {
		t.Error("bumper pull-up not applied")
	}
	bumper, _ := hb.DigitalIn("bumper")
	sb.Pin("GPIO27").Drive(gpio.Low) // the bumper closes: falling edge
	if !bumper.Edge() || bumper.Edge() || bumper.Read() != gpio.Low {
		t.Error("falling edge not seen exactly once through hal")
	}
	sb.Pin("GPIO27").Drive(gpio.High) // rising: not configured
	if bumper.Edge() {
		t.Error("rising edge reported on a falling-edge input")
	}

	// A misspelt field is rejected by the strict decoder.
	dec = yaml.NewDecoder(strings.NewReader("board:\n  driver: sim\n  pwm:\n    - {name: m, pin: GPIO12, frequency: 1000}\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&top); err == nil || !strings.Contains(err.Error(), "frequency") {
		t.Errorf("unknown field accepted: %v", err)
	}
}

func TestAdvance(t *testing.T) {
	sb := New(DemoConfig())
	if err := sb.Advance(-time.Second); err == nil || err.Error() != "sim: Advance: step: must be >= 0, got -1s" {
		t.Errorf("negative step: %v", err)
	}
	if err := sb.Advance(time.Second); err != nil || sb.Now() != time.Second {
		t.Errorf("Advance without plant: %v, now %v", err, sb.Now())
	}
	v, _ := NewVehicle(DefaultVehicle())
	if err := sb.Attach(v); err != nil {
		t.Fatal(err)
	}
	if err := sb.Attach(v); err == nil {
		t.Error("second plant attached")
	}
}

// Benchmarks of the tick loop's calls on the emulated board, for the
// README's figures.
func BenchmarkADCRead(b *testing.B) {
	_, hb, err := Open(DemoConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer hb.Close()
	a, _ := hb.ADC("light_left")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPWMWrite(b *testing.B) {
	_, hb, err := Open(DemoConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer hb.Close()
	p, _ := hb.PWM("motor_left")
	b.ReportAllocs()
	for b.Loop() {
		if err := p.SetDuty(gpio.DutyHalf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVehicleAdvance1ms(b *testing.B) {
	vc := DefaultVehicle()
	vc.Arena = 0
	v, _ := NewVehicle(vc)
	sb, hb, err := Open(DemoConfig(), v)
	if err != nil {
		b.Fatal(err)
	}
	defer hb.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = sb.Advance(time.Millisecond)
	}
}
