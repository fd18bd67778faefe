package hal

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/hal/mcp3x08"
	"github.com/spikeloop/spikeloop/hal/mcp4922"
)

// Root is the name of the board section in the daemon's config; every
// field path in an error starts with it.
const Root = "board"

// Values of Config.Driver.
const (
	DriverPeriph = "periph" // real hardware through periph's host drivers
	DriverSim    = "sim"    // the emulated board of hal/sim
)

// Config is the board section of the daemon's config. CONFIG.md
// documents every field; Validate checks them all.
type Config struct {
	// Driver is "periph" or "sim".
	Driver  string         `yaml:"driver"`
	Outputs []OutputConfig `yaml:"outputs"`
	Inputs  []InputConfig  `yaml:"inputs"`
	PWM     []PWMConfig    `yaml:"pwm"`
	ADCs    []ADCConfig    `yaml:"adcs"`
	DACs    []DACConfig    `yaml:"dacs"`
}

// OutputConfig is one digital output.
type OutputConfig struct {
	Name string `yaml:"name"` // part name used by the daemon
	Pin  string `yaml:"pin"`  // host pin name, e.g. "GPIO17"
	// Safe is the level set at open and by Halt: "low" (default) or
	// "high" (for active-low loads).
	Safe string `yaml:"safe"`
}

// InputConfig is one digital input.
type InputConfig struct {
	Name string `yaml:"name"`
	Pin  string `yaml:"pin"`
	// Pull is "none" (default: leave as is), "float", "up" or "down".
	Pull string `yaml:"pull"`
	// Edge is "none" (default), "rising", "falling" or "both".
	Edge string `yaml:"edge"`
}

// PWMConfig is one PWM output.
type PWMConfig struct {
	Name string `yaml:"name"`
	Pin  string `yaml:"pin"`
	// FrequencyHz is the PWM frequency in hertz; > 0.
	FrequencyHz float64 `yaml:"frequency_hz"`
	// SafeDuty in [0, 1] is set at open and by Halt.
	SafeDuty float64 `yaml:"safe_duty"`
}

// ADCConfig is one MCP3008 or MCP3208 chip and the channels read from it.
type ADCConfig struct {
	Name     string             `yaml:"name"`     // chip name, for messages
	Chip     string             `yaml:"chip"`     // "mcp3008" or "mcp3208"
	Port     string             `yaml:"port"`     // SPI port, e.g. "SPI0.0"
	SpeedHz  int64              `yaml:"speed_hz"` // SPI clock, > 0 and <= chip maximum
	Mode     int                `yaml:"mode"`     // SPI mode, 0 or 3
	VRef     float64            `yaml:"vref"`     // reference voltage in volts, > 0
	Channels []ADCChannelConfig `yaml:"channels"`
}

// ADCChannelConfig is one analog input part.
type ADCChannelConfig struct {
	Name string `yaml:"name"`
	// Channel 0..7 is the input (single-ended) or IN+ (differential).
	Channel int `yaml:"channel"`
	// Differential reads Channel against Channel^1 (0-1, 1-0, 2-3, ...).
	Differential bool `yaml:"differential"`
}

// DACConfig is one MCP4922 chip and its channels.
type DACConfig struct {
	Name     string             `yaml:"name"`
	Chip     string             `yaml:"chip"` // "mcp4922"
	Port     string             `yaml:"port"`
	SpeedHz  int64              `yaml:"speed_hz"`
	Mode     int                `yaml:"mode"`
	VRef     float64            `yaml:"vref"` // VREFA and VREFB, volts
	Channels []DACChannelConfig `yaml:"channels"`
}

// DACChannelConfig is one analog output part.
type DACChannelConfig struct {
	Name    string `yaml:"name"`
	Channel int    `yaml:"channel"` // 0 = DAC A, 1 = DAC B
	// Gain is 1 (default) or 2.
	Gain int `yaml:"gain"`
	// Buffered sets the chip's BUF bit (VREF input buffered).
	Buffered bool `yaml:"buffered"`
	// SafeVolts is written at open and by Halt, unless HaltShutdown.
	SafeVolts float64 `yaml:"safe_volts"`
	// HaltShutdown makes open and Halt shut the channel down (output
	// high impedance, 500 kOhm to ground) instead of writing SafeVolts.
	HaltShutdown bool `yaml:"halt_shutdown"`
}

// Validate checks every field that can be checked without the hardware
// and returns all problems at once, each a *FieldError naming its field
// (joined with errors.Join). Open calls it first.
func (c *Config) Validate() error {
	v := validator{pins: map[string]string{}, names: map[string]string{}, ports: map[string]string{}, chips: map[string]string{}}
	switch c.Driver {
	case DriverPeriph, DriverSim:
	case "":
		v.add(Root+".driver", ErrRequired, `must be "periph" or "sim", got nothing`)
	default:
		v.add(Root+".driver", ErrInvalid, fmt.Sprintf(`must be "periph" or "sim", got %q`, c.Driver))
	}
	for i, o := range c.Outputs {
		f := fmt.Sprintf("%s.outputs[%d]", Root, i)
		v.name(f, o.Name)
		v.pin(f, o.Pin)
		if _, err := parseLevel(o.Safe); err != nil {
			v.add(f+".safe", ErrInvalid, err.Error())
		}
	}
	for i, in := range c.Inputs {
		f := fmt.Sprintf("%s.inputs[%d]", Root, i)
		v.name(f, in.Name)
		v.pin(f, in.Pin)
		if _, err := parsePull(in.Pull); err != nil {
			v.add(f+".pull", ErrInvalid, err.Error())
		}
		if _, err := parseEdge(in.Edge); err != nil {
			v.add(f+".edge", ErrInvalid, err.Error())
		}
	}
	for i, p := range c.PWM {
		f := fmt.Sprintf("%s.pwm[%d]", Root, i)
		v.name(f, p.Name)
		v.pin(f, p.Pin)
		if _, err := frequency(p.FrequencyHz); err != nil {
			v.add(f+".frequency_hz", ErrRange, err.Error())
		}
		if _, err := DutyOf(p.SafeDuty); err != nil {
			v.add(f+".safe_duty", ErrRange, fmt.Sprintf("must be in [0, 1], got %v", p.SafeDuty))
		}
	}
	for i, a := range c.ADCs {
		f := fmt.Sprintf("%s.adcs[%d]", Root, i)
		v.chip(f, a.Name)
		variant, err := mcp3x08.ParseVariant(a.Chip)
		if err != nil {
			v.add(f+".chip", ErrInvalid, fmt.Sprintf(`must be "mcp3008" or "mcp3208", got %q`, a.Chip))
		}
		max := physic.Frequency(0)
		if err == nil {
			max = variant.MaxSpeed()
		}
		v.spi(f, a.Port, a.SpeedHz, a.Mode, max)
		v.vref(f, a.VRef)
		used := map[[2]int]int{}
		for j, ch := range a.Channels {
			cf := fmt.Sprintf("%s.channels[%d]", f, j)
			v.name(cf, ch.Name)
			if ch.Channel < 0 || ch.Channel >= mcp3x08.Channels {
				v.add(cf+".channel", ErrRange, fmt.Sprintf("must be 0..7, got %d", ch.Channel))
				continue
			}
			key := [2]int{ch.Channel, 0}
			if ch.Differential {
				key[1] = 1
			}
			if k, ok := used[key]; ok {
				v.dup(cf+".channel", ch.Channel, fmt.Sprintf("%s.channels[%d]", f, k))
			}
			used[key] = j
		}
	}
	for i, d := range c.DACs {
		f := fmt.Sprintf("%s.dacs[%d]", Root, i)
		v.chip(f, d.Name)
		if d.Chip != "mcp4922" {
			v.add(f+".chip", ErrInvalid, fmt.Sprintf(`must be "mcp4922", got %q`, d.Chip))
		}
		v.spi(f, d.Port, d.SpeedHz, d.Mode, mcp4922.MaxSpeed)
		v.vref(f, d.VRef)
		used := map[int]int{}
		for j, ch := range d.Channels {
			cf := fmt.Sprintf("%s.channels[%d]", f, j)
			v.name(cf, ch.Name)
			if ch.Channel != 0 && ch.Channel != 1 {
				v.add(cf+".channel", ErrRange, fmt.Sprintf("must be 0 (DAC A) or 1 (DAC B), got %d", ch.Channel))
			} else if k, ok := used[ch.Channel]; ok {
				v.dup(cf+".channel", ch.Channel, fmt.Sprintf("%s.channels[%d]", f, k))
			} else {
				used[ch.Channel] = j
			}
			gain := dacGain(ch.Gain)
			if gain != 1 && gain != 2 {
				v.add(cf+".gain", ErrInvalid, fmt.Sprintf("must be 1 or 2, got %d", ch.Gain))
				continue
			}
			if !ch.HaltShutdown && d.VRef > 0 {
				if _, err := mcp4922.Code(ch.SafeVolts, d.VRef, gain); err != nil {
					v.add(cf+".safe_volts", ErrRange, fmt.Sprintf("must be 0..%.4g V (vref %v V x gain %d), got %v V",
						mcp4922.Volts(mcp4922.MaxCode, d.VRef, gain), d.VRef, gain, ch.SafeVolts))
				}
			}
		}
	}
	return errors.Join(v.errs...)
}

// validator collects FieldErrors and remembers which names, pins and
// ports are taken, and by which field.
type validator struct {
	errs  []error
	pins  map[string]string
	names map[string]string
	ports map[string]string
	chips map[string]string
}

// add records "field: detail" (the sentinel's text when detail is
// empty), wrapping sentinel. A detail reads "must be X, got V".
func (v *validator) add(field string, sentinel error, detail string) {
	err := sentinel
	if detail != "" {
		err = &detailError{sentinel, detail}
	}
	v.errs = append(v.errs, &FieldError{Field: field, Err: err})
}

// detailError reads as its detail ("must be X, got V") and wraps the
// sentinel for errors.Is; Detail gives the detail for the daemon's
// "FILE:LINE: field: detail" listing.
type detailError struct {
	sentinel error
	detail   string
}

func (e *detailError) Error() string  { return e.detail }
func (e *detailError) Unwrap() error  { return e.sentinel }
func (e *detailError) Detail() string { return e.detail }

// dup records "field: "value" already used by other-field".
func (v *validator) dup(field string, value any, by string) {
	v.errs = append(v.errs, &FieldError{Field: field, Err: fmt.Errorf("%v %w by %s", value, ErrDuplicate, by)})
}

func (v *validator) name(f, name string) {
	if name == "" {
		v.add(f+".name", ErrRequired, "")
		return
	}
	if prev, ok := v.names[name]; ok {
		v.dup(f+".name", strconv.Quote(name), prev)
		return
	}
	v.names[name] = f
}

func (v *validator) chip(f, name string) {
	if name == "" {
		v.add(f+".name", ErrRequired, "")
		return
	}
	if prev, ok := v.chips[name]; ok {
		v.dup(f+".name", strconv.Quote(name), prev)
		return
	}
	v.chips[name] = f
}

func (v *validator) pin(f, pin string) {
	if pin == "" {
		v.add(f+".pin", ErrRequired, "")
		return
	}
	if prev, ok := v.pins[pin]; ok {
		v.dup(f+".pin", strconv.Quote(pin), prev)
		return
	}
	v.pins[pin] = f
}

func (v *validator) spi(f, port string, speed int64, mode int, max physic.Frequency) {
	if port == "" {
		v.add(f+".port", ErrRequired, "")
	} else if prev, ok := v.ports[port]; ok {
		v.dup(f+".port", strconv.Quote(port), prev)
	} else {
		v.ports[port] = f
	}
	switch {
	case speed <= 0:
		v.add(f+".speed_hz", ErrRange, fmt.Sprintf("must be > 0, in hertz (1 MHz is 1000000), got %d", speed))
	case max > 0 && physic.Frequency(speed)*physic.Hertz > max:
		v.add(f+".speed_hz", ErrRange, fmt.Sprintf("must be at most the chip's %s, got %d", max, speed))
	}
	if mode != 0 && mode != 3 {
		v.add(f+".mode", ErrInvalid, fmt.Sprintf("must be 0 or 3 (the SPI modes the chip supports), got %d", mode))
	}
}

func (v *validator) vref(f string, vref float64) {
	if !(vref > 0) || math.IsInf(vref, 0) || vref > 10 {
		v.add(f+".vref", ErrRange, fmt.Sprintf("must be volts in (0, 10], got %v", vref))
	}
}

// dacGain maps the config's gain (0 meaning the default 1).
func dacGain(g int) int {
	if g == 0 {
		return 1
	}
	return g
}

func parseLevel(s string) (gpio.Level, error) {
	switch s {
	case "", "low":
		return gpio.Low, nil
	case "high":
		return gpio.High, nil
	}
	return gpio.Low, fmt.Errorf(`must be "low" or "high", got %q`, s)
}

func parsePull(s string) (gpio.Pull, error) {
	switch s {
	case "", "none":
		return gpio.PullNoChange, nil
	case "float":
		return gpio.Float, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	}
	return gpio.PullNoChange, fmt.Errorf(`must be "none", "float", "up" or "down", got %q`, s)
}

func parseEdge(s string) (gpio.Edge, error) {
	switch s {
	case "", "none":
		return gpio.NoEdge, nil
	case "rising":
		return gpio.RisingEdge, nil
	case "falling":
		return gpio.FallingEdge, nil
	case "both":
		return gpio.BothEdges, nil
	}
	return gpio.NoEdge, fmt.Errorf(`must be "none", "rising", "falling" or "both", got %q`, s)
}

// maxPWMHz bounds frequency_hz so that it fits physic.Frequency with
// room to spare; no GPIO PWM comes near it.
const maxPWMHz = 1e9

func frequency(hz float64) (physic.Frequency, error) {
	if !(hz > 0) || hz > maxPWMHz {
		return 0, fmt.Errorf("must be hertz in (0, 1e9], got %v", hz)
	}
	f := physic.Frequency(math.Round(hz * float64(physic.Hertz)))
	if f <= 0 {
		return 0, fmt.Errorf("must be at least 1 µHz, got %v Hz", hz)
	}
	return f, nil
}

// DutyOf converts a fraction in [0, 1] to a gpio.Duty, rounding to the
// nearest step. It returns ErrDuty (and does not allocate) otherwise.
func DutyOf(x float64) (gpio.Duty, error) {
	if !(x >= 0 && x <= 1) { // also catches NaN
		return 0, ErrDuty
	}
	return gpio.Duty(math.Round(x * float64(gpio.DutyMax))), nil
}

func modeOf(m int) spi.Mode { return spi.Mode(m) }

// Names is the read-only side of a Host: looking a pin or an SPI port up
// by name drives no pin and opens no device, so a config can be checked
// against the host while another run owns the hardware.
type Names interface {
	// PinByName returns the pin called name, or nil if there is none.
	PinByName(name string) gpio.PinIO
	// HasSPI tells whether the host has an SPI port called name.
	HasSPI(name string) bool
}

// PinLister is implemented by Names that can list their pins; Resolve
// then names the pins there are when one is not found.
type PinLister interface {
	PinNames() []string
}

// Resolve looks every pin and SPI port of c up on h, as Open does but
// without touching them, and returns each problem as a *FieldError
// (joined): a name the host does not have, or two names that lead to
// one pin (periph registers aliases such as P1_12 for GPIO18). Call it
// after Validate; empty names are Validate's to report.
func (c *Config) Resolve(h Names) error {
	_, _, _, errs := resolvePins(*c, h.PinByName, pinHint(h))
	for i, a := range c.ADCs {
		if a.Port != "" && !h.HasSPI(a.Port) {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("%s.adcs[%d].port", Root, i), Err: &detailError{ErrNotFound, fmt.Sprintf("must be an SPI port of this host, got %q", a.Port)}})
		}
	}
	for i, d := range c.DACs {
		if d.Port != "" && !h.HasSPI(d.Port) {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("%s.dacs[%d].port", Root, i), Err: &detailError{ErrNotFound, fmt.Sprintf("must be an SPI port of this host, got %q", d.Port)}})
		}
	}
	return errors.Join(errs...)
}

// pinHint says which pins h (a Names or a Host) has, for a "not found"
// message: GPIO names as ranges (" (GPIO0..GPIO27)"), "" when h cannot
// list its pins.
func pinHint(h any) string {
	l, ok := h.(PinLister)
	if !ok {
		return ""
	}
	var nums []int
	others := 0
	for _, n := range l.PinNames() {
		if s, ok := strings.CutPrefix(n, "GPIO"); ok {
			if k, err := strconv.Atoi(s); err == nil && k >= 0 {
				nums = append(nums, k)
				continue
			}
		}
		others++
	}
	if len(nums) == 0 && others == 0 {
		return " (it has none)"
	}
	sort.Ints(nums)
	var ranges []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] <= nums[j]+1 {
			j++
		}
		if j > i {
			ranges = append(ranges, fmt.Sprintf("GPIO%d..GPIO%d", nums[i], nums[j]))
		} else {
			ranges = append(ranges, fmt.Sprintf("GPIO%d", nums[i]))
		}
		i = j + 1
	}
	hint := strings.Join(ranges, ", ")
	if others > 0 {
		hint += fmt.Sprintf(", and %d other names such as header positions", others)
	}
	return " (" + hint + ")"
}

// resolvePins looks the pins of every output, input and PWM part up
// with byName and checks that no two names lead to one physical pin. It
// changes no pin. hint completes a "not found" message (pinHint).
func resolvePins(cfg Config, byName func(string) gpio.PinIO, hint string) (out, in, pwm []gpio.PinIO, errs []error) {
	pin := func(field, name string) gpio.PinIO {
		if name == "" {
			return nil // Validate reports it
		}
		p := byName(name)
		if p == nil {
			errs = append(errs, &FieldError{Field: field, Err: &detailError{ErrNotFound, fmt.Sprintf("must be a pin of this host%s, got %q", hint, name)}})
		}
		return p
	}
	out = make([]gpio.PinIO, len(cfg.Outputs))
	for i, o := range cfg.Outputs {
		out[i] = pin(fmt.Sprintf("%s.outputs[%d].pin", Root, i), o.Pin)
	}
	in = make([]gpio.PinIO, len(cfg.Inputs))
	for i, x := range cfg.Inputs {
		in[i] = pin(fmt.Sprintf("%s.inputs[%d].pin", Root, i), x.Pin)
	}
	pwm = make([]gpio.PinIO, len(cfg.PWM))
	for i, p := range cfg.PWM {
		pwm[i] = pin(fmt.Sprintf("%s.pwm[%d].pin", Root, i), p.Pin)
	}
	// Two names can lead to one pin: Validate cannot see that, the host
	// can.
	owner := map[gpio.PinIO]string{}
	claim := func(field string, p gpio.PinIO) {
		if p == nil {
			return
		}
		real := p
		for {
			r, ok := real.(gpio.RealPin)
			if !ok {
				break
			}
			next := r.Real()
			if next == nil || next == real {
				break
			}
			real = next
		}
		if prev, ok := owner[real]; ok {
			errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf("%q is pin %s, %w by %s", p.Name(), real.Name(), ErrDuplicate, prev)})
			return
		}
		owner[real] = field
	}
	for i, p := range out {
		claim(fmt.Sprintf("%s.outputs[%d].pin", Root, i), p)
	}
	for i, p := range in {
		claim(fmt.Sprintf("%s.inputs[%d].pin", Root, i), p)
	}
	for i, p := range pwm {
		claim(fmt.Sprintf("%s.pwm[%d].pin", Root, i), p)
	}
	return out, in, pwm, errs
}
