package daemon

import (
	"context"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/io/actuator"
)

// partsConfig wires every kind of part through the daemon on the
// emulated board: a digital input (button) as a current input, a pulse
// output on a GPIO (led) and a vector output on an MCP4922 channel.
const partsConfig = `board:
  driver: sim
  outputs:
    - {name: led, pin: GPIO5}
  inputs:
    - {name: button, pin: GPIO6}
  dacs:
    - name: dac0
      chip: mcp4922
      port: SPI0.1
      speed_hz: 1000000
      vref: 3.3
      channels:
        - {name: bias, channel: 0, safe_volts: 0.25}
network: braitenberg.yaml
tick: 1ms
inputs:
  - {name: press, part: button, population: eye_left, encoder: current, gain: 3000, max: 3000}
outputs:
  - {name: blink, part: led, population: motor_right, decoder: pulse, width: 2ms}
  - {name: level, part: bias, population: motor_left, decoder: vector, window: 20ms, from: 0, to: 3, safe: 0.5}
`

func TestEveryPartKind(t *testing.T) {
	cfg, err := Parse([]byte(partsConfig), "parts.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	var ledHigh, pressed bool
	var volts float64
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 600, SummaryEvery: -1,
		AfterTick: func(d *Daemon, k int64) {
			sb := d.SimBoard()
			if k == 100 {
				// Press the button: the left eye's current makes the
				// right motor population fire, which blinks the led.
				sb.Pin("GPIO6").Drive(gpio.High)
			}
			if k == 101 {
				pressed = d.Inputs()[0].Value() == 1
			}
			if k > 150 && sb.Pin("GPIO5").Read() == gpio.High {
				ledHigh = true
			}
			if k == 599 {
				out, _ := sb.AnalogOutput("bias")
				volts = out.Volts()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !pressed {
		t.Error("the button's level did not reach the input as 1")
	}
	if !ledHigh {
		t.Error("the led never pulsed")
	}
	if p := d.Decoder("blink").(*actuator.Pulse); p.Pulses() == 0 {
		t.Error("no pulses counted")
	}
	// Five identical units spread over 0..3 V fire alike: the vector is
	// their mean preferred value, about 1.5 V (one 12-bit step is 0.8 mV).
	if math.Abs(volts-1.5) > 0.3 {
		t.Errorf("DAC at %.3f V, want about 1.5 V", volts)
	}
	// After the stop: led at its safe level, DAC at the output's safe
	// volts, then the board's Halt sets the channel's own safe volts.
	out, _ := d.SimBoard().AnalogOutput("bias")
	if got := out.Volts(); math.Abs(got-0.25) > 0.002 {
		t.Errorf("DAC after stop %.4f V, want the board's safe 0.25 V", got)
	}
	if d.SimBoard().Pin("GPIO5").Read() != gpio.Low {
		t.Error("led not low after stop")
	}
}

func TestPartsConfigErrors(t *testing.T) {
	text := strings.Replace(partsConfig, "decoder: vector", "decoder: rate", 1)
	_, err := Parse([]byte(text), "parts.yaml", demoNetwork)
	if err == nil || !strings.Contains(err.Error(), `outputs[1].part: must be a pwm output, got "bias" (a dac channel)`) {
		t.Errorf("got %v", err)
	}
}
