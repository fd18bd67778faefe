package remote

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// SPI is the link on an SPI bus (firmware/README.md, "Link"): a
// transaction whose first byte is the sync byte writes a request; the
// chip pulls data-ready low when the response waits, and any other
// transaction reads it from its first byte (zeros after its end; it may
// be read again until the next request). The host reads as many bytes
// as the last response had, and the rest in a second read when the
// header says the response is longer.
type SPI struct {
	name  string
	conn  spi.Conn
	ready gpio.PinIn  // nil: poll
	reset gpio.PinOut // nil: none

	// Poll is the pause between reads while waiting for a response on
	// a link without data-ready (default 100 µs).
	Poll time.Duration
	// ResetPulse is how long Reset holds the reset line low (default
	// 1 ms).
	ResetPulse time.Duration

	zeros [protocol.MaxFrame]byte
	buf   [protocol.MaxFrame]byte
	// hint is, per request type, the size of its last response: the
	// first read of the next one.
	hint [256]uint16
	typ  byte // the last request's type
}

// NewSPI returns the link through conn (SPI mode 0, 8-bit words, the
// clock the caller connected it at), with data-ready on ready (active
// low; nil: the host polls) and the chip's reset on reset (active low;
// nil: none). It configures ready as an input with a pull-up and reset
// as an output driven high.
func NewSPI(name string, conn spi.Conn, ready gpio.PinIn, reset gpio.PinOut) (*SPI, error) {
	if conn == nil {
		return nil, errors.New("spi link: no SPI connection")
	}
	if ready != nil {
		if err := ready.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("spi link %s: data-ready %s: %w", name, ready, err)
		}
	}
	if reset != nil {
		if err := reset.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("spi link %s: reset %s: %w", name, reset, err)
		}
	}
	s := &SPI{name: name, conn: conn, ready: ready, reset: reset, Poll: 100 * time.Microsecond, ResetPulse: time.Millisecond}
	for i := range s.hint {
		s.hint[i] = minRead
	}
	return s, nil
}

func (s *SPI) String() string { return "spi " + s.name }

// Send implements Transport: one write transaction.
func (s *SPI) Send(frame []byte) error {
	if len(frame) > 3 {
		s.typ = frame[3]
	}
	return s.conn.Tx(frame, s.buf[:len(frame)])
}

// Receive implements Transport: wait for data-ready, then read the
// response.
func (s *SPI) Receive(r *protocol.Reader, deadline time.Time) (int, bool, error) {
	if s.ready != nil {
		for s.ready.Read() != gpio.Low {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, false, ErrTimeout
			}
			s.ready.WaitForEdge(left)
		}
	}
	clocked := 0
	for {
		n, c, err := s.read()
		clocked += c
		if err != nil {
			return clocked, false, err
		}
		if n > 0 || s.ready != nil {
			r.Reset()
			r.Write(s.buf[:n])
			return clocked, true, nil
		}
		// No data-ready line: nothing yet, poll again.
		if time.Until(deadline) <= 0 {
			return clocked, false, ErrTimeout
		}
		time.Sleep(s.Poll)
	}
}

// read reads the waiting response into s.buf: as many bytes as the
// last response had, then the whole frame if its header says it is
// longer. It returns the frame's bytes (0 when no response starts
// there) and the bytes clocked.
func (s *SPI) read() (n, clocked int, err error) {
	n = int(s.hint[s.typ])
	if err := s.tx(n); err != nil {
		return 0, n, err
	}
	clocked = n
	if s.buf[0] != protocol.Sync0 || s.buf[1] != protocol.Sync1 {
		if s.ready == nil && s.buf[0] == 0 {
			return 0, clocked, nil
		}
		return n, clocked, nil // corrupted: the Reader says so
	}
	total := protocol.Overhead + int(binary.LittleEndian.Uint16(s.buf[6:]))
	if total > protocol.MaxFrame {
		return n, clocked, nil // a length no frame has: the Reader says so
	}
	if total > n {
		if err := s.tx(total); err != nil {
			return 0, clocked + total, err
		}
		n = total
		clocked += total
	}
	s.hint[s.typ] = uint16(max(minRead, total))
	return n, clocked, nil
}

// minRead is the smallest first read: a RUN_OK without spikes is 38
// bytes. (Reading the last size of the same type, without slack, cost
// the fewest bytes on the demo's tick: 137.5 B against 139.2 with a
// 64-byte floor and 147.4 with 32 bytes of slack.)
const minRead = 40

func (s *SPI) tx(n int) error { return s.conn.Tx(s.zeros[:n], s.buf[:n]) }

// Reset implements Transport: a low pulse on the reset line.
func (s *SPI) Reset() error {
	if s.reset == nil {
		return ErrNoReset
	}
	if err := s.reset.Out(gpio.Low); err != nil {
		return err
	}
	time.Sleep(s.ResetPulse)
	return s.reset.Out(gpio.High)
}

// Close implements Transport. The SPI port and the pins belong to the
// caller.
func (s *SPI) Close() error { return nil }

// Stream is the link on a stream socket (`spikeloop apu serve`): request
// frames one after another, each answered by its response frame.
type Stream struct {
	name string
	c    net.Conn
	buf  [protocol.MaxFrame]byte
}

// Dial connects to addr: unix:PATH or tcp:HOST:PORT.
func Dial(addr string, timeout time.Duration) (*Stream, error) {
	network, a, ok := strings.Cut(addr, ":")
	if !ok || a == "" || network != "unix" && network != "tcp" {
		return nil, fmt.Errorf("link: must be unix:PATH or tcp:HOST:PORT, got %q", addr)
	}
	c, err := net.DialTimeout(network, a, timeout)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", addr, err)
	}
	return NewStream(addr, c), nil
}

// NewStream returns the link over c, named name in errors.
func NewStream(name string, c net.Conn) *Stream { return &Stream{name: name, c: c} }

func (s *Stream) String() string { return s.name }

// Send implements Transport.
func (s *Stream) Send(frame []byte) error {
	if err := s.c.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	_, err := s.c.Write(frame)
	return err
}

// Receive implements Transport: what one read gives.
func (s *Stream) Receive(r *protocol.Reader, deadline time.Time) (int, bool, error) {
	if err := s.c.SetReadDeadline(deadline); err != nil {
		return 0, false, err
	}
	room := protocol.MaxFrame - r.Buffered()
	n, err := s.c.Read(s.buf[:room])
	r.Write(s.buf[:n])
	if err != nil && n == 0 {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, false, ErrTimeout
		}
		return 0, false, err
	}
	return n, false, nil
}

// Reset implements Transport: a stream has no reset line.
func (s *Stream) Reset() error { return ErrNoReset }

// Close implements Transport.
func (s *Stream) Close() error { return s.c.Close() }
