// Package sim is spikeloop's emulated board: GPIO pins, SPI ports and
// SPI chips that behave like the real parts, wired to a plant (the
// physical system) that advances in simulated time.
//
// The emulation sits below periph's interfaces, so the real drivers of
// hal run on it unchanged: Board implements hal.Host, its pins implement
// gpio.PinIO and its ports implement spi.PortCloser and spi.Conn. The
// emulated MCP3008/MCP3208 and MCP4922 are clocked bit by bit from the
// datasheets' protocol descriptions (start bit detection, null bit,
// MSB-first then LSB-first output, 16-bit latch on CS rising), not from
// the drivers' frame layout, so a driver bug shows up as a wrong value.
//
// Pins are named like periph names them on a Raspberry Pi: GPIO0 to
// GPIO27; ports are SPI0.0, SPI0.1, SPI1.0, SPI1.1 and SPI1.2 (or
// /dev/spidevB.C). New puts an emulated chip on each port that the
// config's adcs and dacs name; hal.Open then validates the config and
// rejects unknown pins and ports by their field, as on hardware.
//
// # Time and plants
//
// Nothing moves until Advance(dt) is called: it steps the plant by dt.
// There are no goroutines, so tests and the daemon's sim mode decide how
// time flows. A Plant binds to the board's parts by their config names
// in Attach and, in Step, reads the actuators (Pin.Duty, Pin.Level,
// AnalogOutput.Volts) and writes the sensors (AnalogInput.Set,
// Pin.Drive). A plant fault is returned by Advance; the board still
// works, so the daemon can Halt.
//
// The plant provided is Vehicle, a Braitenberg vehicle: two wheels
// driven by PWM duty, two light sensors read through ADC channels, one
// light in a square arena; intensity falls with distance and with the
// angle off each sensor's axis, with optional seeded noise. DemoConfig
// and DefaultVehicle are the default demo.
//
// The tick loop's calls on the emulated board (ADC read, PWM and DAC
// writes, input reads, Advance) do not allocate.
package sim
