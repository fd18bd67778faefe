package daemon

import (
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/io/telemetry/live"
)

// livePage is the live page (io/telemetry/live) served next to /metrics
// on ln, or nil when the embedded broker has no WebSocket listener
// (telemetry.embedded.websocket_listen), which the page needs. It lets
// the broker's WebSocket listener accept the page's origin: browsers
// send it, and a page from anywhere else is refused.
func (s *telemetryService) livePage(cfg *Config, ln net.Listener) http.Handler {
	if s.broker == nil || s.broker.WebSocketAddr() == "" {
		return nil
	}
	_, wsPort, _ := net.SplitHostPort(s.broker.WebSocketAddr())
	port, _ := strconv.Atoi(wsPort)
	s.broker.AllowWebSocketOrigins(pageOrigins(ln.Addr())...)
	tc := cfg.Telemetry
	lc := live.Config{
		Board:         tc.Board,
		Prefix:        tc.prefix(),
		WebSocketPort: port,
		WebSocketPath: "/mqtt",
		EveryMs:       float64(tc.every) * float64(cfg.tick) / 1e6,
	}
	if cfg.net != nil {
		for _, p := range cfg.net.Populations {
			if slices.Contains(tc.Spikes, p.Name) {
				lc.Spikes = append(lc.Spikes, live.Population{Name: p.Name, Size: p.Size})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tc.Commands)) {
		c := tc.Commands[name]
		lc.Commands = append(lc.Commands, live.Command{Name: name, Kind: c.Kind, Target: c.Target, Min: c.Min, Max: c.Max})
	}
	if kind, _, ok := cfg.plant(); ok && cfg.Board.Driver == hal.DriverSim {
		lc.Vehicle = kind.live(cfg)
	}
	s.log.Info().Str("url", "http://"+ln.Addr().String()+"/").Msg("telemetry: live page up")
	return live.Handler(lc)
}

// pageOrigins are the Origin headers of a page loaded from addr: the
// address itself, and localhost for a loopback one; any host on the
// port when the listener is on every address.
func pageOrigins(addr net.Addr) []string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	switch {
	case ip != nil && ip.IsUnspecified():
		return []string{"http://*:" + port}
	case ip != nil && ip.IsLoopback():
		return []string{"http://" + addr.String(), "http://localhost:" + port}
	}
	return []string{"http://" + addr.String()}
}

// livePageSummary says where the live page is served, or why not.
func livePageSummary(t *TelemetryConfig) string {
	switch {
	case t.Broker != nil:
		return "off (an external broker: the page needs the embedded one's websocket_listen)"
	case t.Metrics.Listen == "":
		return "off (no metrics.listen to serve it on)"
	case t.Embedded.WebSocketListen == "":
		return "off (no embedded.websocket_listen)"
	}
	return "http://" + t.Metrics.Listen + "/ (MQTT over WebSocket: ws://" + t.Embedded.WebSocketListen + "/mqtt)"
}
