package telemetry

import (
	"crypto/rand"
	"encoding/hex"
)

// NewRunID returns a fresh run id: 64 random bits as 16 lowercase hex
// digits. The daemon draws one when its telemetry starts (once per
// process: a reload keeps it) and the publisher puts it in the status
// birth, the Last Will and every sample and spike batch (key "run"), so
// that a reader tells runs apart and knows that Seq restarted only when
// Run changed.
func NewRunID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand: it crashes the program rather)
	return hex.EncodeToString(b[:])
}
