package actuator_test

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/io/actuator"
)

// motor stands for a PWM output (hal.PWM in the daemon).
type motor struct{}

func (motor) SetDuty(d gpio.Duty) error {
	fmt.Printf("duty %.2f\n", float64(d)/float64(gpio.DutyMax))
	return nil
}

// Spikes of a 5-neuron motor population drive a wheel: the mean rate
// per neuron over a 10-tick window of 1 ms, times 0.004 duty per Hz,
// clamped to at most 0.6.
func Example() {
	dec, _ := actuator.NewRate(motor{}, actuator.RateConfig{Size: 5, Window: 10, Tick: 0.001, Gain: 0.004, Max: 0.6})
	// One tick with 3 spikes: 3 spikes / 10 ms / 5 neurons = 60 Hz.
	dec.Spike(0)
	dec.Spike(2)
	dec.Spike(4)
	dec.Update()
	// Output:
	// duty 0.24
}
