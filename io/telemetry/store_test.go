package telemetry

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/rs/zerolog"
)

func storeFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// TestStoreRemovesTmpFiles: the .tmp files paho's FileStore leaves when
// a write fails are removed at Open (those of an earlier run) and after
// the failed Put; messages are kept.
func TestStoreRemovesTmpFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"o.7.tmp", "i.3.tmp", "o.9.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newCountingStore(dir, zerolog.Nop(), make(chan struct{}, 1))
	s.Open()
	defer s.Close()
	if got := storeFiles(t, dir); len(got) != 0 {
		t.Fatalf("after Open: %v, want no files", got)
	}

	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.TopicName, pub.Qos, pub.MessageID, pub.Payload = "spikeloop/demo/telemetry", 1, 1, []byte("x")
	s.Put("o.1", pub)
	// A rename that fails: o.2.msg is a folder that is not empty, so
	// paho's write leaves o.2.tmp (and panics, which the store contains).
	if err := os.MkdirAll(filepath.Join(dir, "o.2.msg", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	pub.MessageID = 2
	s.Put("o.2", pub)
	got := storeFiles(t, dir)
	if !slices.Equal(got, []string{"o.1.msg", "o.2.msg"}) {
		t.Fatalf("after a failed Put: %v, want o.1.msg and the folder o.2.msg, no .tmp", got)
	}
	if s.pending() != 1 {
		t.Errorf("%d pending, want 1 (the failed message is not kept)", s.pending())
	}
}
