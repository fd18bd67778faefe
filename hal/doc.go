// Package hal is spikeloop's hardware abstraction layer: the board's
// digital inputs and outputs, PWM outputs, and the SPI chips it carries
// (an MCP3008 or MCP3208 ADC, an MCP4922 DAC), all reached through
// periph.io's gpio and spi interfaces.
//
// # Opening a board
//
// The daemon's config embeds a Config under the key "board" (CONFIG.md
// lists every field). Open validates it, looks every pin and SPI port up
// on a Host and fails with the config field when one is missing, e.g.
//
//	board.outputs[2].pin: must be a pin of this host (GPIO0..GPIO27), got "GPIO99"
//
// then connects the chips and puts every output in its safe state:
//
//	b, err := hal.OpenPeriph(cfg, logger)  // driver: periph (host.Init, gpioreg, spireg)
//	sb, b, err := sim.Open(cfg, plant)     // driver: sim (hal/sim, the emulated board)
//	b, err := hal.Open(cfg, host)          // any other Host, e.g. fakes in tests
//
// Config errors are *FieldError values wrapping one of the sentinels
// (ErrRequired, ErrInvalid, ErrRange, ErrDuplicate, ErrNotFound);
// Validate and Open report every problem at once, joined.
//
// # Parts
//
// Parts are looked up by their config name once, at wiring time:
//
//	led, err := b.DigitalOut("led")        // *Output:     Out(gpio.Level) error
//	bump, err := b.DigitalIn("bumper")     // *Input:      Read() gpio.Level, Edge() bool
//	motor, err := b.PWM("motor_left")      // *PWM:        SetDuty(gpio.Duty) error
//	light, err := b.ADC("light_left")      // *ADCChannel: Read() (Sample, error)
//	bias, err := b.DAC("bias")             // *DACChannel: SetVolts(float64) error
//
// Each concrete part satisfies a one-method interface (DigitalOut,
// DigitalIn, PWMOut, AnalogIn, AnalogOut) whose doc comment is its
// contract; code that drives a part should accept that interface.
// hal/haltest has fakes of each, shared by every package's tests: a
// recording actuator bank, outputs that keep nothing (for allocation
// tests), a scripted ADC, a breakable sensor source, an input and a fake
// clock.
//
// # Real time
//
// The tick loop calls Read, Edge, Out, SetDuty and SetVolts every tick.
// None of them allocates in steady state (the SPI frames live in the
// drivers, errors on the hot path are sentinel values); the tests check
// this with testing.AllocsPerRun on the emulated board. Parts are safe
// for concurrent use.
//
// # Halt and Close
//
// Board.Halt puts every output in its configured safe state: digital
// outputs at their safe level, PWM at its safe duty, DAC channels at
// their safe voltage or shut down. It tries every part even if one
// fails, returns the failures joined, and is safe to call any number of
// times. It does not stop later writes; the owner of the loop stops
// writing first. Close halts, closes the SPI ports and makes every part
// return ErrClosed; it is idempotent too.
//
// # Periph host drivers
//
// Only periph.go imports periph's host drivers (periph.io/x/host/v3).
// OpenPeriph calls host.Init, logs every driver that loaded, was skipped
// or failed (the three outcomes of periph's driver.Init), and opens the
// board on periph's registries. It builds for linux/arm and linux/arm64
// without cgo.
//
// # Chips
//
// The chip drivers live in hal/mcp3x08 and hal/mcp4922 and are written
// against spi.Conn only; they are tested byte for byte with periph's
// spi/spitest, and run unchanged on the emulated chips of hal/sim.
package hal
