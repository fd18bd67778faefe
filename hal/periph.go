package hal

import (
	"fmt"
	"github.com/rs/zerolog"
	"slices"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
)

// This file is the only place that touches periph's host drivers; it is
// used for driver: periph. Everything it does after host.Init goes
// through Open and the Host interface, which the tests exercise with
// fakes and the emulated board.

// DriverReport is what periph's host.Init said about each host driver:
// the three outcomes of driver.Init.
type DriverReport struct {
	Loaded  []string // driver names
	Skipped []string // "name: reason" (not relevant on this host)
	Failed  []string // "name: reason" (relevant, but it did not start)
}

// OpenPeriph initialises periph's host drivers, logs every driver that
// loaded, was skipped or failed, and opens cfg on the host's registries
// (gpioreg for pins, spireg for SPI ports). A failed driver is not an
// error by itself (periph reports it in the state, not as an error): the
// board fails only if a configured pin or port is then missing, and the
// log says which driver would have provided it.
func OpenPeriph(cfg Config, log zerolog.Logger) (*Board, error) {
	if cfg.Driver != DriverPeriph {
		return nil, &FieldError{Field: Root + ".driver", Err: &detailError{ErrInvalid, fmt.Sprintf("must be %q for OpenPeriph, got %q", DriverPeriph, cfg.Driver)}}
	}
	// Validate before touching the host, so a config error is reported
	// even on a machine without GPIO.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	state, err := host.Init()
	if err != nil {
		return nil, fmt.Errorf("hal: periph host.Init: %w", err)
	}
	rep := Report(state)
	LogDrivers(log, rep)
	b, err := Open(cfg, PeriphHost{})
	if err != nil {
		return nil, err
	}
	b.drivers = rep
	return b, nil
}

// Report converts periph's driver state into a DriverReport.
func Report(s *driverreg.State) *DriverReport {
	r := &DriverReport{}
	if s == nil {
		return r
	}
	for _, d := range s.Loaded {
		r.Loaded = append(r.Loaded, d.String())
	}
	for _, f := range s.Skipped {
		r.Skipped = append(r.Skipped, f.String())
	}
	for _, f := range s.Failed {
		r.Failed = append(r.Failed, f.String())
	}
	return r
}

// LogDrivers logs one line per driver: loaded at info, skipped at info
// (with the reason), failed at warn (with the reason), and a summary.
// The caller's logger decides where lines go; zerolog.Nop() silences them.
func LogDrivers(log zerolog.Logger, r *DriverReport) {
	for _, d := range r.Loaded {
		log.Info().Str("driver", d).Msg("periph driver loaded")
	}
	for _, d := range r.Skipped {
		log.Info().Str("driver", d).Msg("periph driver skipped")
	}
	for _, d := range r.Failed {
		log.Warn().Str("driver", d).Msg("periph driver failed")
	}
	log.Info().Int("loaded", len(r.Loaded)).Int("skipped", len(r.Skipped)).Int("failed", len(r.Failed)).Msg("periph drivers")
}

// PeriphHost is the Host of the real board: periph's global pin and SPI
// port registries, filled by host.Init.
type PeriphHost struct{}

// PinByName implements Host with gpioreg.ByName.
func (PeriphHost) PinByName(name string) gpio.PinIO { return gpioreg.ByName(name) }

// OpenSPI implements Host with spireg.Open.
func (PeriphHost) OpenSPI(name string) (spi.PortCloser, error) { return spireg.Open(name) }

var _ Host = PeriphHost{}

// HasSPI implements Names with spireg's names and aliases; it opens no
// port.
func (PeriphHost) HasSPI(name string) bool {
	for _, r := range spireg.All() {
		if r.Name == name || slices.Contains(r.Aliases, name) {
			return true
		}
	}
	return false
}

// PinNames implements PinLister with gpioreg.All.
func (PeriphHost) PinNames() []string {
	var names []string
	for _, p := range gpioreg.All() {
		names = append(names, p.Name())
	}
	return names
}

var (
	_ Names     = PeriphHost{}
	_ PinLister = PeriphHost{}
)

// ResolvePeriph checks cfg's pin and port names against this host
// without driving anything: it runs periph's host.Init (which loads the
// drivers and registers the pins, as OpenPeriph does, but sets no pin)
// and then Resolve on the registries. checked is false when the host
// has no GPIO pins at all (not a single-board computer, or no GPIO
// driver loaded; rep says which): the names could not be checked here,
// which is not an error of the config. Validate first: ResolvePeriph
// does not.
func ResolvePeriph(cfg Config) (rep *DriverReport, checked bool, err error) {
	state, err := host.Init()
	if err != nil {
		return nil, false, fmt.Errorf("hal: periph host.Init: %w", err)
	}
	rep = Report(state)
	if len(gpioreg.All()) == 0 {
		return rep, false, nil
	}
	return rep, true, cfg.Resolve(PeriphHost{})
}
