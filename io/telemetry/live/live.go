// Package live is the daemon's live page: one HTML page, its script and
// its vendored libraries, built into the binary (go:embed) so that a
// board without internet serves them. The page is just another MQTT
// client: it connects to the embedded broker over MQTT-over-WebSocket
// with the user the person logs in as (or anonymously), decodes the
// msgpack telemetry and spikes in the browser, and shows the plant,
// rates, a rolling raster and the loop's health. It offers commands only
// when the broker lets that user read command replies, and each command
// is an ordinary MQTT publish the broker's ACL decides on: the page adds
// no way in that an MQTT client does not have.
//
// The vendored npm packages (mqtt, @msgpack/msgpack, uplot) are in
// assets/vendor with their licences and SHA256SUMS; vendor.sh re-fetches
// and verifies them.
package live

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Config is what the page is told (GET /config.json): nothing secret,
// only what an MQTT client of this daemon would need to know.
type Config struct {
	Board  string `json:"board"`
	Prefix string `json:"prefix"` // topic prefix, e.g. "spikeloop/demo/"
	// WebSocketPort is the broker's WebSocket port; the page connects to
	// ws://<the host it was loaded from>:<port>/mqtt.
	WebSocketPort int    `json:"websocket_port"`
	WebSocketPath string `json:"websocket_path"`
	// EveryMs is the telemetry interval.
	EveryMs float64 `json:"every_ms"`
	// Spikes are the populations on the spikes topic with their sizes,
	// in the network's order: the raster's rows.
	Spikes []Population `json:"spikes"`
	// Commands are the allow-list's entries, offered as controls to a
	// user the broker lets command.
	Commands []Command `json:"commands"`
	// Vehicle is the emulated plant, drawn to scale; nil on real boards.
	Vehicle *Vehicle `json:"vehicle,omitempty"`
}

// Population is a population's name and number of neurons.
type Population struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// Command is one allowed command.
type Command struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"` // dc_amplitude, poisson_rate, bernoulli_prob, pause, ...
	Target string   `json:"target,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
}

// Vehicle is the Braitenberg vehicle's world, in metres.
type Vehicle struct {
	Light     [2]float64 `json:"light"`
	Start     [2]float64 `json:"start"`
	Arena     float64    `json:"arena"` // half-width of the square arena; 0: no walls
	WheelBase float64    `json:"wheel_base"`
}

// Handler serves the page at /, its files under /assets/ and cfg at
// /config.json. Everything is read-only and the same for every visitor.
func Handler(cfg Config) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	files := http.FileServer(http.FS(sub))
	conf, _ := json.Marshal(cfg) // plain fields: cannot fail
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(conf)
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// A page that only its own origin may frame, whose scripts come
		// only from itself, and which talks only to its own host.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	return mux
}
