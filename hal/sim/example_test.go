package sim_test

import (
	"fmt"
	"log"
	"time"

	"github.com/spikeloop/spikeloop/hal/sim"
)

// A Braitenberg vehicle with crossed excitatory wiring drives to the
// light: each sensor, read through the MCP3008 driver, sets the duty of
// the opposite wheel.
func Example() {
	v, err := sim.NewVehicle(sim.DefaultVehicle())
	if err != nil {
		log.Fatal(err)
	}
	emu, board, err := sim.Open(sim.DemoConfig(), v)
	if err != nil {
		log.Fatal(err)
	}
	defer board.Close()
	left, _ := board.ADC("light_left")
	right, _ := board.ADC("light_right")
	motorL, _ := board.PWM("motor_left")
	motorR, _ := board.PWM("motor_right")

	fmt.Printf("start: %.2f m from the light\n", v.DistanceToLight())
	for v.DistanceToLight() > 0.2 && emu.Now() < 30*time.Second {
		l, _ := left.Read()
		r, _ := right.Read()
		_ = motorR.SetFraction(min(1, 4*l.Volts/3))
		_ = motorL.SetFraction(min(1, 4*r.Volts/3))
		if err := emu.Advance(10 * time.Millisecond); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("reached 0.2 m after %.1f s\n", emu.Now().Seconds())
	// Output:
	// start: 2.00 m from the light
	// reached 0.2 m after 6.8 s
}
