package live

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Result()
}

// The page, its script, the vendored files and the config are served
// from the binary; nothing else is.
func TestHandler(t *testing.T) {
	min := 0.0
	h := Handler(Config{Board: "b1", Prefix: "spikeloop/b1/", WebSocketPort: 1884, WebSocketPath: "/mqtt",
		Commands: []Command{{Name: "drive", Kind: "dc_amplitude", Target: "search", Min: &min}}})
	r := get(t, h, "/")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(body), `<script src="assets/app.js">`) ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("/: %d, CSP %q, %.80q", r.StatusCode, r.Header.Get("Content-Security-Policy"), body)
	}
	for _, p := range []string{"/assets/app.js", "/assets/style.css", "/assets/vendor/mqtt.min.js",
		"/assets/vendor/msgpack.min.js", "/assets/vendor/uPlot.iife.min.js", "/assets/vendor/uPlot.min.css"} {
		if r := get(t, h, p); r.StatusCode != 200 || r.ContentLength == 0 && r.Header.Get("Content-Length") == "0" {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	r = get(t, h, "/config.json")
	var c Config
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Board != "b1" || c.WebSocketPort != 1884 ||
		len(c.Commands) != 1 || c.Commands[0].Target != "search" || *c.Commands[0].Min != 0 || c.Vehicle != nil {
		t.Errorf("/config.json: %+v %v", c, err)
	}
	for _, p := range []string{"/nothing", "/assets/../live.go", "/metrics"} {
		if r := get(t, h, p); r.StatusCode != 404 && r.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("%s: %d, want 404 (or the mux's redirect to the clean path)", p, r.StatusCode)
		}
	}
}

// The vendored files are the ones SHA256SUMS names (what vendor.sh
// fetched and checked against the npm registry's integrity).
func TestVendorChecksums(t *testing.T) {
	f, err := os.Open("assets/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		data, err := assets.ReadFile("assets/vendor/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s (run io/telemetry/live/vendor.sh)", name, got, sum)
		}
		n++
	}
	if n != 7 {
		t.Errorf("%d files in SHA256SUMS, want 7 (3 packages: their files and licences)", n)
	}
}
