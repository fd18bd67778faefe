package haltest_test

import (
	"fmt"
	"time"

	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/haltest"
)

// follow is code under test: it copies a sensor to a motor, as an
// actuator decoder would, and depends only on the narrow interfaces.
func follow(in hal.AnalogIn, out hal.PWMOut) error {
	s, err := in.Read()
	if err != nil {
		return err
	}
	d, err := hal.DutyOf(s.Volts / 3.3)
	if err != nil {
		return err
	}
	return out.SetDuty(d)
}

func Example() {
	clock := haltest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	bank := haltest.NewBank(clock)
	motor := bank.PWM("motor")
	// Quantised like a 10-bit chip: 3.3 V reads as code 1023, 99.9%.
	adc := haltest.NewScriptedADC(10, 3.3, 0, 1.65, 3.3)

	for i := 0; i < 4; i++ {
		if err := follow(adc, motor); err != nil {
			fmt.Println("tick", i, "error:", err)
		}
		clock.Advance(time.Millisecond)
	}
	_ = bank.Halt()
	for _, w := range bank.Writes() {
		fmt.Println(w.At.Format("04:05.000"), w.Part, w.Duty, w.Halt)
	}
	// Output:
	// tick 3 error: haltest: ADC script exhausted
	// 00:00.000 motor 0% false
	// 00:00.001 motor 50% false
	// 00:00.002 motor 99% false
	// 00:00.004 motor 0% true
}
