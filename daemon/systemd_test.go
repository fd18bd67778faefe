package daemon

import (
	"os"
	"strings"
	"testing"
)

// TestSystemdFiles: the shipped default config is valid (with the demo
// network beside it), and the unit keeps the settings the daemon relies
// on.
func TestSystemdFiles(t *testing.T) {
	data, err := os.ReadFile("../systemd/spikeloop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, "/etc/spikeloop/spikeloop.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Board.Driver != "periph" {
		t.Errorf("driver %q, want periph", cfg.Board.Driver)
	}
	unit, err := os.ReadFile("../systemd/spikeloop.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
		"DeviceAllow=char-gpiochip rw", "DeviceAllow=char-spi rw", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ExecStart=/usr/local/bin/spikeloop run --config /etc/spikeloop/spikeloop.yaml"} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	for _, bad := range []string{"\nPrivateDevices=yes", "\nProtectKernelTunables=yes"} {
		if strings.Contains(string(unit), bad) {
			t.Errorf("unit has %q, which hides the GPIO/SPI devices or /sys", bad)
		}
	}
}
