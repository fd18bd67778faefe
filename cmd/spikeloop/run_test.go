package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunDemoDuration(t *testing.T) {
	code, _, errs := runCmd(t, "run", "--duration", "200ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, `"ticks":200`) || !strings.Contains(errs, "loop stopped; outputs safe") {
		t.Errorf("log: %s", errs)
	}
}

func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("board: {driver: sim}\nnetwork: none.yaml\ntick: 1ms\nbogus: 1\n"), 0o644)
	code, _, errs := runCmd(t, "run", "--config", file)
	if code != 1 || !strings.Contains(errs, "line 4: field bogus not found") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "run", "--duration", "-1s")
	if code != 2 || !strings.Contains(errs, "negative") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestRunSIGTERM builds the binary, starts the demo and stops it with
// SIGTERM: exit code 0 within a second, outputs safe.
func TestRunSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "spikeloop")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run")
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
	if !strings.Contains(errb.String(), "loop stopped; outputs safe") {
		t.Errorf("log: %s", errb.String())
	}
}
