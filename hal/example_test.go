package hal_test

import (
	"fmt"
	"log"
	"strings"

	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// The daemon decodes its board section, opens it (here on the emulated
// board; on hardware with hal.OpenPeriph) and looks the parts up once.
func Example() {
	const board = `
driver: sim
outputs:
  - {name: led, pin: GPIO17}
pwm:
  - {name: motor, pin: GPIO12, frequency_hz: 1000, safe_duty: 0}
adcs:
  - {name: adc0, chip: mcp3008, port: SPI0.0, speed_hz: 1000000, vref: 3.3,
     channels: [{name: light, channel: 0}]}
`
	var cfg hal.Config
	dec := yaml.NewDecoder(strings.NewReader(board))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		log.Fatal(err)
	}
	emu, b, err := sim.Open(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	emu.ADCChip("adc0").SetInput(0, 1.0) // what the plant would do

	led, _ := b.DigitalOut("led")
	motor, _ := b.PWM("motor")
	light, _ := b.ADC("light")

	// One tick: read, decide, write.
	s, err := light.Read()
	if err != nil {
		log.Fatal(err)
	}
	_ = motor.SetFraction(s.Volts / 3.3)
	_ = led.Out(gpio.High)
	fmt.Printf("light %d (%.3f V), motor duty %s\n", s.Raw, s.Volts, motor.Duty())

	// Shutdown: every output to its safe state.
	if err := b.Halt(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Halt:", emu.Pin("GPIO12").Duty(), emu.Pin("GPIO17").Level())
	// Output:
	// light 310 (0.999 V), motor duty 30%
	// after Halt: 0 Low
}

// A config error names the field.
func ExampleConfig_Validate() {
	cfg := hal.Config{
		Driver: "sim",
		PWM: []hal.PWMConfig{
			{Name: "left", Pin: "GPIO12", FrequencyHz: 1000},
			{Name: "right", Pin: "GPIO12", FrequencyHz: 0, SafeDuty: 1.5},
		},
	}
	fmt.Println(cfg.Validate())
	// Output:
	// board.pwm[1].pin: "GPIO12" already used by board.pwm[0]
	// board.pwm[1].frequency_hz: must be hertz in (0, 1e9], got 0
	// board.pwm[1].safe_duty: must be in [0, 1], got 1.5
}
