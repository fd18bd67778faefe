package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
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
