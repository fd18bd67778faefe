package telemetry

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// connectTimeout is how long a new connection may take to send its
// CONNECT; mochi sets the keep-alive deadline after that.
const connectTimeout = 10 * time.Second

// daemonMaxPacketBytes bounds what the daemon's own publisher may send to
// the embedded broker: its spikes batches hold up to 100,000 spikes
// (~1.4 MB), far above what any other client may send. It is mochi's
// MaximumPacketSize; everyone else gets BrokerConfig.MaxPacketBytes,
// checked by limitConn before a byte of the packet is buffered.
const daemonMaxPacketBytes = 16 << 20

// errPacketTooLarge is a packet refused by size; it wraps mochi's code.
type errPacketTooLarge struct {
	typ         byte
	size, limit int64
}

func (e *errPacketTooLarge) Error() string {
	return fmt.Sprintf("packet refused by size: %s of %d bytes, over the limit of %d (max_packet_bytes)", packetTypeName(e.typ), e.size, e.limit)
}

func (e *errPacketTooLarge) Unwrap() error { return packets.ErrPacketTooLarge }

func packetTypeName(t byte) string {
	if name, ok := packets.PacketNames[t]; ok {
		return name
	}
	return fmt.Sprintf("type %d", t)
}

// maxPendingConns bounds the connections that have not sent their whole
// CONNECT yet (each holds a goroutine and ~10 kB of buffers for up to
// connectTimeout). Past it the oldest is closed: a client that sends its
// CONNECT at once (as the daemon's publisher does) gets through a flood
// of silent connections.
const maxPendingConns = 64

// limitListener wraps the broker's listener: each connection gets a
// deadline for its CONNECT and a limitConn that refuses a packet larger
// than the connection's limit as soon as its fixed header arrives; at
// most maxPendingConns wait for their CONNECT.
type limitListener struct {
	net.Listener
	limit   int64 // for every client but the daemon
	log     *slog.Logger
	refused *atomic.Int64

	mu      sync.Mutex
	pending []*limitConn // oldest first
	evicted atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(connectTimeout))
	lc := &limitConn{Conn: c, ln: l}
	lc.limit.Store(l.limit)
	var oldest *limitConn
	l.mu.Lock()
	if len(l.pending) >= maxPendingConns {
		oldest = l.pending[0]
		l.pending = l.pending[1:]
	}
	l.pending = append(l.pending, lc)
	l.mu.Unlock()
	if oldest != nil {
		l.evicted.Add(1)
		l.log.Warn("broker: too many connections without a CONNECT; closed the oldest", "remote", oldest.RemoteAddr().String(), "max", maxPendingConns)
		oldest.Conn.Close()
	}
	return lc, nil
}

// connected takes c off the pending list (its CONNECT arrived, or it
// closed).
func (l *limitListener) connected(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.pending {
		if p == c {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			return
		}
	}
}

// limitConn follows the MQTT framing of what a client sends (fixed
// header byte, remaining length, body skipped by count: no copy, no
// allocation) and fails the read that brings the length of a packet over
// its limit, so mochi never allocates the packet. The connection is then
// closed; the refusal is logged with the sizes only.
type limitConn struct {
	net.Conn
	ln    *limitListener
	limit atomic.Int64
	user  atomic.Pointer[string] // set once authenticated, for the log

	// framing state, touched only by the reading goroutine
	state   uint8 // 0: fixed header byte, 1: remaining length, 2: body
	typ     byte
	length  int64
	mult    int64
	nlen    int
	skip    int64
	refused error
	packets int // complete packets seen (the first is the CONNECT)
	leave   sync.Once
}

// Close takes c off the pending list and closes it.
func (c *limitConn) Close() error {
	c.leave.Do(func() { c.ln.connected(c) })
	return c.Conn.Close()
}

// packetDone counts a complete packet; the first ends the wait for the
// CONNECT.
func (c *limitConn) packetDone() {
	c.state = 0
	if c.packets++; c.packets == 1 {
		c.leave.Do(func() { c.ln.connected(c) })
	}
}

var _ net.Conn = (*limitConn)(nil)

func (c *limitConn) Read(p []byte) (int, error) {
	if c.refused != nil {
		return 0, c.refused
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		if e := c.scan(p[:n]); e != nil {
			c.refused = e
			user := ""
			if u := c.user.Load(); u != nil {
				user = *u
			}
			// Counted and logged before the close, so that a client
			// that sees its connection closed finds both already there.
			c.ln.refused.Add(1)
			c.ln.log.Warn("broker: packet refused by size; connection closed",
				"remote", c.RemoteAddr().String(), "user", user, "type", packetTypeName(e.typ),
				"bytes", e.size, "max_packet_bytes", e.limit)
			c.Conn.Close()
			return 0, e
		}
	}
	return n, err
}

// scan advances the framing over b.
func (c *limitConn) scan(b []byte) *errPacketTooLarge {
	for len(b) > 0 {
		switch c.state {
		case 0:
			c.typ = b[0] >> 4
			c.length, c.mult, c.nlen = 0, 1, 0
			c.state = 1
			b = b[1:]
		case 1:
			x := b[0]
			b = b[1:]
			c.length += int64(x&127) * c.mult
			c.mult *= 128
			c.nlen++
			if x&128 != 0 {
				if c.nlen == 4 { // mochi refuses it; stop following
					c.state = 3
				}
				continue
			}
			if size, limit := 1+int64(c.nlen)+c.length, c.limit.Load(); size > limit {
				return &errPacketTooLarge{typ: c.typ, size: size, limit: limit}
			}
			c.skip = c.length
			c.state = 2
			if c.skip == 0 {
				c.packetDone()
			}
		case 2:
			k := min(c.skip, int64(len(b)))
			c.skip -= k
			b = b[k:]
			if c.skip == 0 {
				c.packetDone()
			}
		default:
			return nil
		}
	}
	return nil
}

// authenticated raises the limit for the daemon and names the user in
// later log lines.
func (c *limitConn) authenticated(user string, daemon bool) {
	c.user.Store(&user)
	if daemon {
		c.limit.Store(daemonMaxPacketBytes)
	}
}

// MaxCommandIDBytes is the longest command id MaxCommandPacketBytes
// allows for (the id is the sender's choice; anything is echoed).
const MaxCommandIDBytes = 256

// MaxCommandPacketBytes is the size of the largest PUBLISH packet that
// carries a valid command of the allow-list under prefix: each number
// written as a float64 (9 bytes), a list of one value per unit for a
// setter, an id of MaxCommandIDBytes, name and target given, the version
// as a 64-bit integer. BrokerConfig.MaxPacketBytes must be at least this;
// a few times it leaves room for other encoders.
func MaxCommandPacketBytes(prefix string, allow map[string]Allowed) int {
	str := func(key string, n int) int { return 1 + len(key) + 3 + n } // fixstr key, str16 header, bytes
	largest := 0
	for name, a := range allow {
		payload := 1 + // map header: 5 keys
			1 + len("version") + 9 +
			str("id", MaxCommandIDBytes) + str("name", len(name)) + str("target", len(a.Target)) +
			1 + len("value")
		if a.Kind.takesValue() {
			payload += 5 + 9*max(a.Size, 1) // array32 header, float64s
		} else {
			payload++ // nil
		}
		body := 2 + len(prefix) + len("cmd/") + len(name) + 2 + payload // topic, packet id, payload
		largest = max(largest, 1+4+body)                                // fixed header, 4-byte length at most
	}
	return largest
}
