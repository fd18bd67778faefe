package sensor_test

import (
	"fmt"

	"github.com/spikeloop/spikeloop/io/sensor"
)

// photodiode is a Source: an ADC channel's voltage in the daemon.
type photodiode struct{ volts float64 }

func (p photodiode) Read() (float64, error) { return p.volts, nil }

// printer stands for the network (what the daemon hands to apu.Backend.Run).
type printer struct{}

func (printer) SetInput(pop string, v []float64) error {
	fmt.Println(pop, v)
	return nil
}

// A light sensor's voltage becomes a current into an InputTransmitter
// (inputs_type: current): 2000 pA per volt, clamped to [0, 6000] pA, on
// every network step of the tick.
func Example() {
	enc, _ := sensor.NewCurrent(printer{}, "eye_left", 1, sensor.Linear{Gain: 2000, Min: 0, Max: 6000})
	in, _ := sensor.NewInput("left_eye", photodiode{volts: 0.42}, enc, 0)
	in.Read() // once per tick
	for step := 0; step < 2; step++ {
		in.Step(step)
	}
	// Output:
	// eye_left [840]
	// eye_left [840]
}
