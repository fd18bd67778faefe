package daemon

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// TestCheckConfigDemo: the shipped demo config checks, and the summary
// names the board's parts with their pins, the inputs and outputs with
// their populations, the tick, the network with each monitor's neurons,
// the backend and telemetry.
func TestCheckConfigDemo(t *testing.T) {
	var out bytes.Buffer
	if err := CheckConfig("../examples/demo/spikeloop.yaml", &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	// The memory figure is the backend's Probe of the network the
	// daemon runs (the file's, with the outputs' spike monitors).
	c, err := LoadConfig("../examples/demo/spikeloop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	addSpikeMonitors(c.net, c.outputPops())
	pr, err := probe("cpu", c.net)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"backend: cpu (loaded and closed again), memory estimate " + ByteSize(pr.Memory) + "\n",
		"../examples/demo/spikeloop.yaml: valid daemon config",
		"board: driver sim (pins and SPI ports looked up on the emulated board)",
		"motor_left   pwm output   GPIO12    1000 Hz, safe duty 0",
		"light_left   adc channel  adc0 ch0  mcp3008 on SPI0.0",
		"plant: Braitenberg vehicle",
		"tick 1ms = 10 network steps of dt 0.1 ms",
		"left_eye   light_left -> eye_left    current 2000*value+0 clamped to [0, 6000]",
		"left_wheel   motor_left -> motor_left    rate window 50ms",
		"network braitenberg.yaml",
		"motor_left   LIF               5",
		"motor_left (line 61)   spikes   1              all 5",
		"13 units, 15 connections, 2 monitors",
		"backend: cpu (loaded and closed again)",
		"apu link: spi SPI0.1 at 10 MHz, data-ready GPIO25, reset GPIO24; 2 retries a request, 2ms each; on a link fault: outputs safe, then stop (used with --backend apu)",
		"topics: spikeloop/demo/status (retained), spikeloop/demo/telemetry, spikeloop/demo/spikes",
		"broker: embedded on 127.0.0.1:1883",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

// TestCheckConfigMonitorSubset: a monitor's neurons subset (which also
// filters its spikes) shows in the summary.
func TestCheckConfigMonitorSubset(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := os.ReadFile("../examples/demo/spikeloop.yaml")
	net, _ := os.ReadFile("../examples/demo/braitenberg.yaml")
	net = bytes.Replace(net, []byte("  - population: motor_left\n    record: [spikes]\n"),
		[]byte("  - population: motor_left\n    record: [spikes, V]\n    neurons: [0, 3]\n"), 1)
	write(t, dir, "braitenberg.yaml", net)
	path := write(t, dir, "spikeloop.yaml", cfg)
	var out bytes.Buffer
	if err := CheckConfig(path, &out); err != nil {
		t.Fatal(err)
	}
	if want := "spikes, V  1              2 of 5: 0, 3"; !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, out.String())
	}
}

// TestCheckConfigInvalid: every problem at once, each with the file and
// line, and no summary.
func TestCheckConfigInvalid(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := os.ReadFile("../examples/demo/spikeloop.yaml")
	net, _ := os.ReadFile("../examples/demo/braitenberg.yaml")
	write(t, dir, "braitenberg.yaml", net)
	text := strings.Replace(string(cfg), "pin: GPIO12", "pin: GPIO40", 1)
	text = strings.Replace(text, "tick: 1ms", "tick_rate: 1ms", 1)
	text = strings.Replace(text, "metrics: {listen: 127.0.0.1:9464}", "metrics: {listen: \"127.0.0.1:99999\"}", 1)
	path := write(t, dir, "spikeloop.yaml", []byte(text))
	var out bytes.Buffer
	err := CheckConfig(path, &out)
	if err == nil {
		t.Fatal("no error")
	}
	if out.Len() > 0 {
		t.Errorf("an invalid config printed a summary:\n%s", out.String())
	}
	line := func(s string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("no %q in the config", s)
		return 0
	}
	for _, want := range []string{
		path + ":" + strconv.Itoa(line("GPIO40")) + `: board.pwm[0].pin: must be a pin of this host (GPIO0..GPIO27), got "GPIO40"`,
		path + ":" + strconv.Itoa(line("tick_rate")) + `: tick_rate: unknown field; did you mean "tick"?`,
		path + `: tick: must be a duration such as "1ms", got nothing`,
		path + ":" + strconv.Itoa(line("99999")) + `: telemetry.metrics.listen: must have a port 0..65535, got "127.0.0.1:99999" (port "99999")`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
	if !errors.Is(err, hal.ErrNotFound) || !errors.Is(err, ErrUnknown) || !errors.Is(err, ErrRange) {
		t.Errorf("the error does not wrap the sentinels of its parts: %v", err)
	}
}

// TestCheckConfigPeriph: the shipped systemd config (driver periph)
// checks on any machine: on a host with GPIO its pins are looked up in
// periph's registries, elsewhere the summary says they were not.
func TestCheckConfigPeriph(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := os.ReadFile("../systemd/spikeloop.yaml")
	net, _ := os.ReadFile("../examples/demo/braitenberg.yaml")
	write(t, dir, "braitenberg.yaml", net)
	path := write(t, dir, "spikeloop.yaml", cfg)
	var out bytes.Buffer
	if err := CheckConfig(path, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "board: driver periph") || !strings.Contains(s, "GPIO12") || !strings.Contains(s, "light_left   adc channel     adc0 ch0") {
		t.Errorf("summary:\n%s", s)
	}
	t.Logf("%s", strings.SplitN(s, "\n", 4)[2])
}

// TestResolveSim: hal's name lookup on the emulated board finds every
// pin and port of the demo and reports unknown ones by field, changing
// no pin.
func TestResolveSim(t *testing.T) {
	c, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	b := c.Board
	b.PWM = append(b.PWM, hal.PWMConfig{Name: "x", Pin: "GPIO28", FrequencyHz: 1})
	b.ADCs[0].Port = "SPI2.0"
	err = b.Resolve(sim.New(b))
	var fes []string
	for _, e := range unjoin(err) {
		var fe *hal.FieldError
		if errors.As(e, &fe) {
			fes = append(fes, fe.Field)
		}
	}
	if strings.Join(fes, " ") != "board.pwm[2].pin board.adcs[0].port" {
		t.Errorf("fields %v (%v)", fes, err)
	}
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
