package telemetry

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// seqHook records, at the broker, the seq of every telemetry message
// published to it, in the order the broker took them.
type seqHook struct {
	mqtt.HookBase
	mu   sync.Mutex
	seqs []uint64
}

func (h *seqHook) ID() string           { return "test-seq-recorder" }
func (h *seqHook) Provides(b byte) bool { return b == mqtt.OnPublished }
func (h *seqHook) OnPublished(_ *mqtt.Client, pk packets.Packet) {
	if pk.TopicName != testPrefix+"telemetry" {
		return
	}
	var tm Telemetry
	if _, err := tm.UnmarshalMsg(pk.Payload); err != nil {
		return
	}
	h.mu.Lock()
	h.seqs = append(h.seqs, tm.Seq)
	h.mu.Unlock()
}

func (h *seqHook) got() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seqs)
}

// freePort returns a loopback address that was free a moment ago.
// brokerAt starts the embedded broker on addr with a fixed daemon
// password and a seqHook, retrying while the port is still held.
func brokerAt(t *testing.T, addr string) (*Broker, *seqHook) {
	t.Helper()
	var (
		b   *Broker
		err error
	)
	for range 50 {
		b, err = StartBroker(BrokerConfig{Listen: addr, Prefix: testPrefix, DaemonPassword: "pw"})
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	h := new(seqHook)
	if err := b.srv.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	return b, h
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEmbeddedBrokerOutage stops the broker while samples keep coming,
// starts it again on the same port: every sample arrives, in order.
func TestEmbeddedBrokerOutage(t *testing.T) {
	addr := mqtttest.FreeAddr(t)
	b1, h1 := brokerAt(t, addr)
	q := newQueue(t, 64)
	p := testPublisher(t, PublisherConfig{Broker: "tcp://" + addr, Username: DaemonUser, Password: "pw"}, q)

	const n = 60
	pushed := make(chan struct{})
	go func() { pushSamples(q, n, 20*time.Millisecond); close(pushed) }()
	waitFor(t, 5*time.Second, "first samples at the broker", func() bool { return len(h1.got()) >= 10 })
	b1.Close()
	time.Sleep(600 * time.Millisecond) // the outage: samples go to the file store
	b2, h2 := brokerAt(t, addr)
	defer b2.Close()
	<-pushed
	waitFor(t, 10*time.Second, "every sample at the broker", func() bool {
		seen := map[uint64]bool{}
		for _, s := range append(h1.got(), h2.got()...) {
			seen[s] = true
		}
		return len(seen) == n
	})
	mqtttest.CheckInOrder(t, append(h1.got(), h2.got()...), n)
	if st := p.Stats(); st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if d := q.Dropped(); d != 0 {
		t.Errorf("queue dropped %d", d)
	}
}

// TestPublisherRestartDelivers stops the daemon's publisher while the
// broker is down, starts a new one on the same store, then the broker:
// what the first one queued arrives.
func TestPublisherRestartDelivers(t *testing.T) {
	addr := mqtttest.FreeAddr(t)
	store := t.TempDir()
	q1 := newQueue(t, 64)
	cfg := PublisherConfig{Broker: "tcp://" + addr, Username: DaemonUser, Password: "pw", StoreDir: store}

	p1, stop1 := startPublisher(t, cfg, q1)
	const n = 50 // stored within a few ms: the file times alone cannot order them
	pushSamples(q1, n, 0)
	stop1() // some samples may still be in the queue: stopping stores them
	if got := p1.Stats().Published; got != n {
		t.Fatalf("%d samples handed to paho at stop, want %d", got, n)
	}
	files, err := os.ReadDir(store)
	if err != nil || len(files) < n {
		t.Fatalf("store holds %d files (%v), want >= %d", len(files), err, n)
	}

	b, h := brokerAt(t, addr)
	defer b.Close()
	_, stop2 := startPublisher(t, cfg, newQueue(t, 64))
	defer stop2()
	waitFor(t, 10*time.Second, "stored samples at the broker", func() bool { return len(h.got()) >= n })
	mqtttest.CheckInOrder(t, h.got(), n)
}

// TestCorruptStoreFile: a file of an earlier run that paho cannot read is
// set aside (paho renames it *.CORRUPT) and does not hold telemetry back.
func TestCorruptStoreFile(t *testing.T) {
	b := startTestBroker(t)
	store := t.TempDir()
	if err := os.WriteFile(filepath.Join(store, "o.5.msg"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := mustConnect(t, b.URL(), "watcher", "", "")
	sub.subscribe(t, testPrefix+"telemetry", 1)
	q := newQueue(t, 16)
	testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(), StoreDir: store}, q)
	var s Telemetry
	q.Push(sample(0, &s))
	sub.next(t, testPrefix+"telemetry", 5*time.Second)
	if _, err := os.Stat(filepath.Join(store, "o.5.CORRUPT")); err != nil {
		t.Errorf("corrupt file not set aside: %v", err)
	}
}

// TestStuckResendGivesUp: when a stored message is never resent (here a
// key the store believes in but paho does not), new telemetry goes out
// after the drain limit instead of waiting for ever.
func TestStuckResendGivesUp(t *testing.T) {
	b := startTestBroker(t)
	sub := mustConnect(t, b.URL(), "watcher", "", "")
	sub.subscribe(t, testPrefix+"telemetry", 1)
	cfg := PublisherConfig{Board: "test", Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(), StoreDir: t.TempDir()}
	q := newQueue(t, 16)
	p, err := NewPublisher(cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	p.drainLimit = time.Second
	p.store.mu.Lock()
	p.store.outbound["o.999"] = struct{}{}
	p.store.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var since time.Time
	waitFor(t, 5*time.Second, "draining", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		since = p.drainSince
		return p.state == stateDraining
	})
	var s Telemetry
	q.Push(sample(0, &s))
	sub.next(t, testPrefix+"telemetry", 5*time.Second)
	if d := time.Since(since); d < 900*time.Millisecond {
		t.Errorf("telemetry %v after the connection: did not wait for the stored message", d)
	}
}

// TestStoreFailureDoesNotCrash: paho's file store panics on file errors;
// with the store directory replaced by a file, every store write fails,
// yet the daemon survives and telemetry is still sent.
func TestStoreFailureDoesNotCrash(t *testing.T) {
	b := startTestBroker(t)
	sub := mustConnect(t, b.URL(), "watcher", "", "")
	sub.subscribe(t, testPrefix+"telemetry", 1)
	store := filepath.Join(t.TempDir(), "store")
	cfg := PublisherConfig{Board: "test", Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(), StoreDir: store}
	q := newQueue(t, 16)
	p, err := NewPublisher(cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(store); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Connected: what cannot be stored is still sent.
	sub.subscribe(t, testPrefix+"status", 1)
	sub.next(t, testPrefix+"status", 5*time.Second)
	var s Telemetry
	for i := range uint64(3) {
		q.Push(sample(i, &s))
	}
	for range 3 {
		sub.next(t, testPrefix+"telemetry", 5*time.Second)
	}
}
