package hal

import (
	"bytes"
	"errors"
	"github.com/rs/zerolog"
	"strings"
	"testing"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/driver"
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
)

// TestPeriphHostRegistries runs Open on PeriphHost with fake pins and a
// fake port registered in periph's global registries, as host.Init
// would register real ones. host.Init itself is not called: it would
// probe this machine's hardware.
func TestPeriphHostRegistries(t *testing.T) {
	a, b := pin("HALTEST_OUT"), pin("HALTEST_PWM")
	for _, p := range []gpio.PinIO{a, b} {
		if err := gpioreg.Register(p); err != nil {
			t.Fatal(err)
		}
		name := p.Name()
		t.Cleanup(func() { _ = gpioreg.Unregister(name) })
	}
	port := newPort(
		conntest.IO{W: []byte{0x06, 0x40, 0x00}, R: []byte{0xFF, 0xE8, 0x01}}, // MCP3208 ch1 -> 0x801
	)
	if err := spireg.Register("HALTEST_SPI", nil, -1, func() (spi.PortCloser, error) { return port, nil }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = spireg.Unregister("HALTEST_SPI") })

	cfg := Config{
		Driver:  DriverPeriph,
		Outputs: []OutputConfig{{Name: "led", Pin: "HALTEST_OUT", Safe: "high"}},
		PWM:     []PWMConfig{{Name: "m", Pin: "HALTEST_PWM", FrequencyHz: 20000}},
		ADCs: []ADCConfig{{Name: "adc", Chip: "mcp3208", Port: "HALTEST_SPI", SpeedHz: 500000, VRef: 4.096,
			Channels: []ADCChannelConfig{{Name: "pot", Channel: 1}}}},
	}
	brd, err := Open(cfg, PeriphHost{})
	if err != nil {
		t.Fatal(err)
	}
	if a.L != gpio.High {
		t.Error("output not at its safe level")
	}
	pot, _ := brd.ADC("pot")
	if s, err := pot.Read(); err != nil || s.Raw != 0x801 {
		t.Errorf("pot = %+v, %v", s, err)
	}
	if err := brd.Close(); err != nil {
		t.Fatal(err)
	}

	// Unknown names through the real registries.
	cfg.Outputs[0].Pin = "HALTEST_NOPE"
	cfg.ADCs[0].Port = "HALTEST_NOSPI"
	_, err = Open(cfg, PeriphHost{})
	fes := fieldErrors(err)
	if len(fes) != 2 || fes[0].Field != "board.outputs[0].pin" || fes[1].Field != "board.adcs[0].port" {
		t.Fatalf("errors = %v", err)
	}
	if !strings.Contains(fes[1].Error(), "unknown port") {
		t.Errorf("spireg's reason lost: %v", fes[1])
	}
}

func TestOpenPeriphChecksConfigFirst(t *testing.T) {
	cfg := testConfig() // driver: sim
	if _, err := OpenPeriph(cfg, zerolog.Nop()); !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "board.driver: ") {
		t.Errorf("OpenPeriph(driver sim) = %v", err)
	}
	cfg.Driver = DriverPeriph
	cfg.PWM[0].FrequencyHz = 0
	if _, err := OpenPeriph(cfg, zerolog.Nop()); !errors.Is(err, ErrRange) {
		t.Errorf("OpenPeriph(bad frequency) = %v", err)
	}
}

type fakeDriver string

func (d fakeDriver) String() string          { return string(d) }
func (d fakeDriver) Prerequisites() []string { return nil }
func (d fakeDriver) After() []string         { return nil }
func (d fakeDriver) Init() (bool, error)     { return true, nil }

var _ driver.Impl = fakeDriver("")

func TestReportAndLogDrivers(t *testing.T) {
	st := &driverreg.State{
		Loaded:  []driver.Impl{fakeDriver("sysfs-gpio"), fakeDriver("gpioioctl")},
		Skipped: []driverreg.DriverFailure{{D: fakeDriver("bcm2835-gpio"), Err: errors.New("bcm283x CPU not detected")}},
		Failed:  []driverreg.DriverFailure{{D: fakeDriver("sysfs-spi"), Err: errors.New("open /dev/spidev0.0: permission denied")}},
	}
	rep := Report(st)
	if len(rep.Loaded) != 2 || len(rep.Skipped) != 1 || len(rep.Failed) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	var buf bytes.Buffer
	LogDrivers(zerolog.New(&buf), rep)
	out := buf.String()
	for _, want := range []string{
		`{"level":"info","driver":"sysfs-gpio","message":"periph driver loaded"}`,
		`{"level":"info","driver":"gpioioctl","message":"periph driver loaded"}`,
		`{"level":"info","driver":"bcm2835-gpio: bcm283x CPU not detected","message":"periph driver skipped"}`,
		`{"level":"warn","driver":"sysfs-spi: open /dev/spidev0.0: permission denied","message":"periph driver failed"}`,
		`{"level":"info","loaded":2,"skipped":1,"failed":1,"message":"periph drivers"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if r := Report(nil); len(r.Loaded)+len(r.Skipped)+len(r.Failed) != 0 {
		t.Error("Report(nil) not empty")
	}
}
