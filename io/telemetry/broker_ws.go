package telemetry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The broker's MQTT-over-WebSocket listener (BrokerConfig.WebSocketListen),
// for browsers: the live page is an MQTT client like any other.
//
// It is a net.Listener whose connections carry the MQTT byte stream in
// binary WebSocket messages, so that it goes through the same
// limitListener as the TCP listener (CONNECT deadline, packet size,
// connections waiting for their CONNECT) and the same authentication and
// ACL: a WebSocket client is a client, anonymous ones from loopback only
// (the address is the TCP peer's). mochi's own WebSocket listener is not
// used because it accepts any Origin and cannot be wrapped.
//
// A browser sends an Origin header, and any page a user visits could
// open a WebSocket to 127.0.0.1: the upgrade is refused unless the Origin
// is one of WebSocketOrigins (the daemon's own page). Clients that send
// no Origin (not browsers) are not affected.
type wsListener struct {
	ln      net.Listener
	mu      sync.RWMutex
	origins []string
	srv     *http.Server
	conns   chan net.Conn
	done    chan struct{}
	closing sync.Once
	up      websocket.Upgrader
}

// wsPath is where the WebSocket listener upgrades (mqtt.js and most
// browser clients use /mqtt).
const wsPath = "/mqtt"

func listenWebSocket(addr string, origins []string, readLimit int64) (*wsListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &wsListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), origins: slices.Clone(origins)}
	l.up = websocket.Upgrader{
		Subprotocols:     []string{"mqtt"},
		HandshakeTimeout: connectTimeout,
		CheckOrigin: func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			return o == "" || l.allowed(o)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(wsPath, func(w http.ResponseWriter, r *http.Request) {
		c, err := l.up.Upgrade(w, r, nil) // answers 403 or 400 itself
		if err != nil {
			return
		}
		c.SetReadLimit(readLimit)
		select {
		case l.conns <- &wsConn{Conn: c.UnderlyingConn(), ws: c}:
		case <-l.done:
			c.Close()
		}
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: connectTimeout}
	go l.srv.Serve(ln)
	return l, nil
}

// allowed reports whether a browser's Origin o may upgrade: it is one of
// the origins, or an origin "http://*:PORT" allows any host on PORT
// (a page served on every address of the board).
func (l *wsListener) allowed(o string) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, a := range l.origins {
		if a == o {
			return true
		}
		if port, ok := strings.CutPrefix(a, "http://*:"); ok {
			if u, err := url.Parse(o); err == nil && u.Scheme == "http" && u.Port() == port && u.Path == "" {
				return true
			}
		}
	}
	return false
}

func (l *wsListener) allow(origins []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.origins = append(l.origins, origins...)
}

func (l *wsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections already handed to the broker are
// the broker's to close.
func (l *wsListener) Close() error {
	l.closing.Do(func() {
		close(l.done)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		l.srv.Shutdown(ctx)
	})
	return nil
}

func (l *wsListener) Addr() net.Addr { return l.ln.Addr() }

// wsConn is the MQTT byte stream of a WebSocket: reads run through the
// binary messages one after the other, each write is one message.
// Deadlines and addresses are the TCP connection's.
type wsConn struct {
	net.Conn
	ws  *websocket.Conn
	cur io.Reader // the message being read; nil between messages
}

// errNotBinary: MQTT over WebSocket is carried in binary messages only.
var errNotBinary = errors.New("websocket: a text message; MQTT needs binary messages")

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errNotBinary
			}
			c.cur = r
		}
		n, err := c.cur.Read(p)
		if errors.Is(err, io.EOF) {
			c.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error { return c.ws.Close() }
