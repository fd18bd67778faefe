package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/rs/zerolog"
	"github.com/tinylib/msgp/msgp"
)

// limitedBroker starts a broker with cfg's limits, a command user "op"
// (password "op-secret"), daemon password "pw", logging into the
// returned buffer.
func limitedBroker(t *testing.T, cfg BrokerConfig) (*Broker, *lockedBuffer) {
	t.Helper()
	logBuf := new(lockedBuffer)
	cfg.Listen, cfg.Prefix, cfg.DaemonPassword = "127.0.0.1:0", testPrefix, "pw"
	cfg.Users = []User{{Name: "op", Hash: hash(t, "op-secret"), Command: true}}
	cfg.Logger = zerolog.New(logBuf).Level(zerolog.WarnLevel)
	b, err := StartBroker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, logBuf
}

func mustRaw(t *testing.T, b *Broker, id, user, password string, persistent bool) *rawConn {
	t.Helper()
	c, code, err := rawConnect(b.Addr(), id, user, password, persistent)
	if err != nil || code != 0 {
		t.Fatalf("connect %q as %q: %v, CONNACK code %d", id, user, err, code)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestBrokerPacketSize: a packet over MaxPacketBytes is refused by its
// header (connection closed, one short log line with the sizes), others
// keep being served, one just under the limit passes, and the daemon's
// publisher may send larger ones (spikes batches).
func TestBrokerPacketSize(t *testing.T) {
	b, logBuf := limitedBroker(t, BrokerConfig{MaxPacketBytes: 4096})
	watcher := mustConnect(t, b.URL(), "watcher", "", "")
	if qos := watcher.subscribe(t, testPrefix+"spikes", 1); qos != 1 {
		t.Fatalf("subscription granted %#x", qos)
	}

	small := mustRaw(t, b, "small", "", "", false)
	hdr := mqtttest.PublishHeader(testPrefix+"telemetry", 0, 0)
	fit := 4096 - len(mqtttest.PublishHeader(testPrefix+"telemetry", 0, 4096)) // a packet of exactly 4096 bytes
	small.Write(append(mqtttest.PublishHeader(testPrefix+"telemetry", 0, fit), make([]byte, fit)...))
	if small.closedWithin(300 * time.Millisecond) {
		t.Fatalf("a packet of exactly MaxPacketBytes closed the connection (header %d bytes)", len(hdr))
	}

	logBefore := logBuf.Len()
	big := mustRaw(t, b, "big", "", "", false)
	const n = 20 << 20
	big.Write(mqtttest.PublishHeader(testPrefix+"cmd/x", 1, n))
	big.Write(make([]byte, 64<<10)) // the broker closes before the rest
	if !big.closedWithin(3 * time.Second) {
		t.Fatal("a 20 MB publish did not close the connection")
	}
	waitFor(t, 2*time.Second, "the refusal logged", func() bool { return strings.Contains(logBuf.String(), "refused by size") })
	time.Sleep(100 * time.Millisecond) // mochi's own line about the closed connection
	logged := logBuf.String()[logBefore:]
	if len(logged) > 1024 {
		t.Errorf("refusing a 20 MB publish logged %d bytes, want < 1 KiB:\n%.2000s", len(logged), logged)
	}
	if !strings.Contains(logged, `"bytes":20971549`) || !strings.Contains(logged, `"max_packet_bytes":4096`) || !strings.Contains(logged, `"type":"Publish"`) {
		t.Errorf("log does not say type and sizes:\n%s", logged)
	}
	if st := b.Stats(); st.PacketsRefused != 1 {
		t.Errorf("stats %+v, want 1 packet refused", st)
	}

	// Everyone else is still served; the daemon may send 100 kB.
	if small.closedWithin(50 * time.Millisecond) {
		t.Error("the other client was disconnected")
	}
	daemon := mustRaw(t, b, "daemon", DaemonUser, "pw", false)
	batch := bytes.Repeat([]byte{0xc0}, 100<<10)
	daemon.Write(append(mqtttest.PublishHeader(testPrefix+"spikes", 0, len(batch)), batch...))
	m := watcher.next(t, testPrefix+"spikes", 5*time.Second)
	if len(m.Payload()) != len(batch) {
		t.Errorf("spikes payload %d bytes, want %d", len(m.Payload()), len(batch))
	}
}

// TestBrokerMaxClients: past MaxClients a client is refused ("server
// unavailable"), but the daemon's publisher still gets in, and a place
// freed is taken again.
func TestBrokerMaxClients(t *testing.T) {
	b, _ := limitedBroker(t, BrokerConfig{MaxClients: 2})
	c1 := mustRaw(t, b, "c1", "", "", false)
	mustRaw(t, b, "c2", "", "", false)
	if c, code, err := rawConnect(b.Addr(), "c3", "", "", false); err != nil || code != 3 {
		if c != nil {
			c.Close()
		}
		t.Fatalf("third client: %v, CONNACK code %d, want 3 (server unavailable)", err, code)
	}
	mustRaw(t, b, "daemon", DaemonUser, "pw", false)
	c1.Close()
	waitFor(t, 2*time.Second, "a place free again", func() bool {
		c, code, err := rawConnect(b.Addr(), "c4", "", "", false)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return err == nil && code == 0
	})
	if st := b.Stats(); st.ClientsRefused == 0 {
		t.Errorf("stats %+v, want clients refused", st)
	}
}

// TestBrokerSessionExpiry: a persistent session is dropped SessionExpiry
// after its client left; past MaxSessions the one gone longest makes room.
func TestBrokerSessionExpiry(t *testing.T) {
	b, _ := limitedBroker(t, BrokerConfig{SessionExpiry: time.Second, MaxClients: 2, MaxSessions: 2})
	c := mustRaw(t, b, "keep", "", "", true)
	c.Close()
	waitFor(t, time.Second, "the session kept after the client left", func() bool {
		cl, ok := b.srv.Clients.Get("keep")
		return ok && cl.StopTime() != 0
	})
	left := time.Now()
	waitFor(t, 4*time.Second, "the session expired", func() bool {
		_, ok := b.srv.Clients.Get("keep")
		return !ok
	})
	if d := time.Since(left); d < 900*time.Millisecond {
		t.Errorf("session dropped after %v, before SessionExpiry", d)
	}

	for _, id := range []string{"s1", "s2"} {
		c := mustRaw(t, b, id, "", "", true)
		c.Close()
		time.Sleep(1100 * time.Millisecond) // StopTime is in seconds: s1 is older
		if _, ok := b.srv.Clients.Get(id); !ok {
			t.Fatalf("session %s not kept", id)
		}
	}
	mustRaw(t, b, "s3", "", "", true)
	if _, ok := b.srv.Clients.Get("s1"); ok {
		t.Error("s1, gone longest, still kept past MaxSessions")
	}
	if _, ok := b.srv.Clients.Get("s2"); !ok && b.srv.Clients.Len() > 2 {
		t.Error("more sessions than MaxSessions")
	}
}

// TestBrokerLoginFlood: 50 wrong-password CONNECTs from loopback cost at
// most AuthFailures password checks (plus one per back-off window that
// ends during the flood); the daemon's publisher still logs in during the
// back-off, a right password is refused until the window ends, then
// accepted.
func TestBrokerLoginFlood(t *testing.T) {
	const backoff = time.Second
	b, logBuf := limitedBroker(t, BrokerConfig{AuthFailures: 3, AuthBackoff: backoff, AuthBackoffMax: backoff})
	start := time.Now()
	codes := map[byte]int{}
	for i := range 50 {
		c, code, err := rawConnect(b.Addr(), "", "op", "wrong", false)
		if err != nil {
			t.Fatalf("CONNECT %d: %v", i, err)
		}
		c.Close()
		codes[code]++
	}
	elapsed := time.Since(start)
	st := b.Stats()
	if limit := int64(3 + elapsed/backoff); st.PasswordChecks > limit {
		t.Errorf("%d password checks for 50 CONNECTs in %v, want at most %d", st.PasswordChecks, elapsed, limit)
	}
	if codes[5] < 3 || codes[3] < 40 || codes[0] != 0 {
		t.Errorf("CONNACK codes %v: want 3+ not authorized (5), the rest server unavailable (3)", codes)
	}
	t.Logf("50 CONNECTs in %v: %d password checks, codes %v, stats %+v", elapsed, st.PasswordChecks, codes, st)

	// Another loopback address is the same address, the daemon is exempt.
	if c, code, err := rawConnectFrom("127.0.0.2", b.Addr(), "op", "op-secret"); err != nil || code != 3 {
		t.Errorf("right password from 127.0.0.2 during the back-off: %v, code %d, want 3", err, code)
	} else {
		c.Close()
	}
	mustRaw(t, b, "daemon", DaemonUser, "pw", false)

	time.Sleep(time.Until(time.Now().Add(backoff + 100*time.Millisecond)))
	mustRaw(t, b, "op", "op", "op-secret", false)
	if !strings.Contains(logBuf.String(), "backing off") {
		t.Errorf("back-off not logged:\n%s", logBuf.String())
	}
}

// rawConnectFrom is rawConnect from a given local address.
func rawConnectFrom(local, addr, user, password string) (*rawConn, byte, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	return finishConnect(c, "", user, password, false)
}

// TestAddrKey: every loopback address is one, IPv6 counts by /64.
func TestAddrKey(t *testing.T) {
	same := [][2]string{
		{"127.0.0.1:1", "127.0.0.2:2"}, {"127.0.0.1:1", "[::1]:3"}, {"127.0.0.1:1", "[::ffff:127.0.0.9]:4"},
		{"10.0.0.1:1", "10.0.0.1:2"}, {"[2001:db8::1]:1", "[2001:db8::ffff]:2"},
	}
	for _, p := range same {
		if addrKey(p[0]) != addrKey(p[1]) {
			t.Errorf("%s and %s counted apart", p[0], p[1])
		}
	}
	differ := [][2]string{{"10.0.0.1:1", "10.0.0.2:1"}, {"[2001:db8::1]:1", "[2001:db8:0:1::1]:1"}, {"127.0.0.1:1", "10.0.0.1:1"}}
	for _, p := range differ {
		if addrKey(p[0]) == addrKey(p[1]) {
			t.Errorf("%s and %s counted together", p[0], p[1])
		}
	}
}

// TestAuthGateBackoff walks the gate's clock: the window doubles up to
// the cap, refusals in a window cost nothing, a success forgets.
func TestAuthGateBackoff(t *testing.T) {
	compares := 0
	g, _ := newAuthGate(2, time.Second, 4*time.Second, nil, func(h, p []byte) error {
		compares++
		if string(p) == "right" {
			return nil
		}
		return packets.ErrBadUsernameOrPassword
	})
	defer g.close()
	now := time.Unix(1000, 0)
	g.now = func() time.Time { return now }
	try := func(pw string) (admitted, ok bool) {
		if !g.admitRemote("127.0.0.1:5") {
			return false, false
		}
		return true, g.compare("127.0.0.1:5", nil, []byte(pw))
	}
	for range 2 {
		if a, _ := try("x"); !a {
			t.Fatal("refused before AuthFailures failures")
		}
	}
	for _, step := range []struct {
		after time.Duration
		admit bool
	}{
		{0, false}, {999 * time.Millisecond, false}, {time.Second, true}, // window 1 s, then a probe fails: 2 s
		{time.Second, false}, {2 * time.Second, true}, // 4 s
		{4 * time.Second, true}, // capped at 4 s
		{3 * time.Second, false}, {4 * time.Second, true},
	} {
		now = now.Add(step.after)
		if a, _ := try("x"); a != step.admit {
			t.Fatalf("after %v: admitted %v, want %v", step.after, a, step.admit)
		}
	}
	if compares != 6 {
		t.Errorf("%d compares, want 6", compares)
	}
	now = now.Add(4 * time.Second)
	if a, ok := try("right"); !a || !ok {
		t.Fatalf("right password after the window: admitted %v ok %v", a, ok)
	}
	if a, _ := try("x"); !a {
		t.Error("a success did not clear the record")
	}
}

// TestBrokerLogRedaction: a packet in mochi's log becomes its sizes, long
// strings are cut, a repeated message is written once a second.
func TestBrokerLogRedaction(t *testing.T) {
	var buf bytes.Buffer
	h := newBrokerLog(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1000, 0)
	h.limit.now = func() time.Time { return now }
	log := slog.New(h).With("client", strings.Repeat("c", 10000))
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Remaining: 20 << 20},
		TopicName: "spikeloop/x/cmd/y", Payload: make([]byte, 20<<20)}
	log.Warn("error processing packet", "error", packets.ErrNotAuthorized, "pk", pk, "raw", []byte("secret"))
	line := buf.String()
	if len(line) > 1024 {
		t.Fatalf("log line of %d bytes: %.300s", len(line), line)
	}
	for _, want := range []string{"pk.type=Publish", "pk.payload_bytes=20971520", "pk.topic=spikeloop/x/cmd/y", "raw=\"6 bytes\"", "(10000 bytes)", "not authorized"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q: %s", want, line)
		}
	}
	for range 100 {
		log.Warn("error processing packet", "pk", &pk)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("%d lines after 100 repeats within a second, want 1", n)
	}
	now = now.Add(time.Second)
	log.Warn("error processing packet", "pk", &pk)
	if !strings.Contains(buf.String(), "suppressed=100") {
		t.Errorf("suppressed lines not counted: %s", buf.String())
	}
}

// TestMaxCommandPacketBytes: the bound holds the largest command and is
// close to it; the default holds a per-unit list of ~7,000 values.
func TestMaxCommandPacketBytes(t *testing.T) {
	allow := map[string]Allowed{
		"drive": {Kind: KindPoissonRate, Target: "drive_pop", Size: 1000, Min: 0, Max: 100},
		"pause": {Kind: KindPause},
	}
	vals := msgp.AppendArrayHeader(nil, 1000)
	for range 1000 {
		vals = msgp.AppendFloat64(vals, 1.5)
	}
	c := Command{Version: 1, ID: strings.Repeat("i", MaxCommandIDBytes), Name: "drive", Target: "drive_pop", Value: vals}
	payload, err := c.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	topic := testPrefix + "cmd/drive"
	packet := len(mqtttest.PublishHeader(topic, 1, len(payload))) + len(payload)
	bound := MaxCommandPacketBytes(testPrefix, allow)
	if bound < packet || bound > packet+40 {
		t.Errorf("MaxCommandPacketBytes = %d, the command's packet is %d bytes", bound, packet)
	}
	big := map[string]Allowed{"drive": {Kind: KindDCAmplitude, Target: "p", Size: 7000, Min: -1, Max: 1}}
	if n := MaxCommandPacketBytes("spikeloop/demo/", big); n > DefaultMaxPacketBytes {
		t.Errorf("a 7,000-unit list needs %d bytes, over the default %d", n, DefaultMaxPacketBytes)
	}
}

// TestBrokerConfigLimits: zero is the default, nonsense is refused.
func TestBrokerConfigLimits(t *testing.T) {
	cfg, err := BrokerConfig{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxPacketBytes != DefaultMaxPacketBytes || cfg.MaxClients != DefaultMaxClients || cfg.MaxSessions != 4*DefaultMaxClients ||
		cfg.SessionExpiry != DefaultSessionExpiry || cfg.MaxInflight != DefaultMaxInflight || cfg.MaxWritesPending != DefaultMaxWritesPending ||
		cfg.AuthFailures != DefaultAuthFailures || cfg.AuthBackoff != DefaultAuthBackoff || cfg.AuthBackoffMax != DefaultAuthBackoffMax {
		t.Errorf("defaults %+v", cfg)
	}
	for _, tt := range []struct {
		cfg  BrokerConfig
		want string
	}{
		{BrokerConfig{MaxClients: -1}, "max_clients: must be >= 0 (0 means the default), got -1"},
		{BrokerConfig{MaxPacketBytes: 100}, "max_packet_bytes: must be 1024..16777216 (a CONNECT with a user name and password needs a few hundred bytes), got 100"},
		{BrokerConfig{MaxClients: 10, MaxSessions: 5}, "max_sessions: must be >= max_clients (10; every connected client has a session), got 5"},
		{BrokerConfig{SessionExpiry: 1500 * time.Millisecond}, "session_expiry: must be whole seconds, e.g. 1h, got 1.5s"},
		{BrokerConfig{MaxInflight: 70000}, "max_inflight: must be at most 65535 (MQTT's packet ids), got 70000"},
		{BrokerConfig{AuthBackoff: time.Minute, AuthBackoffMax: time.Second}, "auth_backoff_max: must be >= auth_backoff (1m0s), got 1s"},
		{BrokerConfig{AuthCPUs: []int{-1}}, "auth_cpus: must be CPU numbers 0..1023, got -1"},
	} {
		if _, err := tt.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := newAccess(testPrefix, []User{{Name: "a", Hash: "$2a$15$" + strings.Repeat("a", 53)}}); err == nil || !strings.Contains(err.Error(), "bcrypt cost 15 is over 14") {
		t.Errorf("cost 15: %v", err)
	}
}

// TestBrokerSilentConnections: connections that never send a CONNECT
// cannot pile up (the oldest past maxPendingConns is closed) nor keep a
// client that does send one out.
func TestBrokerSilentConnections(t *testing.T) {
	b, _ := limitedBroker(t, BrokerConfig{})
	var silent []net.Conn
	for range maxPendingConns + 6 {
		c, err := net.DialTimeout("tcp", b.Addr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	waitFor(t, 3*time.Second, "the oldest silent connections closed", func() bool { return b.Stats().SilentClosed == 6 })
	for i, c := range silent[:6] {
		rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
		if !rc.closedWithin(time.Second) {
			t.Errorf("silent connection %d still open", i)
		}
	}
	mustRaw(t, b, "daemon", DaemonUser, "pw", false)
	mustRaw(t, b, "reader", "", "", false)
	b.lln.mu.Lock()
	n := len(b.lln.pending)
	b.lln.mu.Unlock()
	// the daemon's connection made room by closing one more silent one
	if n != maxPendingConns-1 || b.Stats().SilentClosed != 7 {
		t.Errorf("%d connections pending, %d closed; want %d (the silent ones; those that sent a CONNECT left) and 7", n, b.Stats().SilentClosed, maxPendingConns-1)
	}
}

// TestBrokerAbandonedSessions: clients that subscribe at QoS 1 and go
// away for good hold at most MaxSessions sessions of at most MaxInflight
// messages each, however many come and however much is published.
func TestBrokerAbandonedSessions(t *testing.T) {
	b, _ := limitedBroker(t, BrokerConfig{MaxClients: 4, MaxSessions: 8, MaxInflight: 4})
	for i := range 20 {
		c := mustRaw(t, b, "gone"+strconv.Itoa(i), "", "", true)
		if qos, err := c.subscribe(testPrefix+"telemetry", 1); err != nil || qos != 1 {
			t.Fatalf("subscribe: %v, granted %d", err, qos)
		}
		c.Close()
	}
	daemon := mustRaw(t, b, "daemon", DaemonUser, "pw", false)
	payload := make([]byte, 1000)
	for range 50 {
		daemon.Write(append(mqtttest.PublishHeader(testPrefix+"telemetry", 1, len(payload)), payload...))
	}
	waitFor(t, 3*time.Second, "the daemon's publishes taken", func() bool {
		var in int64
		for _, cl := range b.srv.Clients.GetAll() {
			in += int64(cl.State.Inflight.Len())
		}
		return in >= 7*4 // every abandoned session full
	})
	sessions, inflight := 0, 0
	for id, cl := range b.srv.Clients.GetAll() {
		if id == "daemon" || cl.Net.Inline { // the inline client carries commands
			continue
		}
		sessions++
		if n := cl.State.Inflight.Len(); n > 4 {
			t.Errorf("session %s holds %d messages, over MaxInflight", id, n)
		}
		inflight += cl.State.Inflight.Len()
	}
	if sessions > 8 {
		t.Errorf("%d sessions kept, over MaxSessions", sessions)
	}
	t.Logf("%d sessions, %d messages held", sessions, inflight)
}

// TestBrokerLogSessionEnd: mochi's listener logs a client session's end
// as a warning with no message; a connection closed (by the broker's own
// shutdown, or by the client) becomes a debug line with a message, any
// other error stays a warning, with the message.
func TestBrokerLogSessionEnd(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newBrokerLog(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))).With("listener", "tcp")
	closed := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	log.Warn("", "error", closed)
	log.Warn("", "error", fmt.Errorf("read connection: %w", io.EOF))
	if buf.Len() != 0 {
		t.Errorf("a closed connection is logged as a warning: %s", buf.String())
	}
	log.Warn("", "error", errors.New("read connection: malformed packet"))
	if line := buf.String(); !strings.Contains(line, "level=WARN") || !strings.Contains(line, `msg="client session ended"`) || !strings.Contains(line, "malformed packet") {
		t.Errorf("another session error: %q, want a warning with a message", line)
	}
	buf.Reset()
	debug := slog.New(newBrokerLog(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	debug.Warn("", "error", closed)
	if line := buf.String(); !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "client session ended") {
		t.Errorf("at debug level: %q, want a debug line", line)
	}
}

// TestBrokerAbandonedSessionsHeap: 300 clients that subscribe at QoS 1
// and go away for good, then 300 samples of 1 kB from the daemon: with
// the default limits the heap after a collection grows by no more than
// MaxSessions sessions of MaxInflight messages can hold (measured, not
// timed: 25 MB here); the same with the limits lifted holds far more
// (217 MB here).
func TestBrokerAbandonedSessionsHeap(t *testing.T) {
	grow := func(t *testing.T, cfg BrokerConfig) (int64, int) {
		b, _ := limitedBroker(t, cfg)
		h0 := heapNow()
		kept := 0
		for i := range 300 {
			c, code, err := rawConnect(b.Addr(), "gone"+strconv.Itoa(i), "", "", true)
			if err != nil || code != 0 {
				continue // over MaxClients while earlier ones are still closing
			}
			if qos, err := c.subscribe(testPrefix+"telemetry", 1); err == nil && qos == 1 {
				kept++
			}
			c.Close()
		}
		daemon := mustRaw(t, b, "daemon", DaemonUser, "pw", false)
		payload := make([]byte, 1000)
		for range 300 {
			daemon.Write(append(mqtttest.PublishHeader(testPrefix+"telemetry", 1, len(payload)), payload...))
		}
		// The daemon's own session gets PUBACKs: when the last one is in,
		// every publish was handed to the sessions. The deadline only
		// guards against a hang: the test measures memory, not time, and
		// with the limits lifted handing 300 publishes to 300 sessions
		// took over 10 s once on the 2-core machine at load 18.
		daemon.SetReadDeadline(time.Now().Add(2 * time.Minute))
		for acks := 0; acks < 300; acks++ {
			var ack [4]byte
			if _, err := io.ReadFull(daemon.r, ack[:]); err != nil {
				t.Fatalf("PUBACK %d: %v", acks, err)
			}
		}
		return heapNow() - h0, kept
	}
	limited, kept := grow(t, BrokerConfig{})
	// A held message costs its payload and about 2 kB of mochi's
	// bookkeeping (measured: 25 MB for 128 x 64 messages of 1 kB).
	limit := int64(DefaultMaxClients*4) * DefaultMaxInflight * (1000 + 4096)
	t.Logf("defaults: %d subscriptions made, heap grew %.1f MB (bound %.1f MB)", kept, float64(limited)/1e6, float64(limit)/1e6)
	if limited > limit {
		t.Errorf("heap grew %.1f MB with the default limits, over %.1f MB", float64(limited)/1e6, float64(limit)/1e6)
	}
	lifted, kept := grow(t, BrokerConfig{MaxClients: 1000, MaxSessions: 1000, MaxInflight: 1000})
	t.Logf("limits lifted: %d subscriptions made, heap grew %.1f MB", kept, float64(lifted)/1e6)
	if lifted < 2*limited {
		t.Errorf("lifting the limits grew the heap by %.1f MB only, against %.1f MB: the test does not see what the limits bound", float64(lifted)/1e6, float64(limited)/1e6)
	}
}

// heapNow is the heap in use after a collection.
func heapNow() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}
