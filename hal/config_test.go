package hal

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

func TestValidateGood(t *testing.T) {
	cfg := testConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Driver = DriverPeriph
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Each bad config must be rejected with exactly one error, on the named
// field, wrapping the named sentinel.
func TestValidateBad(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(c *Config)
		field    string
		sentinel error
	}{
		{"no driver", func(c *Config) { c.Driver = "" }, "board.driver", ErrRequired},
		{"unknown driver", func(c *Config) { c.Driver = "gpiod" }, "board.driver", ErrInvalid},
		{"missing name", func(c *Config) { c.Outputs[1].Name = "" }, "board.outputs[1].name", ErrRequired},
		{"duplicate name", func(c *Config) { c.PWM[1].Name = "led" }, "board.pwm[1].name", ErrDuplicate},
		{"duplicate name across chips", func(c *Config) { c.DACs[0].Channels[0].Name = "light_left" }, "board.dacs[0].channels[0].name", ErrDuplicate},
		{"missing pin", func(c *Config) { c.Inputs[0].Pin = "" }, "board.inputs[0].pin", ErrRequired},
		{"two parts on one pin", func(c *Config) { c.PWM[0].Pin = "GPIO17" }, "board.pwm[0].pin", ErrDuplicate},
		{"two outputs on one pin", func(c *Config) { c.Outputs[1].Pin = "GPIO17" }, "board.outputs[1].pin", ErrDuplicate},
		{"bad safe level", func(c *Config) { c.Outputs[0].Safe = "on" }, "board.outputs[0].safe", ErrInvalid},
		{"bad pull", func(c *Config) { c.Inputs[1].Pull = "weak" }, "board.inputs[1].pull", ErrInvalid},
		{"bad edge", func(c *Config) { c.Inputs[1].Edge = "any" }, "board.inputs[1].edge", ErrInvalid},
		{"frequency zero", func(c *Config) { c.PWM[0].FrequencyHz = 0 }, "board.pwm[0].frequency_hz", ErrRange},
		{"frequency negative", func(c *Config) { c.PWM[1].FrequencyHz = -50 }, "board.pwm[1].frequency_hz", ErrRange},
		{"frequency NaN", func(c *Config) { c.PWM[1].FrequencyHz = math.NaN() }, "board.pwm[1].frequency_hz", ErrRange},
		{"duty above 1", func(c *Config) { c.PWM[0].SafeDuty = 1.01 }, "board.pwm[0].safe_duty", ErrRange},
		{"duty below 0", func(c *Config) { c.PWM[1].SafeDuty = -0.1 }, "board.pwm[1].safe_duty", ErrRange},
		{"duty NaN", func(c *Config) { c.PWM[1].SafeDuty = math.NaN() }, "board.pwm[1].safe_duty", ErrRange},
		{"adc chip", func(c *Config) { c.ADCs[0].Chip = "mcp3004" }, "board.adcs[0].chip", ErrInvalid},
		{"adc no port", func(c *Config) { c.ADCs[0].Port = "" }, "board.adcs[0].port", ErrRequired},
		{"two chips on one port", func(c *Config) { c.DACs[0].Port = "SPI0.0" }, "board.dacs[0].port", ErrDuplicate},
		{"adc speed zero", func(c *Config) { c.ADCs[0].SpeedHz = 0 }, "board.adcs[0].speed_hz", ErrRange},
		{"adc speed above chip", func(c *Config) { c.ADCs[0].SpeedHz = 4_000_000 }, "board.adcs[0].speed_hz", ErrRange},
		{"dac speed above chip", func(c *Config) { c.DACs[0].SpeedHz = 25_000_000 }, "board.dacs[0].speed_hz", ErrRange},
		{"spi mode 1", func(c *Config) { c.ADCs[0].Mode = 1 }, "board.adcs[0].mode", ErrInvalid},
		{"vref zero", func(c *Config) { c.ADCs[0].VRef = 0 }, "board.adcs[0].vref", ErrRange},
		{"adc channel 8", func(c *Config) { c.ADCs[0].Channels[1].Channel = 8 }, "board.adcs[0].channels[1].channel", ErrRange},
		{"adc channel -1", func(c *Config) { c.ADCs[0].Channels[0].Channel = -1 }, "board.adcs[0].channels[0].channel", ErrRange},
		{"adc channel twice", func(c *Config) {
			c.ADCs[0].Channels = append(c.ADCs[0].Channels, ADCChannelConfig{Name: "again", Channel: 0})
		}, "board.adcs[0].channels[2].channel", ErrDuplicate},
		{"dac channel 2", func(c *Config) { c.DACs[0].Channels[1].Channel = 2 }, "board.dacs[0].channels[1].channel", ErrRange},
		{"dac channel twice", func(c *Config) { c.DACs[0].Channels[1].Channel = 0 }, "board.dacs[0].channels[1].channel", ErrDuplicate},
		{"dac chip", func(c *Config) { c.DACs[0].Chip = "mcp4921" }, "board.dacs[0].chip", ErrInvalid},
		{"dac gain", func(c *Config) { c.DACs[0].Channels[0].Gain = 3 }, "board.dacs[0].channels[0].gain", ErrInvalid},
		{"dac safe volts above range", func(c *Config) { c.DACs[0].Channels[0].SafeVolts = 2.5 }, "board.dacs[0].channels[0].safe_volts", ErrRange},
		{"dac safe volts negative", func(c *Config) { c.DACs[0].Channels[0].SafeVolts = -1 }, "board.dacs[0].channels[0].safe_volts", ErrRange},
		{"chip name twice", func(c *Config) { c.DACs[0].Name = "adc0" }, "board.dacs[0].name", ErrDuplicate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			fes := fieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("want 1 field error, got %d: %v", len(fes), err)
			}
			if fes[0].Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", fes[0].Field, tc.field, err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("message %q does not start with the field", err)
			}
			// A bad value is told as "field: must be X, got V".
			if tc.sentinel == ErrRange || tc.sentinel == ErrInvalid {
				if msg := err.Error(); !strings.HasPrefix(msg, tc.field+": must be ") || !strings.Contains(msg, ", got ") {
					t.Errorf("message %q is not %q", msg, tc.field+": must be X, got V")
				}
			}
			// Open must refuse it the same way, before touching the host.
			h, _ := testHost()
			if _, oerr := Open(cfg, h); oerr == nil || oerr.Error() != err.Error() {
				t.Errorf("Open: %v", oerr)
			}
			if len(h.opened) != 0 {
				t.Errorf("Open opened ports %v for an invalid config", h.opened)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	cfg := testConfig()
	cfg.PWM[0].FrequencyHz = 0
	cfg.PWM[1].SafeDuty = 2
	cfg.ADCs[0].Channels[0].Channel = 9
	if n := len(fieldErrors(cfg.Validate())); n != 3 {
		t.Errorf("got %d errors, want all 3", n)
	}
}

func TestDutyOf(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want gpio.Duty
	}{{0, 0}, {1, gpio.DutyMax}, {0.5, gpio.DutyHalf}, {0.25, gpio.DutyMax / 4}} {
		if d, err := DutyOf(c.x); err != nil || d != c.want {
			t.Errorf("DutyOf(%v) = %v, %v", c.x, d, err)
		}
	}
	for _, x := range []float64{-0.001, 1.001, math.NaN(), math.Inf(1)} {
		if _, err := DutyOf(x); !errors.Is(err, ErrDuty) {
			t.Errorf("DutyOf(%v) accepted", x)
		}
	}
	if f, err := frequency(0.5); err != nil || f != 500*physic.MilliHertz {
		t.Errorf("frequency(0.5) = %v, %v", f, err)
	}
}

// names is a Names with pins GPIO0..GPIO3, P1_5 an alias of GPIO3, and
// one SPI port.
type names struct{ pins map[string]gpio.PinIO }

func (n names) PinByName(s string) gpio.PinIO { return n.pins[s] }
func (n names) HasSPI(s string) bool          { return s == "SPI0.0" }
func (n names) PinNames() []string {
	var out []string
	for k := range n.pins {
		out = append(out, k)
	}
	return out
}

// TestResolve: unknown pins and ports and two names of one pin are
// reported by field, with the pins there are; nothing is driven.
func TestResolve(t *testing.T) {
	n := names{pins: map[string]gpio.PinIO{}}
	for i := 0; i < 4; i++ {
		p := &gpiotest.Pin{N: "GPIO" + strconv.Itoa(i), Num: i}
		n.pins[p.N] = p
	}
	n.pins["P1_5"] = aliasOf{n.pins["GPIO3"].(*gpiotest.Pin)}
	c := Config{Driver: DriverSim,
		Outputs: []OutputConfig{{Name: "a", Pin: "GPIO3"}, {Name: "b", Pin: "GPIO9"}},
		PWM:     []PWMConfig{{Name: "c", Pin: "P1_5", FrequencyHz: 1}},
		ADCs:    []ADCConfig{{Name: "adc", Chip: "mcp3008", Port: "SPI1.0"}},
	}
	err := c.Resolve(n)
	want := []string{
		`board.outputs[1].pin: must be a pin of this host (GPIO0..GPIO3, and 1 other names such as header positions), got "GPIO9"`,
		`board.pwm[0].pin: "P1_5" is pin GPIO3, already used by board.outputs[0].pin`,
		`board.adcs[0].port: must be an SPI port of this host, got "SPI1.0"`,
	}
	if err == nil || strings.Count(err.Error(), "\n") != len(want)-1 {
		t.Fatalf("got %v, want %d errors", err, len(want))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrDuplicate) {
		t.Errorf("sentinels: %v", err)
	}
	if p := n.pins["GPIO3"].(*gpiotest.Pin); p.L != gpio.Low || p.P != gpio.PullNoChange {
		t.Errorf("Resolve touched GPIO3: %+v", p)
	}
}

// aliasOf is a header-position name of a pin (gpio.RealPin).
type aliasOf struct{ *gpiotest.Pin }

func (a aliasOf) Name() string     { return "P1_5" }
func (a aliasOf) Real() gpio.PinIO { return a.Pin }
