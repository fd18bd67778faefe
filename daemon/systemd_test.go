package daemon

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/hal/sim"
)

// readUnit returns the non-comment lines of a systemd file, each with a
// leading newline, so that strings.Contains(unit, "\nKey=value") finds a
// directive and never a comment.
func readUnit(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			b.WriteString("\n" + l)
		}
	}
	return b.String()
}

// systemdConfig parses the shipped default config as installed, with
// the demo network beside it.
func systemdConfig(t *testing.T) *Config {
	t.Helper()
	data, err := os.ReadFile("../systemd/spikeloop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, "/etc/spikeloop/spikeloop.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSystemdFiles: the shipped default config is valid (with the demo
// network beside it), and the unit keeps the settings the daemon relies
// on.
func TestSystemdFiles(t *testing.T) {
	cfg := systemdConfig(t)
	if cfg.Board.Driver != "periph" {
		t.Errorf("driver %q, want periph", cfg.Board.Driver)
	}
	unit := readUnit(t, "../systemd/spikeloop.service")
	for _, want := range []string{"Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
		"DeviceAllow=char-gpiochip rw", "DeviceAllow=char-spi rw", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ExecStart=/usr/local/bin/spikeloop run --config /etc/spikeloop/spikeloop.yaml"} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	for _, bad := range []string{"\nPrivateDevices=yes", "\nProtectKernelTunables=yes"} {
		if strings.Contains(unit, bad) {
			t.Errorf("unit has %q, which hides the GPIO/SPI devices or /sys", bad)
		}
	}
}

// TestSystemdPWMPairing: periph's hardware PWM (the bcm283x driver)
// needs /dev/mem and /dev/vcio as root. The shipped unit runs as an
// unprivileged user without them, so the shipped config must not use
// board.pwm; the hardware-PWM drop-in must grant exactly what the
// driver needs.
func TestSystemdPWMPairing(t *testing.T) {
	cfg := systemdConfig(t)
	unit := readUnit(t, "../systemd/spikeloop.service")
	if !strings.Contains(unit, "\nUser=spikeloop") {
		t.Errorf("unit does not run as the user spikeloop")
	}
	if strings.Contains(unit, "/dev/mem") || strings.Contains(unit, "CAP_SYS_RAWIO") {
		t.Errorf("unit grants /dev/mem or CAP_SYS_RAWIO: that is the hardware-PWM drop-in's business")
	}
	if len(cfg.Board.PWM) > 0 {
		t.Errorf("the shipped config has %d board.pwm parts, which fail under the unprivileged unit (no /dev/mem); use digital outputs, or pair it with systemd/hardware-pwm.conf", len(cfg.Board.PWM))
	}
	drop := readUnit(t, "../systemd/hardware-pwm.conf")
	for _, want := range []string{"[Service]", "User=root", "SupplementaryGroups=", "CapabilityBoundingSet=CAP_SYS_RAWIO",
		"DeviceAllow=/dev/mem rw", "DeviceAllow=/dev/vcio rw"} {
		if !strings.Contains(drop+"\n", "\n"+want+"\n") {
			t.Errorf("hardware-pwm.conf lacks %q", want)
		}
	}
	rules := readUnit(t, "../systemd/99-spikeloop.rules")
	for _, want := range []string{`KERNEL=="gpiochip*", GROUP="gpio"`, `KERNEL=="gpiomem*", GROUP="gpio"`, `KERNEL=="spidev*", GROUP="spi"`} {
		if !strings.Contains(rules, want) {
			t.Errorf("99-spikeloop.rules lacks %q", want)
		}
	}
	// The groups the unit names are the ones the udev rule gives the
	// devices to (for an OS that does not, README.md's install notes).
	if !strings.Contains(unit, "\nSupplementaryGroups=gpio spi") {
		t.Errorf("unit's SupplementaryGroups is not \"gpio spi\", the groups of 99-spikeloop.rules")
	}
}

// TestSystemdConfigDrivesVehicle runs the shipped config's controller
// (its pulse-decoded wheels) on the emulated board with the demo's
// vehicle: 30 s of board time on the fake clock, and the vehicle must
// end within 0.3 m of the light, as the demo's PWM wheels do.
func TestSystemdConfigDrivesVehicle(t *testing.T) {
	cfg := systemdConfig(t)
	demoCfg, err := quietDemo()
	if err != nil {
		t.Fatal(err)
	}
	// The same board on the emulator, in the demo's world; no real-time
	// settings and no telemetry in a test.
	cfg.Board.Driver = "sim"
	cfg.Plant = demoCfg.Plant
	cfg.Realtime = RealtimeConfig{}
	cfg.Telemetry = nil
	var track []float64
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet(), Ticks: 30_000,
		AfterTick: func(d *Daemon, k int64) {
			if k%1000 == 0 {
				track = append(track, d.Plant().(*sim.Vehicle).DistanceToLight())
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := d.Plant().(*sim.Vehicle).DistanceToLight()
	t.Logf("distance every second: %.2f", track)
	if end > 0.3 {
		t.Errorf("the vehicle ends %.3f m from the light, want <= 0.3 m", end)
	}
}
