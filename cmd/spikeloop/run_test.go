package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
)

func TestRunDemoDuration(t *testing.T) {
	code, _, errs := runCmd(t, "run", "--no-telemetry", "--duration", "200ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, `"ticks":200`) || !strings.Contains(errs, "loop stopped; outputs safe") {
		t.Errorf("log: %s", errs)
	}
}

// The shipped demo config runs from another folder than its own: its
// network path is relative to the config file.
func TestRunShippedDemo(t *testing.T) {
	code, _, errs := runCmd(t, "run", "--no-telemetry", "--config", filepath.Join("..", "..", "examples", "demo", "spikeloop.yaml"), "--duration", "100ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, `"ticks":100`) || !strings.Contains(errs, `"network":"braitenberg.yaml"`) {
		t.Errorf("log: %s", errs)
	}
}

func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("board: {driver: sim}\nnetwork: none.yaml\ntick: 1ms\nbogus: 1\n"), 0o644)
	code, _, errs := runCmd(t, "run", "--config", file)
	if code != 1 || !strings.Contains(errs, "bogus") || !(strings.Contains(errs, "bad.yaml:4:") || strings.Contains(errs, "line 4:")) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "run", "--duration", "-1s")
	if code != 2 || !strings.Contains(errs, "--duration: must be >= 0, got -1s") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestRunSIGTERM builds the binary, starts the demo and stops it with
// SIGTERM: exit code 0 within a second, outputs safe, with the demo's
// telemetry up (embedded broker, publisher, store) as a user runs it.
func TestRunSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	dir := t.TempDir()
	conf, network := daemon.DemoFiles()
	// The telemetry section is the demo's last: a free port and a store
	// of the test's own, so that no other run is disturbed.
	// The live page's listeners too (the demo's last two lines).
	addr, ws, page := mqtttest.FreeAddr(t), mqtttest.FreeAddr(t), mqtttest.FreeAddr(t)
	conf, ok := bytes.CutSuffix(conf, []byte("  metrics: {listen: 127.0.0.1:9464}\n  embedded: {websocket_listen: 127.0.0.1:1884}\n"))
	if !ok {
		t.Fatal("the demo config no longer ends with the live page's listeners")
	}
	conf = fmt.Appendf(conf, "  embedded: {listen: '%s', websocket_listen: '%s'}\n  metrics: {listen: '%s'}\n  store_dir: %s\n",
		addr, ws, page, filepath.Join(dir, "store"))
	if err := os.WriteFile(filepath.Join(dir, "demo.yaml"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "braitenberg.yaml"), network, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", filepath.Join(dir, "demo.yaml"))
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(sent)
	if err != nil {
		t.Fatalf("exit: %v\n%s", err, errb.String())
	}
	if took > time.Second {
		t.Errorf("stopped %v after SIGTERM, want < 1 s", took)
	}
	for _, want := range []string{"telemetry: embedded MQTT broker up", addr, "telemetry: publishing", "loop stopped; outputs safe"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("no %q in the log: %s", want, errb.String())
		}
	}
}

// TestRunSIGHUP: an invalid new config is logged and the old one keeps
// running; a valid one restarts the loop; SIGTERM then exits 0.
func TestRunSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := binary(t)
	good, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "spikeloop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "braitenberg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "demo.yaml")
	os.WriteFile(cfg, good, 0o644)
	os.WriteFile(filepath.Join(dir, "braitenberg.yaml"), net, 0o644)
	good = []byte(strings.Replace(string(good), "format: auto", "format: json", 1))
	os.WriteFile(cfg, good, 0o644)

	cmd := exec.Command(bin, "run", "--no-telemetry", "--config", cfg)
	var errb syncBuilder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(what string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if strings.Contains(errb.String(), what) {
				return
			}
		}
		t.Fatalf("no %q in the log:\n%s", what, errb.String())
	}
	waitFor("daemon wired")
	os.WriteFile(cfg, []byte(strings.Replace(string(good), "tick: 1ms", "tick: 1 ms", 1)), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("keeping the running one")
	if !strings.Contains(errb.String(), `tick: must be a positive duration such as \"1ms\", got \"1 ms\"`) {
		t.Errorf("the reload error does not say why:\n%s", errb.String())
	}
	os.WriteFile(cfg, good, 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("restarting the loop")
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, errb.String())
	}
	if n := strings.Count(errb.String(), "daemon wired"); n != 2 {
		t.Errorf("%d runs wired, want 2:\n%s", n, errb.String())
	}
}

// syncBuilder is a strings.Builder safe for the writer goroutine of
// exec and the test reading it.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds the spikeloop binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spikeloop-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "spikeloop")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestRunNotify runs the binary as systemd would with Type=notify and
// WatchdogSec: READY=1, then WATCHDOG=1 keep-alives, and STOPPING=1
// after SIGTERM, on the notify socket.
func TestRunNotify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cmd := exec.Command(bin, "run", "--no-telemetry")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=100000")
	var errb syncBuilder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var states []string
	buf := make([]byte, 256)
	read := func() string {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("notify socket: %v (got %v)\n%s", err, states, errb.String())
		}
		states = append(states, string(buf[:n]))
		return string(buf[:n])
	}
	if s := read(); s != "READY=1" {
		t.Fatalf("first state %q, want READY=1", s)
	}
	if s := read(); s != "WATCHDOG=1" {
		t.Fatalf("second state %q, want WATCHDOG=1", s)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for s := ""; s != "STOPPING=1"; s = read() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, errb.String())
	}
}

// TestRunRecordReplays: `run --record` writes a recording that
// daemon.Replay turns into spikes (the bit-for-bit comparison with the
// live run is in the daemon package's tests).
func TestRunRecordReplays(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.rec")
	code, _, errs := runCmd(t, "run", "--no-telemetry", "--duration", "300ms", "--record", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, net := daemon.DemoFiles()
	spikes, err := daemon.Replay(net, "braitenberg.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(spikes) == 0 {
		t.Error("the replay has no spikes")
	}
}
