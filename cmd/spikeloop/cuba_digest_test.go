package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cubaSpikesSHA256 is the digest of spikes.csv from `spikeloop sim
// examples/cuba.yaml` (1000 ms, 23028 spikes) as the cpu engine wrote it
// before the daemon and sim reached it through apu.Backend only (commit
// bab9e5e): the door changed no spike, byte for byte.
const cubaSpikesSHA256 = "e27bd8d1b8e50b6c4c01e75f278b33a7b722b3260101bc2f941e0333c894fa8a"

func TestSimCUBADigest(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runCmd(t, "sim", filepath.Join("..", "..", "examples", "cuba.yaml"), "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != cubaSpikesSHA256 {
		t.Errorf("spikes.csv sha256 %s, want %s (%d bytes)", got, cubaSpikesSHA256, len(data))
	}
}

// --backend picks a registered backend by name; an unknown one is a
// usage error naming the ones there are, for sim, run and bench loop.
func TestBackendFlag(t *testing.T) {
	cuba := filepath.Join("..", "..", "examples", "cuba.yaml")
	code, _, errs := runCmd(t, "sim", cuba, "--out", t.TempDir(), "--quiet", "--duration", "20ms", "--backend", "cpu")
	if code != 0 {
		t.Fatalf("sim --backend cpu: exit %d: %s", code, errs)
	}
	for _, args := range [][]string{
		{"sim", cuba, "--out", t.TempDir(), "--backend", "gpu"},
		{"run", "--backend", "gpu", "--duration", "10ms"},
		{"bench", "loop", "--backend", "gpu", "--duration", "10ms"},
	} {
		code, _, errs := runCmd(t, args...)
		if code != 2 || !strings.Contains(errs, `--backend: "gpu": not a backend; the backends are apu, cpu, fixed`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}
