package daemon

import (
	"net"
	"reflect"
	"strings"
	"testing"
)

// The demo serves the live page: /metrics' listener and the broker's
// WebSocket listener, both on loopback.
func TestDemoLivePage(t *testing.T) {
	cfg, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Telemetry
	if tc.Metrics.Listen != "127.0.0.1:9464" || tc.Embedded.WebSocketListen != "127.0.0.1:1884" {
		t.Errorf("demo: metrics %q, websocket %q", tc.Metrics.Listen, tc.Embedded.WebSocketListen)
	}
	if got := livePageSummary(tc); got != "http://127.0.0.1:9464/ (MQTT over WebSocket: ws://127.0.0.1:1884/mqtt)" {
		t.Errorf("summary %q", got)
	}
}

func TestLivePageConfigErrors(t *testing.T) {
	for section, want := range map[string]string{
		"  embedded: {websocket_listen: '10.0.0.1:1884'}\n": `telemetry.embedded.websocket_listen: must be a loopback address (set allow_non_loopback: true to listen on a network), got "10.0.0.1:1884"`,
		"  embedded: {websocket_listen: 'x'}\n":             `telemetry.embedded.websocket_listen: must be host:port such as "127.0.0.1:1883", got "x"`,
	} {
		_, err := Parse([]byte(quietDemoText()+"telemetry:\n"+section), "demo.yaml", demoNetwork)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "demo.yaml:") {
			t.Errorf("%s: %v, want an error with file:line and %q", section, err, want)
		}
	}
}

func TestPageOrigins(t *testing.T) {
	for addr, want := range map[string][]string{
		"127.0.0.1:9464": {"http://127.0.0.1:9464", "http://localhost:9464"},
		"[::1]:80":       {"http://[::1]:80", "http://localhost:80"},
		"0.0.0.0:9464":   {"http://*:9464"},
		"10.1.2.3:9464":  {"http://10.1.2.3:9464"},
	} {
		a, _ := net.ResolveTCPAddr("tcp", addr)
		if got := pageOrigins(a); !reflect.DeepEqual(got, want) {
			t.Errorf("pageOrigins(%s) = %q, want %q", addr, got, want)
		}
	}
}
