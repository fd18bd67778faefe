package daemon_test

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// Run the built-in demo for 20 s of board time on a fake clock (as fast
// as the machine goes): the Braitenberg vehicle, 2 m from the light and
// facing away at the start, finds it.
func Example() {
	cfg, err := daemon.DemoConfig()
	if err != nil {
		panic(err)
	}
	log := zerolog.Nop()
	d, err := daemon.New(cfg, daemon.Options{Clock: &daemon.FakeClock{}, Logger: &log, Ticks: 20_000, NoTelemetry: true})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		panic(err)
	}
	fmt.Printf("within 0.3 m of the light: %v\n", d.Plant().(*sim.Vehicle).DistanceToLight() < 0.3)
	// Output:
	// within 0.3 m of the light: true
}
