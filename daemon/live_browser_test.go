package daemon

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
)

// chromium finds Debian's chromium, or skips saying why.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it): skipping the live page in a real browser")
	return ""
}

// pageState is what the test reads of window.spikeloop.
type pageState struct {
	Connected    bool    `json:"connected"`
	CanCommand   bool    `json:"canCommand"`
	Samples      int     `json:"samples"`
	Spikes       int     `json:"spikes"`
	RasterPoints int     `json:"rasterPoints"`
	Errors       []any   `json:"errors"`
	Vehicle      *pose   `json:"vehicle"`
	Transform    *scaler `json:"transform"`
	Replies      []struct {
		ID    string `json:"id"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"replies"`
}

type pose struct {
	Seq          uint64 `json:"seq"`
	X, Y, CX, CY float64
}

type scaler struct{ Scale, OX, OY float64 }

const stateJS = `(() => { const s = window.spikeloop; return {connected: s.connected, canCommand: s.canCommand,
  samples: s.samples, spikes: s.spikes, rasterPoints: s.rasterPoints, errors: s.errors,
  vehicle: s.vehicle && {seq: s.vehicle.seq, X: s.vehicle.x, Y: s.vehicle.y, CX: s.vehicle.cx, CY: s.vehicle.cy},
  transform: s.transform && {Scale: s.transform.scale, OX: s.transform.ox, OY: s.transform.oy},
  replies: s.replies}; })()`

// The live page in Debian's chromium, driven by chromedp: it connects
// over MQTT-over-WebSocket, shows the telemetry, the raster and the
// vehicle where the telemetry puts it; anonymous it has no controls and
// the broker refuses a publish forged from the browser; logged in as a
// command user, a generator change made on the page reaches the network.
func TestLivePageInBrowser(t *testing.T) {
	bin := chromium(t)
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	start := time.Now()
	addr, wsAddr, httpAddr := mqtttest.FreeAddr(t), mqtttest.FreeAddr(t), mqtttest.FreeAddr(t)
	h, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`  embedded:
    listen: %s
    websocket_listen: %s
    users:
      - {name: op, hash: '%s', command: true}
  metrics: {listen: %s}
  spikes: [motor_left, motor_right]
  commands:
    drive: {kind: dc_amplitude, target: search, min: 0, max: 2000}
`, addr, wsAddr, h, httpAddr)
	section := strings.Replace(fmt.Sprintf(telSection, "live", t.TempDir(), extra), "  spikes: [motor_left]\n", "", 1)
	startRun(t, demoWith(t, "", section), Options{})
	waitListen(t, httpAddr)
	w := watch(t, addr, "spikeloop/live/", "", "", "", "telemetry")

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 900))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 40*time.Second)
	defer cancel()

	read := func() pageState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](stateJS))
		if err != nil {
			t.Fatalf("reading the page's state: %v", err)
		}
		return s
	}
	waitFor := func(what string, cond func(pageState) bool) pageState {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			s := read()
			if cond(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page never showed %s; state %+v", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+httpAddr+"/"), chromedp.WaitReady(chromedp.CSS("#plant"))); err != nil {
		t.Fatal(err)
	}
	st := waitFor("20 samples and spikes in the raster", func(s pageState) bool {
		return s.Connected && s.Samples >= 20 && s.RasterPoints > 0 && s.Vehicle != nil && s.Transform != nil
	})
	if len(st.Errors) > 0 {
		t.Errorf("page errors: %v", st.Errors)
	}

	// The vehicle is drawn where the telemetry sample of that seq says,
	// at the scale the page reports, and the canvas holds the vehicle's
	// colour there: pose, scale and pixel read in one turn of the page's
	// event loop, so no new sample is drawn in between.
	type drawn struct {
		V     pose
		T     scaler
		Pixel []int
	}
	d, err := chromedp.Run(ctx, chromedp.Evaluate[drawn](`(() => { const s = window.spikeloop, v = s.vehicle;
		const px = document.getElementById("plant").getContext("2d").getImageData(Math.round(v.cx), Math.round(v.cy), 1, 1).data;
		return {V: {seq: v.seq, X: v.x, Y: v.y, CX: v.cx, CY: v.cy},
			T: {Scale: s.transform.scale, OX: s.transform.ox, OY: s.transform.oy}, Pixel: Array.from(px)}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	v, tr := d.V, d.T
	var sample *telemetry.Telemetry
	w.waitSamples(t, 3*time.Second, fmt.Sprintf("sample seq %d", v.Seq), func(ss []telemetry.Telemetry) bool {
		for i := range ss {
			if ss[i].Seq == v.Seq {
				sample = &ss[i]
				return true
			}
		}
		return false
	})
	if sample.Plant["x"] != v.X || sample.Plant["y"] != v.Y {
		t.Errorf("page drew seq %d at (%v, %v) m; telemetry says (%v, %v)", v.Seq, v.X, v.Y, sample.Plant["x"], sample.Plant["y"])
	}
	if math.Abs(v.CX-(tr.OX+v.X*tr.Scale)) > 1e-9 || math.Abs(v.CY-(tr.OY-v.Y*tr.Scale)) > 1e-9 || tr.Scale <= 0 {
		t.Errorf("vehicle at canvas (%v, %v), transform %+v", v.CX, v.CY, tr)
	}
	if len(d.Pixel) != 4 || d.Pixel[0] != 0x1f || d.Pixel[1] != 0x5f || d.Pixel[2] != 0xff {
		t.Errorf("canvas pixel at the vehicle (%v, %v) is %v, want the vehicle's #1f5fff", v.CX, v.CY, d.Pixel)
	}

	shot := screenshot(t, ctx, "live-anonymous.png")

	// Anonymous: no controls, and a command forged in the browser with
	// the page's own client is refused by the broker (PUBACK "not
	// authorized"), so search.I stays.
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("controls-box").hidden`))
	if err != nil {
		t.Fatal(err)
	}
	if !hidden || st.CanCommand {
		t.Errorf("anonymous page: controls hidden %v, canCommand %v; want no controls", hidden, st.CanCommand)
	}
	forged, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((ok) => spikeloop.client.publish(spikeloop.config.prefix + "cmd/drive",
		MessagePack.encode({version: 1, id: "forged", name: "drive", target: "", value: 7}), {qos: 1},
		(err) => ok(err ? err.message : "accepted")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if forged != "Publish error: Not authorized" {
		t.Errorf("anonymous publish to cmd/drive from the browser: %q, want the broker's refusal", forged)
	}

	// Logged in as the command user, the controls appear (the broker
	// granted the replies) and a generator change reaches the network.
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#user"), "op"),
		chromedp.SendKeys(chromedp.CSS("#password"), "op-secret"), chromedp.Click(chromedp.CSS("#login button")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the controls after logging in", func(s pageState) bool { return s.Connected && s.CanCommand })
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#cmd-drive")),
		chromedp.SetValue(chromedp.CSS("#cmd-drive"), "1234"), chromedp.Click(chromedp.CSS("#cmd-drive-send")))
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor("the reply to the command", func(s pageState) bool { return len(s.Replies) > 0 })
	if r := st.Replies[0]; !r.OK {
		t.Fatalf("command refused: %+v", r)
	}
	w.waitSamples(t, 5*time.Second, "search.I = 1234 after the page's command", func(ss []telemetry.Telemetry) bool {
		return len(ss) > 0 && ss[len(ss)-1].States["search.I"][0] == 1234
	})
	for _, s := range w.samples(t) {
		if s.States["search.I"][0] == 7 {
			t.Fatal("the forged command reached the network")
		}
	}
	screenshot(t, ctx, "live-op.png")
	t.Logf("screenshots: %s (and live-op.png); %v", shot, time.Since(start).Round(time.Millisecond))
}

// screenshot writes the page as name under $SPIKELOOP_ARTIFACTS, or
// the test's temporary folder, and returns the path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SPIKELOOP_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 {
		t.Errorf("screenshot %s: %d bytes", path, len(png))
	}
	return path
}
