package telemetry

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"
)

const testPrefix = "spikeloop/test/"

// safeRecorder is a recorder for Controls called from paho's router
// while the test reads the calls.
type safeRecorder struct {
	mu sync.Mutex
	r  recorder
}

func (s *safeRecorder) Submit(act Action, done func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Submit(act, done)
}

func (s *safeRecorder) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.r.calls...)
}

func startTestBroker(t *testing.T, users ...User) *Broker {
	t.Helper()
	b, err := StartBroker(BrokerConfig{Listen: "127.0.0.1:0", Prefix: testPrefix, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func hash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// testPublisher runs a Publisher of q until the test ends.
func testPublisher(t *testing.T, cfg PublisherConfig, q *Queue) *Publisher {
	t.Helper()
	p, stop := startPublisher(t, cfg, q)
	t.Cleanup(stop)
	return p
}

// startPublisher runs a Publisher of q until stop is called.
func startPublisher(t *testing.T, cfg PublisherConfig, q *Queue) (p *Publisher, stop func()) {
	t.Helper()
	if cfg.Board == "" {
		cfg.Board = "test"
	}
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	cfg.Status = Status{Software: "test", ConfigHash: "c0", NetworkHash: "n0", StartUnixMs: 1}
	cfg.ConnectRetryInterval = 200 * time.Millisecond
	cfg.MaxReconnectInterval = 500 * time.Millisecond
	p, err := NewPublisher(cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	var once sync.Once
	return p, func() { once.Do(func() { cancel(); <-done }) }
}

// client is a paho client that collects what it receives.
type client struct {
	c   mqtt.Client
	got chan mqtt.Message
}

// connect connects a test client; user "" is anonymous.
func connect(t *testing.T, url, id, user, password string) (*client, error) {
	t.Helper()
	cl := &client{got: make(chan mqtt.Message, 1000)}
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).
		SetUsername(user).SetPassword(password).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(3 * time.Second)
	opts.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { cl.got <- m })
	cl.c = mqtt.NewClient(opts)
	tok := cl.c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, context.DeadlineExceeded
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { cl.c.Disconnect(50) })
	return cl, nil
}

func mustConnect(t *testing.T, url, id, user, password string) *client {
	t.Helper()
	cl, err := connect(t, url, id, user, password)
	if err != nil {
		t.Fatalf("connect %s as %q: %v", id, user, err)
	}
	return cl
}

// subscribe returns the QoS the broker granted (0x80: refused).
func (cl *client) subscribe(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	tok := cl.c.Subscribe(filter, qos, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %q: %v", filter, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter]
}

// next returns the next message on topic within d.
func (cl *client) next(t *testing.T, topic string, d time.Duration) mqtt.Message {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-cl.got:
			if m.Topic() == topic {
				return m
			}
		case <-deadline:
			t.Fatalf("nothing on %q within %v", topic, d)
			return nil
		}
	}
}

// pushSamples pushes n samples, one every gap.
func pushSamples(q *Queue, n int, gap time.Duration) {
	var s Telemetry
	for i := range n {
		q.Push(sample(uint64(i), &s))
		time.Sleep(gap)
	}
}

func TestEmbeddedBrokerTelemetry(t *testing.T) {
	b := startTestBroker(t)
	q := newQueue(t, 64)
	testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword()}, q)

	// What `mosquitto_sub -h 127.0.0.1 -t 'spikeloop/+/telemetry'` does.
	sub := mustConnect(t, b.URL(), "watcher", "", "")
	if qos := sub.subscribe(t, "spikeloop/+/telemetry", 1); qos != 1 {
		t.Fatalf("anonymous telemetry subscription granted %#x", qos)
	}
	if qos := sub.subscribe(t, testPrefix+"status", 1); qos != 1 {
		t.Fatalf("anonymous status subscription granted %#x", qos)
	}
	var st Status
	if _, err := st.UnmarshalMsg(sub.next(t, testPrefix+"status", 5*time.Second).Payload()); err != nil {
		t.Fatal(err)
	}
	if st.State != StateOnline || st.Board != "test" || st.Version != SchemaVersion || st.Software != "test" {
		t.Errorf("birth %+v", st)
	}

	const n = 20
	go pushSamples(q, n, 10*time.Millisecond)
	for want := range uint64(n) {
		var tm Telemetry
		m := sub.next(t, testPrefix+"telemetry", 5*time.Second)
		if _, err := tm.UnmarshalMsg(m.Payload()); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if tm.Seq != want || tm.Board != "test" || tm.Version != SchemaVersion || tm.Rates["right"] != 2*float64(want) {
			t.Fatalf("sample %d: got %+v", want, tm)
		}
	}
}

func TestEmbeddedBrokerSpikes(t *testing.T) {
	b := startTestBroker(t)
	spikes, err := NewSpikeQueue(16)
	if err != nil {
		t.Fatal(err)
	}
	testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(), Spikes: spikes}, newQueue(t, 8))
	sub := mustConnect(t, b.URL(), "watcher", "", "")
	if qos := sub.subscribe(t, "spikeloop/+/spikes", 1); qos != 1 {
		t.Fatalf("anonymous spikes subscription granted %#x", qos)
	}
	var bt SpikeBatch
	for k := range uint64(5) {
		spikes.Push(batch(k, &bt))
	}
	for want := range uint64(5) {
		var got SpikeBatch
		if _, err := got.UnmarshalMsg(sub.next(t, testPrefix+"spikes", 5*time.Second).Payload()); err != nil {
			t.Fatal(err)
		}
		if got.Seq != want || got.Board != "test" || len(got.Trains) != 2 || got.Trains[0].StampMs[1] != float64(want)+0.5 {
			t.Fatalf("batch %d: %+v", want, got)
		}
	}
}

func TestEmbeddedBrokerCommands(t *testing.T) {
	b := startTestBroker(t,
		User{Name: "op", Hash: hash(t, "op-secret"), Command: true},
		User{Name: "viewer", Hash: hash(t, "viewer-secret")},
	)
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	var ctl safeRecorder
	q := newQueue(t, 8)
	testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(),
		Validator: v, Controls: &ctl}, q)

	if _, err := connect(t, b.URL(), "intruder", "op", "wrong"); err == nil {
		t.Error("wrong password accepted")
	}
	if _, err := connect(t, b.URL(), "intruder2", "nobody", "x"); err == nil {
		t.Error("unknown user accepted")
	}

	op := mustConnect(t, b.URL(), "op", "op", "op-secret")
	if qos := op.subscribe(t, testPrefix+"cmd/+/reply", 1); qos != 1 {
		t.Fatalf("op reply subscription granted %#x", qos)
	}
	// The daemon subscribes after connecting; ask until it answers.
	var reply Reply
	deadline := time.Now().Add(5 * time.Second)
	for {
		waitPublished(t, op.c.Publish(testPrefix+"cmd/pause", 1, false, cmd("", "", nil)))
		select {
		case m := <-op.got:
			if _, err := reply.UnmarshalMsg(m.Payload()); err != nil {
				t.Fatal(err)
			}
		case <-time.After(200 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("no reply to pause")
		}
		break
	}
	if !reply.OK || reply.Name != "pause" || reply.ID != "t1" {
		t.Errorf("pause reply %+v", reply)
	}

	waitPublished(t, op.c.Publish(testPrefix+"cmd/drive", 1, false, cmd("", "", f64(math.NaN()))))
	m := op.next(t, testPrefix+"cmd/drive/reply", 5*time.Second)
	reply = Reply{}
	if _, err := reply.UnmarshalMsg(m.Payload()); err != nil {
		t.Fatal(err)
	}
	if reply.OK || !strings.Contains(reply.Error, "value: must be a finite number, got NaN") {
		t.Errorf("NaN reply %+v", reply)
	}
	waitPublished(t, op.c.Publish(testPrefix+"cmd/drive", 1, false, []byte("garbage")))
	reply = Reply{}
	if _, err := reply.UnmarshalMsg(op.next(t, testPrefix+"cmd/drive/reply", 5*time.Second).Payload()); err != nil {
		t.Fatal(err)
	}
	if reply.OK || !strings.Contains(reply.Error, "bad payload") {
		t.Errorf("garbage reply %+v", reply)
	}

	// Read-only and anonymous clients cannot command: QoS 0 publishes are
	// dropped by the broker, a QoS 1 publish closes their connection.
	viewer := mustConnect(t, b.URL(), "viewer", "viewer", "viewer-secret")
	if qos := viewer.subscribe(t, testPrefix+"cmd/+/reply", 1); qos != 0x80 {
		t.Errorf("viewer reply subscription granted %#x, want refused", qos)
	}
	waitPublished(t, viewer.c.Publish(testPrefix+"cmd/resume", 0, false, cmd("", "", nil)))
	anon := mustConnect(t, b.URL(), "anon", "", "")
	for _, f := range []string{testPrefix + "cmd/#", testPrefix + "cmd/+", "#", "spikeloop/#", testPrefix + "+"} {
		if qos := anon.subscribe(t, f, 1); qos != 0x80 {
			t.Errorf("anonymous subscription %q granted %#x, want refused", f, qos)
		}
	}
	waitPublished(t, anon.c.Publish(testPrefix+"cmd/resume", 0, false, cmd("", "", nil)))
	anon.c.Publish(testPrefix+"cmd/resume", 1, false, cmd("", "", nil)).WaitTimeout(time.Second)

	// A last valid command from op: when its reply is back, the ones
	// before it have been refused or dropped.
	waitPublished(t, op.c.Publish(testPrefix+"cmd/snap", 1, false, cmd("", "", nil)))
	op.next(t, testPrefix+"cmd/snap/reply", 5*time.Second)
	calls := ctl.calls()
	for len(calls) > 0 && calls[0] == "pause" { // pause may have been asked more than once
		calls = calls[1:]
	}
	if strings.Join(calls, ",") != "snapshot" {
		t.Errorf("calls after pause %q, want only snapshot", calls)
	}
}

func TestBrokerACL(t *testing.T) {
	a, err := newAccess(testPrefix, []User{
		{Name: "op", Hash: hash(t, "x"), Command: true},
		{Name: "viewer", Hash: hash(t, "y")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, topic string
		write, want bool
	}{
		{"", testPrefix + "telemetry", false, true},
		{"", "spikeloop/+/telemetry", false, true},
		{"", "+/+/status", false, true},
		{"", testPrefix + "spikes", false, true},
		{"", testPrefix + "+", false, false},
		{"", testPrefix + "#", false, false},
		{"", "#", false, false},
		{"", testPrefix + "cmd/pause", false, false},
		{"", testPrefix + "cmd/+/reply", false, false},
		{"", testPrefix + "telemetry", true, false},
		{"", testPrefix + "cmd/pause", true, false},
		{"viewer", testPrefix + "telemetry", false, true},
		{"viewer", testPrefix + "cmd/pause", true, false},
		{"viewer", testPrefix + "cmd/pause/reply", false, false},
		{"op", testPrefix + "cmd/pause", true, true},
		{"op", testPrefix + "cmd/+", true, false},
		{"op", testPrefix + "cmd/pause/reply", false, true},
		{"op", testPrefix + "cmd/+/reply", false, true},
		{"op", testPrefix + "cmd/pause", false, false},
		{"op", testPrefix + "telemetry", true, false},
		{"op", "spikeloop/other/cmd/pause", true, false},
		{DaemonUser, testPrefix + "telemetry", true, true},
		{DaemonUser, testPrefix + "status", true, true},
		{DaemonUser, testPrefix + "cmd/pause/reply", true, true},
		{DaemonUser, testPrefix + "cmd/pause", true, false},
		{DaemonUser, testPrefix + "cmd/+", false, true},
		{DaemonUser, testPrefix + "cmd/#", false, false},
		{"stranger", testPrefix + "telemetry", false, true}, // never authenticated; read set as anonymous
	}
	for _, tt := range tests {
		if got := a.allow(tt.user, tt.topic, tt.write); got != tt.want {
			t.Errorf("allow(%q, %q, write=%v) = %v, want %v", tt.user, tt.topic, tt.write, got, tt.want)
		}
	}
	a.daemonPassword = []byte("pw")
	auth := []struct {
		user, password, remote string
		want                   bool
	}{
		{"", "", "127.0.0.1:5000", true},
		{"", "", "[::1]:5000", true},
		{"", "", "192.0.2.7:5000", false},
		{"", "", "garbage", false},
		{"op", "x", "192.0.2.7:5000", true},
		{"op", "y", "127.0.0.1:5000", false},
		{DaemonUser, "pw", "127.0.0.1:5000", true},
		{DaemonUser, "", "127.0.0.1:5000", false},
		{"nobody", "x", "127.0.0.1:5000", false},
	}
	for _, tt := range auth {
		if got := a.authenticate(tt.user, []byte(tt.password), tt.remote); got != tt.want {
			t.Errorf("authenticate(%q, %q, %s) = %v, want %v", tt.user, tt.password, tt.remote, got, tt.want)
		}
	}
}

func TestStartBrokerRejects(t *testing.T) {
	tests := []struct {
		cfg  BrokerConfig
		want string
	}{
		{BrokerConfig{Listen: "0.0.0.0:0", Prefix: testPrefix}, `broker: listen: must be a loopback address (set allow_non_loopback to listen on a network), got "0.0.0.0:0"`},
		{BrokerConfig{Listen: "127.0.0.1", Prefix: testPrefix}, `broker: listen "127.0.0.1"`},
		{BrokerConfig{Listen: "127.0.0.1:0", Prefix: "spikeloop/test"}, `prefix: must be topic levels ending in '/', e.g. "spikeloop/demo/", got "spikeloop/test"`},
		{BrokerConfig{Listen: "127.0.0.1:0", Prefix: "spikeloop/+/"}, `level "+"`},
		{BrokerConfig{Listen: "127.0.0.1:0", Prefix: testPrefix, Users: []User{{Name: "a", Hash: "plain"}}}, `users[0] "a": hash: not a bcrypt hash`},
		{BrokerConfig{Listen: "127.0.0.1:0", Prefix: testPrefix, Users: []User{{Name: DaemonUser, Hash: "x"}}}, `users[0]: name: must be a name neither empty nor reserved ("spikeloop-daemon"), got "spikeloop-daemon"`},
	}
	for _, tt := range tests {
		b, err := StartBroker(tt.cfg)
		if err == nil {
			b.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartBroker(%+v): %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// waitPublished waits for a publish's token as Wait did, but fails the
// test (instead of hanging until the package's timeout) when it is not
// done within 10 s: a lost PUBACK must show as the test that lost it.
// The token's error is the caller's business (some of these publishes
// are meant to be refused).
func waitPublished(t *testing.T, tok mqtt.Token) {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("publish not done within 10 s (no PUBACK from the broker?)")
	}
}
