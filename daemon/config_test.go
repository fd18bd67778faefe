package daemon

import (
	"errors"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/hal"
)

// base is a valid config on the demo network; the cases below break one
// thing each. Line numbers in the messages refer to this text after the
// case's replacement.
const base = `board:
  driver: sim
  outputs:
    - {name: led, pin: GPIO5}
  inputs:
    - {name: button, pin: GPIO6}
  pwm:
    - {name: motor_left, pin: GPIO12, frequency_hz: 1000}
    - {name: motor_right, pin: GPIO13, frequency_hz: 1000}
  adcs:
    - name: adc0
      chip: mcp3008
      port: SPI0.0
      speed_hz: 1000000
      vref: 3.3
      channels:
        - {name: light_left, channel: 0}
        - {name: light_right, channel: 1}
network: braitenberg.yaml
tick: 1ms
stale_ticks: 5
inputs:
  - name: left_eye
    part: light_left
    population: eye_left
    encoder: current
    gain: 2000
    max: 6000
  - name: right_eye
    part: light_right
    population: eye_right
    encoder: current
    gain: 2000
    max: 6000
outputs:
  - name: left_wheel
    part: motor_left
    population: motor_left
    decoder: rate
    window: 50ms
    gain: 0.004
  - name: blink
    part: led
    population: motor_right
    decoder: pulse
    width: 3ms
logging: {level: info, format: json}
`

func parse(text string) (*Config, error) {
	_, net := DemoFiles()
	return Parse([]byte(text), "test.yaml", net)
}

func TestBaseConfigValid(t *testing.T) {
	c, err := parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.StepsPerTick() != 10 || c.TickDuration().String() != "1ms" {
		t.Errorf("steps %d tick %v", c.StepsPerTick(), c.TickDuration())
	}
	if _, err := DemoConfig(); err != nil {
		t.Errorf("demo config: %v", err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	cases := []struct {
		name     string
		old, new string // replace old by new in base ("" old: append new)
		want     string // the whole message, or a part of it
		sentinel error
	}{
		{"unknown top-level field", "stale_ticks: 5", "stale_tick: 5",
			`test.yaml:21: stale_tick: unknown field; did you mean "stale_ticks"? fields of the config: board, plant, network, backend, tick, stale_ticks, inputs, outputs, logging, realtime, telemetry`, ErrUnknown},
		{"unknown field, a longer name", "stale_ticks: 5", "tick_rate: 5",
			`test.yaml:21: tick_rate: unknown field; did you mean "tick"? fields of the config: board,`, ErrUnknown},
		{"unknown input field", "    gain: 2000\n    max: 6000\n  - name: right_eye", "    gian: 2000\n    max: 6000\n  - name: right_eye",
			`test.yaml:27: inputs[0].gian: unknown field; did you mean "gain"? fields of inputs[0]: name, part, population, encoder, gain, offset,`, ErrUnknown},
		{"unknown output field", "width: 3ms", "widht: 3ms",
			`test.yaml:46: outputs[1].widht: unknown field; did you mean "width"? fields of outputs[1]: name, part, population, decoder, width, window,`, ErrUnknown},
		{"unknown board field", "  driver: sim", "  driver: sim\n  pwms: []",
			`test.yaml:3: board.pwms: unknown field; did you mean "pwm"? fields of board: driver, outputs, inputs, pwm, adcs, dacs`, ErrUnknown},
		{"unknown board part field", "pin: GPIO12, frequency_hz: 1000}", "pin: GPIO12, freq_hz: 1000}",
			`test.yaml:8: board.pwm[0].freq_hz: unknown field; did you mean "frequency_hz"? fields of board.pwm[0]: name, pin, frequency_hz, safe_duty`, ErrUnknown},
		{"unknown adc channel field", "{name: light_left, channel: 0}", "{name: light_left, chanel: 0}",
			`test.yaml:17: board.adcs[0].channels[0].chanel: unknown field; did you mean "channel"?`, ErrUnknown},
		{"unknown realtime field", "logging:", "realtime: {prio: 5}\nlogging:",
			`test.yaml:47: realtime.prio: unknown field; did you mean "priority"? fields of realtime: cpu, priority, spin`, ErrUnknown},
		{"unknown logging field", "format: json}", "fmt: json}",
			`test.yaml:47: logging.fmt: unknown field; did you mean "format"? fields of logging: level, format`, ErrUnknown},
		{"unknown plant field", "network:", "plant:\n  vehicle: {wheelbase: 0.1}\nnetwork:",
			`test.yaml:20: plant.vehicle.wheelbase: unknown field; did you mean "wheel_base"? fields of plant.vehicle: left_motor,`, ErrUnknown},
		{"unknown telemetry field", "logging:", "telemetry:\n  metrics: {listn: \"127.0.0.1:0\"}\nlogging:",
			`test.yaml:48: telemetry.metrics.listn: unknown field; did you mean "listen"? fields of telemetry.metrics: listen, allow_non_loopback`, ErrUnknown},
		{"unknown backend", "stale_ticks: 5", "stale_ticks: 5\nbackend: gpu",
			`test.yaml:22: backend: "gpu": not a backend; the backends are apu, cpu, cpu-again`, ErrInvalid},
		{"wrong type", "stale_ticks: 5", "stale_ticks: five",
			`test.yaml:21: stale_ticks: must be a whole number, got "five"`, ErrType},
		{"wrong type in a flow mapping", "frequency_hz: 1000}\n    - {name: motor_right", "frequency_hz: fast}\n    - {name: motor_right",
			`test.yaml:8: board.pwm[0].frequency_hz: must be a number, got "fast"`, ErrType},
		{"a list where a mapping goes", "logging: {level: info, format: json}", "logging: [info]",
			`test.yaml:47: logging: must be a mapping with level, format, got a list`, ErrType},
		{"yaml syntax", "tick: 1ms", "tick: [1ms",
			"test.yaml:19: not valid YAML: did not find expected ',' or ']'", ErrType},
		{"bad pin", "pin: GPIO12", "pin: GPIO99",
			`test.yaml:8: board.pwm[0].pin: must be a pin of this host (GPIO0..GPIO27), got "GPIO99"`, hal.ErrNotFound},
		{"bad spi port", "port: SPI0.0", "port: SPI3.0",
			`test.yaml:13: board.adcs[0].port: must be an SPI port of this host, got "SPI3.0"`, hal.ErrNotFound},
		{"missing network file", "network: braitenberg.yaml", "network: nosuch.yaml",
			`test.yaml:19: network: "nosuch.yaml": no such file (looked for nosuch.yaml)`, ErrNotFound},
		{"empty", base, "", "test.yaml: the config: must be a mapping with board, plant, network, backend, tick, stale_ticks, inputs, outputs, logging, realtime, telemetry, got an empty file", nil},
		{"tick missing", "tick: 1ms\n", "",
			`test.yaml: tick: must be a duration such as "1ms", got nothing`, ErrRequired},
		{"tick not a duration", "tick: 1ms", "tick: 1 ms",
			`test.yaml:20: tick: must be a positive duration such as "1ms", got "1 ms"`, ErrInvalid},
		{"tick not whole steps", "tick: 1ms", "tick: 250us",
			"test.yaml:20: tick: must be a whole number >= 1 of network steps (dt 0.1 ms), got 250µs (2.5 steps)", ErrMismatch},
		{"tick below dt", "tick: 1ms", "tick: 50us",
			"test.yaml:20: tick: must be a whole number >= 1 of network steps (dt 0.1 ms), got 50µs (0.5 steps)", ErrMismatch},
		{"tick too many steps", "tick: 1ms", "tick: 1000h",
			"test.yaml:20: tick: must be at most 2147483647 network steps (dt 0.1 ms), got 1000h0m0s (3.6e+10 steps)", ErrRange},
		{"negative stale_ticks", "stale_ticks: 5", "stale_ticks: -1",
			"test.yaml:21: stale_ticks: must be >= 0, got -1", ErrRange},
		{"network missing", "network: braitenberg.yaml\n", "",
			"test.yaml: network: must be the path of a network file, got nothing", ErrRequired},
		{"unknown part", "part: light_left", "part: light_middle",
			`test.yaml:24: inputs[0].part: must be a part of the board section, got "light_middle"; did you mean "light_right"? have button, led, light_left, light_right, motor_left, motor_right`, ErrNotFound},
		{"input part of the wrong kind", "part: light_left", "part: motor_left",
			`test.yaml:24: inputs[0].part: must be an adc channel or digital input, got "motor_left" (a pwm output)`, ErrMismatch},
		{"unknown population", "population: eye_left", "population: eye_centre",
			`test.yaml:25: inputs[0].population: must be a population of braitenberg.yaml, got "eye_centre"`, ErrNotFound},
		{"encoder missing", "    encoder: current\n    gain: 2000\n    max: 6000\n  - name: right_eye", "    gain: 2000\n    max: 6000\n  - name: right_eye",
			`test.yaml:23: inputs[0].encoder: must be "current", "rate", "delta", "dc", "custom" or "file", got nothing`, ErrRequired},
		{"unknown encoder", "encoder: current\n    gain: 2000\n    max: 6000\n  - name: right_eye", "encoder: curent\n    gain: 2000\n    max: 6000\n  - name: right_eye",
			`test.yaml:26: inputs[0].encoder: must be "current", "rate", "delta", "dc", "custom" or "file", got "curent"`, ErrInvalid},
		{"rate encoder on a current transmitter", "encoder: current\n    gain: 2000\n    max: 6000\n  - name: right_eye", "encoder: rate\n    gain: 2000\n    max: 6000\n  - name: right_eye",
			`test.yaml:25: inputs[0].population: must be an InputTransmitter with inputs_type spike for the rate encoder, got "eye_left" (class InputTransmitter)`, ErrMismatch},
		{"dc encoder on a transmitter", "encoder: current\n    gain: 2000\n    max: 6000\n  - name: right_eye", "encoder: dc\n    gain: 2000\n    max: 6000\n  - name: right_eye",
			`inputs[0].population: must be a DCGenerator for the dc encoder, got "eye_left" (class InputTransmitter)`, ErrMismatch},
		{"custom encoder on a transmitter", "encoder: current\n    gain: 2000\n    max: 6000\n  - name: right_eye", "encoder: custom\n    gain: 2000\n    max: 6000\n  - name: right_eye",
			`inputs[0].population: must be a CustomGenerator for the custom encoder, got "eye_left" (class InputTransmitter)`, ErrMismatch},
		{"current on a LIF population", "population: eye_left", "population: motor_left",
			`test.yaml:25: inputs[0].population: must be an InputTransmitter with inputs_type current for the current encoder, got "motor_left" (class LIF)`, ErrMismatch},
		{"empty clamp", "    max: 6000\n  - name: right_eye", "    min: 10\n    max: 5\n  - name: right_eye",
			"test.yaml:28: inputs[0].min: must be finite and <= max (5), got 10", ErrRange},
		{"gain not finite", "    max: 6000\n  - name: right_eye", "    max: 6000\n    offset: .nan\n  - name: right_eye",
			"test.yaml:29: inputs[0].offset: must be a finite number, got NaN", ErrRange},
		{"two inputs into one population", "population: eye_right", "population: eye_left",
			`test.yaml:31: inputs[1].population: "eye_left" is already fed by inputs[0]`, ErrInvalid},
		{"duplicate input name", "name: right_eye", "name: left_eye",
			`test.yaml:29: inputs[1].name: "left_eye" is already used by inputs[0]`, ErrInvalid},
		{"output part of the wrong kind", "part: motor_left\n    population: motor_left", "part: led\n    population: motor_left",
			`test.yaml:37: outputs[0].part: must be a pwm output, got "led" (a digital output)`, ErrMismatch},
		{"window not whole ticks", "window: 50ms", "window: 2500us",
			"test.yaml:40: outputs[0].window: must be a whole number of ticks of 1ms, got 2.5ms", ErrMismatch},
		{"window too many ticks", "window: 50ms", "window: 2000000h",
			"test.yaml:40: outputs[0].window: must be at most 2147483647 ticks of 1ms, got 2000000h0m0s (7200000000000 ticks)", ErrRange},
		{"duty range", "    gain: 0.004\n", "    gain: 0.004\n    min: 0.5\n    max: 0.2\n",
			"test.yaml:42: outputs[0].min: must be 0 <= min <= max <= 1, got min 0.5, max 0.2", ErrRange},
		{"safe duty", "    gain: 0.004\n", "    gain: 0.004\n    safe: 1.5\n",
			"test.yaml:42: outputs[0].safe: must be a duty in [0, 1], got 1.5", ErrRange},
		{"unknown decoder", "decoder: pulse", "decoder: blink",
			`test.yaml:45: outputs[1].decoder: must be "pulse", "rate" or "vector", got "blink"`, ErrInvalid},
		{"pulse width not a duration", "width: 3ms", "width: three",
			`test.yaml:46: outputs[1].width: must be a positive duration such as "50ms", got "three"`, ErrInvalid},
		{"output from a current source", "population: motor_right", "population: search",
			`test.yaml:44: outputs[1].population: must be a population that emits spikes, got "search" (it emits currents)`, ErrMismatch},
		{"log level", "level: info", "level: verbose",
			`test.yaml:47: logging.level: must be "debug", "info", "warn" or "error", got "verbose"`, ErrInvalid},
		{"log format", "format: json", "format: xml",
			`test.yaml:47: logging.format: must be "auto", "console" or "json", got "xml"`, ErrInvalid},
		{"plant on periph", "driver: sim", "driver: periph",
			"", nil}, // replaced below with a plant
		{"board error with its line", "frequency_hz: 1000}\n    - {name: motor_right", "frequency_hz: 0}\n    - {name: motor_right",
			"test.yaml:8: board.pwm[0].frequency_hz: ", ErrRange}, // hal found it; daemon's sentinel classifies it
		{"board driver", "driver: sim", "driver: gpio",
			`test.yaml:2: board.driver: `, ErrInvalid},
		{"realtime cpu", "logging:", "realtime: {cpu: -1}\nlogging:",
			"test.yaml:47: realtime.cpu: must be a CPU number 0..1023, got -1", ErrRange},
		{"realtime priority", "logging:", "realtime: {priority: 120}\nlogging:",
			"test.yaml:47: realtime.priority: must be 1..99 for SCHED_FIFO, or 0, got 120", ErrRange},
		{"realtime threads", "logging:", "realtime: {threads: -2}\nlogging:",
			"test.yaml:47: realtime.threads: must be 0..64 (0 or 1: one thread), got -2", ErrRange},
		{"bad network file", "", "", "", nil}, // below
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := base
			switch c.name {
			case "plant on periph":
				text = strings.Replace(base, "network:", "plant:\n  vehicle: {seed: 1}\nnetwork:", 1)
				text = strings.Replace(text, "driver: sim", "driver: periph", 1)
				c.want = `test.yaml:19: plant: must be left out unless board.driver is "sim", got vehicle`
				c.sentinel = ErrInvalid
			case "missing network file":
				// Read from disk, not given: the file is looked for beside
				// the config.
				_, err := Parse([]byte(strings.Replace(base, c.old, c.new, 1)), "test.yaml", nil)
				if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.sentinel) || strings.Contains(err.Error(), "invalid value") {
					t.Errorf("got %v, want %q", err, c.want)
				}
				return
			case "bad network file":
				_, err := Parse([]byte(base), "test.yaml", []byte("version: 1\ndt: -1\n"))
				if err == nil || !strings.Contains(err.Error(), "test.yaml:19: network: ") || !errors.Is(err, ErrInvalid) {
					t.Errorf("got %v, want the network's error on line 19", err)
				}
				return
			default:
				if !strings.Contains(text, c.old) {
					t.Fatalf("base has no %q", c.old)
				}
				text = strings.Replace(text, c.old, c.new, 1)
			}
			_, err := parse(text)
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got\n%v\nwant it to contain\n%s", err, c.want)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("error does not wrap %v", c.sentinel)
			}
		})
	}
}

// TestAllErrorsAtOnce: a config with several problems reports all of
// them, so one edit-run cycle fixes the file.
func TestAllErrorsAtOnce(t *testing.T) {
	text := strings.Replace(base, "tick: 1ms", "tick: 0s", 1)
	text = strings.Replace(text, "part: light_left", "part: nowhere", 1)
	text = strings.Replace(text, "decoder: pulse", "decoder: nope", 1)
	text = strings.Replace(text, "pin: GPIO12", "pin: GPIO99", 1)
	text = strings.Replace(text, "stale_ticks: 5", "stale_tiks: 5", 1)
	text = strings.Replace(text, "format: json}", "format: json, colour: red}", 1)
	_, err := parse(text)
	if err == nil {
		t.Fatal("no error")
	}
	// One line each, in file order within each pass, every one with its
	// file and line.
	want := []string{
		`test.yaml:21: stale_tiks: unknown field; did you mean "stale_ticks"?`,
		`test.yaml:47: logging.colour: unknown field; fields of logging: level, format`,
		`test.yaml:8: board.pwm[0].pin: must be a pin of this host (GPIO0..GPIO27), got "GPIO99"`,
		`test.yaml:20: tick: must be a positive duration such as "1ms", got "0s"`,
		`test.yaml:24: inputs[0].part: must be a part of the board section, got "nowhere"`,
		`test.yaml:45: outputs[1].decoder: must be "pulse", "rate" or "vector", got "nope"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "test.yaml:") || strings.HasSuffix(l, ": invalid value") {
			t.Errorf("line %q: want FILE:LINE: field: message, without the sentinel's text", l)
		}
	}
}

func TestLineOf(t *testing.T) {
	c, err := parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]int{
		"board":                     1,
		"board.pwm[1].pin":          9,
		"inputs[1].gain":            33,
		"inputs[1].missing":         29, // the item's line
		"outputs[5].part":           35, // the list's key
		"board.adcs[0].channels[1]": 18,
	}
	for path, want := range cases {
		if got := lineOf(c.root, path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
}

// TestErrorListCapped: a config with thousands of bad entries gives the
// first maxListed problems and a count of the rest, not a message as
// long as the file.
func TestErrorListCapped(t *testing.T) {
	entries := strings.Repeat("  - {name: left_eye, part: nowhere, population: eye_left, encoder: current}\n", 5000)
	text := strings.Replace(base, "\ninputs:\n", "\ninputs:\n"+entries, 1)
	_, err := parse(text)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxListed+1 {
		t.Errorf("%d lines, want the first %d problems and a count", len(lines), maxListed)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "... and ") || !strings.Contains(last, "more problems") {
		t.Errorf("last line %q, want the count of the problems left out", last)
	}
	if len(err.Error()) > 8<<10 {
		t.Errorf("the error is %d bytes long", len(err.Error()))
	}
	if !strings.Contains(lines[0], "test.yaml:") {
		t.Errorf("first line %q lacks its file and line", lines[0])
	}
}
