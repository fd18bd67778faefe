package telemetry

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"

	"github.com/gorilla/websocket"
)

// wsDial opens a raw WebSocket to the broker's /mqtt as a browser would,
// with Origin origin ("" sends none).
func wsDial(addr, origin string) (*wsConn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: 3 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+wsPath, h)
	if err != nil {
		return nil, resp, err
	}
	return &wsConn{Conn: c.UnderlyingConn(), ws: c}, resp, nil
}

// The WebSocket listener is the same broker behind a browser's door:
// the same logins and ACL, the same packet limit, and an Origin check
// that keeps other web pages out.
func TestBrokerWebSocket(t *testing.T) {
	const page = "http://127.0.0.1:9464"
	b, logBuf := limitedBroker(t, BrokerConfig{MaxPacketBytes: 4096,
		WebSocketListen: "127.0.0.1:0", WebSocketOrigins: []string{page}})
	ws := b.WebSocketAddr()
	if ws == "" || ws == b.Addr() {
		t.Fatalf("WebSocketAddr %q (broker %s)", ws, b.Addr())
	}

	// Another web page's script is refused at the upgrade.
	if _, resp, err := wsDial(ws, "http://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Origin: err %v, response %v; want 403", err, resp)
	}

	// The page: anonymous from loopback reads telemetry, not replies,
	// and its publish to cmd/ is dropped (the daemon never sees it).
	daemon := mustConnect(t, b.URL(), "daemon", DaemonUser, "pw")
	if qos := daemon.subscribe(t, testPrefix+"cmd/+", 1); qos != 1 {
		t.Fatalf("daemon's cmd subscription: %#x", qos)
	}
	c, _, err := wsDial(ws, page)
	if err != nil {
		t.Fatal(err)
	}
	anon, code, err := finishConnect(c, "page", "", "", false)
	if err != nil || code != 0 {
		t.Fatalf("anonymous page: %v, CONNACK %d", err, code)
	}
	defer anon.Close()
	if q, err := anon.subscribe(testPrefix+"telemetry", 1); err != nil || q != 1 {
		t.Fatalf("page's telemetry subscription: %#x %v", q, err)
	}
	if q, err := anon.subscribe(testPrefix+"cmd/+/reply", 1); err != nil || q != 0x80 {
		t.Fatalf("anonymous reply subscription: %#x %v, want refused (0x80)", q, err)
	}
	if tok := daemon.c.Publish(testPrefix+"telemetry", 1, false, []byte("sample")); !tok.WaitTimeout(3*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	hdr := mqtttest.PublishHeader(testPrefix+"telemetry", 1, len("sample")) // QoS 1, packet id 1
	got := make([]byte, len(hdr)+len("sample"))
	anon.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(anon.r, got); err != nil || !bytes.Equal(got, append(hdr, "sample"...)) {
		t.Fatalf("the page got % x (%v), want the daemon's sample", got, err)
	}
	anon.SetReadDeadline(time.Time{})
	forged := append(mqtttest.PublishHeader(testPrefix+"cmd/drive", 0, 2), 0x81, 0xc0)
	if _, err := anon.Write(forged); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-daemon.got:
		t.Fatalf("the anonymous page's publish reached the daemon: %s", m.Topic())
	case <-time.After(300 * time.Millisecond):
	}

	// A command user over WebSocket (no Origin: not a browser) gets the
	// replies; a wrong password is refused.
	op := mustConnect(t, "ws://"+ws+wsPath, "op", "op", "op-secret")
	if qos := op.subscribe(t, testPrefix+"cmd/+/reply", 1); qos != 1 {
		t.Fatalf("command user's reply subscription: %#x", qos)
	}
	if _, err := connect(t, "ws://"+ws+wsPath, "op2", "op", "wrong"); err == nil {
		t.Fatal("a wrong password was accepted over WebSocket")
	}

	// A packet over max_packet_bytes closes the connection by its header.
	c, _, err = wsDial(ws, page)
	if err != nil {
		t.Fatal(err)
	}
	big, code, err := finishConnect(c, "big", "", "", false)
	if err != nil || code != 0 {
		t.Fatalf("connect: %v %d", err, code)
	}
	if _, err := big.Write(mqtttest.PublishHeader(testPrefix+"telemetry", 0, 8000)); err != nil {
		t.Fatal(err)
	}
	if !big.closedWithin(3 * time.Second) {
		t.Error("a packet over max_packet_bytes over WebSocket did not close the connection")
	}
	// The connection is closed just before the refusal is counted.
	for deadline := time.Now().Add(2 * time.Second); b.Stats().PacketsRefused == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := b.Stats().PacketsRefused; n != 1 {
		t.Errorf("PacketsRefused %d, want 1\nlog: %s", n, logBuf.String())
	}

	// A text message is not MQTT: the connection is closed.
	c, _, err = wsDial(ws, page)
	if err != nil {
		t.Fatal(err)
	}
	c.ws.WriteMessage(websocket.TextMessage, mqtttest.ConnectPacket("text", "", "", false))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 4)); err == nil {
		t.Error("a text message got an answer; want the connection closed")
	}
}

func TestBrokerWebSocketLoopbackOnly(t *testing.T) {
	_, err := StartBroker(BrokerConfig{Listen: "127.0.0.1:0", Prefix: testPrefix, WebSocketListen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), `websocket_listen: must be a loopback address (set allow_non_loopback to listen on a network), got "0.0.0.0:0"`) {
		t.Fatalf("non-loopback websocket_listen: %v", err)
	}
}

func TestWebSocketOrigins(t *testing.T) {
	l := &wsListener{origins: []string{"http://127.0.0.1:9464"}}
	l.allow([]string{"http://*:8080"})
	for o, want := range map[string]bool{
		"http://127.0.0.1:9464":   true,
		"http://localhost:9464":   false,
		"https://127.0.0.1:9464":  false,
		"http://board.local:8080": true,
		"http://10.0.0.7:8080":    true,
		"https://10.0.0.7:8080":   false,
		"http://evil.example":     false,
		"http://evil.example:80":  false,
		"null":                    false,
	} {
		if got := l.allowed(o); got != want {
			t.Errorf("allowed(%q) = %v, want %v", o, got, want)
		}
	}
}
