package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// brokerLog wraps the handler given to mochi so that what a client sends
// never reaches the log in full, and a client cannot flood the log:
//
//   - a packet (mochi logs the whole packets.Packet, payload included,
//     with "error processing packet": a refused 20 MB publish made a
//     26.7 MB line) becomes its type, topic and sizes;
//   - a []byte becomes its length; a string or error longer than
//     maxLogString is cut, saying how long it was;
//   - each message is written at most once per logEvery; the lines left
//     out are counted in the next one's "suppressed".
type brokerLog struct {
	h     slog.Handler
	limit *logLimiter
}

const (
	maxLogString = 256
	logEvery     = time.Second
	// maxLogKeys bounds the limiter's memory (mochi's messages are
	// constants; an unknown one past this is let through unlimited).
	maxLogKeys = 256
)

type logLimiter struct {
	mu   sync.Mutex
	keys map[string]*logKey
	now  func() time.Time
}

type logKey struct {
	last       time.Time
	suppressed int
}

var _ slog.Handler = (*brokerLog)(nil)

func newBrokerLog(h slog.Handler) *brokerLog {
	return &brokerLog{h: h, limit: &logLimiter{keys: map[string]*logKey{}, now: time.Now}}
}

func (l *brokerLog) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *brokerLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "" {
		// mochi's TCP listener logs the error that ended a client's
		// session as a warning with no message. A connection closed by
		// the broker's own shutdown, or by the client, is how sessions
		// end: a debug line, not a warning at every clean stop.
		r.Message = "client session ended"
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && (errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)) {
				r.Level = slog.LevelDebug
			}
			return true
		})
		if !l.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	suppressed, ok := l.limit.allow(r.Level.String() + " " + r.Message)
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return l.h.Handle(ctx, out)
}

func (l *brokerLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redact(a)
	}
	return &brokerLog{h: l.h.WithAttrs(red), limit: l.limit}
}

func (l *brokerLog) WithGroup(name string) slog.Handler {
	return &brokerLog{h: l.h.WithGroup(name), limit: l.limit}
}

// allow reports whether a line with key may be written now, and how many
// were left out since the last one.
func (l *logLimiter) allow(key string) (int, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= maxLogKeys {
			return 0, true
		}
		l.keys[key] = &logKey{last: now}
		return 0, true
	}
	if now.Sub(k.last) < logEvery {
		k.suppressed++
		return 0, false
	}
	n := k.suppressed
	k.last, k.suppressed = now, 0
	return n, true
}

// redact replaces what a client sent by its size (see brokerLog).
func redact(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, cut(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = redact(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
	switch x := v.Any().(type) {
	case packets.Packet:
		return slog.Attr{Key: a.Key, Value: packetSummary(&x)}
	case *packets.Packet:
		if x == nil {
			return slog.Attr{Key: a.Key, Value: v}
		}
		return slog.Attr{Key: a.Key, Value: packetSummary(x)}
	case []byte:
		return slog.String(a.Key, fmt.Sprintf("%d bytes", len(x)))
	case error:
		return slog.String(a.Key, cut(x.Error()))
	case fmt.Stringer:
		return slog.String(a.Key, cut(x.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// packetSummary is what the log says of a packet: never its payload.
func packetSummary(pk *packets.Packet) slog.Value {
	attrs := []slog.Attr{
		slog.String("type", packetTypeName(pk.FixedHeader.Type)),
		slog.Int("bytes", pk.FixedHeader.Remaining),
		slog.Int("qos", int(pk.FixedHeader.Qos)),
	}
	if pk.TopicName != "" {
		attrs = append(attrs, slog.String("topic", cut(pk.TopicName)))
	}
	if len(pk.Payload) > 0 {
		attrs = append(attrs, slog.Int("payload_bytes", len(pk.Payload)))
	}
	return slog.GroupValue(attrs...)
}

// cut shortens s to maxLogString bytes, saying how long it was.
func cut(s string) string {
	if len(s) <= maxLogString {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:maxLogString], len(s))
}
