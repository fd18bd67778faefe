package remote

import (
	"errors"
	"fmt"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// Transport moves frames between the host and one chip: SPI (SPI) or a
// stream socket (Stream). It only carries bytes: every frame it
// delivers is checked (sync, version, length, CRC) by protocol.Reader
// before the backend reads a field of it.
type Transport interface {
	// Send writes one request frame.
	Send(frame []byte) error
	// Receive waits until deadline for bytes of the response to the last
	// request and writes them into r; n is the bytes received (SPI: the
	// bytes clocked in reads). whole says that they are all the
	// chip will send for it (SPI reads a response in one piece): when r
	// then holds no whole frame, the response was corrupted. At the
	// deadline it returns ErrTimeout.
	Receive(r *protocol.Reader, deadline time.Time) (n int, whole bool, err error)
	// Reset pulses the chip's reset line (ErrNoReset: the link has none).
	Reset() error
	// Close releases the link.
	Close() error
	// String names the link in errors ("spi SPI0.0", "unix:/run/apu.sock").
	String() string
}

// ErrTimeout is a Transport's Receive at its deadline.
var ErrTimeout = errors.New("no response before the timeout")

// ErrNoReset is a Transport's Reset when the link has no reset line.
var ErrNoReset = errors.New("the link has no reset line")

// Stats are a link's counts since Open, for telemetry. Frames and bytes
// count both directions on the wire, resends included.
type Stats struct {
	Requests  uint64 // requests made (a resend is not a new one)
	FramesOut uint64 // request frames sent, resends included
	FramesIn  uint64 // checked frames received
	BytesOut  uint64 // bytes sent (SPI: request transactions)
	BytesIn   uint64 // bytes received (SPI: read transactions)
	// CRCErrors counts corrupted frames: responses that failed the
	// host's checks (CRC, sync, version, length) and requests the chip
	// answered with a NAK for failing its checks.
	CRCErrors  uint64
	Retries    uint64 // requests sent again with the same sequence number
	Timeouts   uint64 // responses that did not come in time
	Stale      uint64 // checked responses to an earlier request, dropped
	ChipResets uint64 // boot counter changes seen (state and image lost)
	// ResetPulses counts the chip's boots through its reset line (Reset
	// of a chip that did not answer).
	ResetPulses uint64
	// Saturations counts the adds the chip saturated while running
	// (RUN_OK), since Open.
	Saturations uint64
	// Steps and Runs count the steps run and the RUN frames that ran
	// them.
	Steps, Runs uint64
	// Transfer is the time spent on the link: sending, waiting and
	// receiving.
	Transfer time.Duration
}

// LinkError is a failure of the link or of the chip behind it: it
// wraps apu.ErrLink, and apu.ErrRetryable when the same call may be
// repeated.
type LinkError struct {
	Link      string        // the link (Transport.String)
	Request   protocol.Type // the request that failed
	What      string        // what failed
	Retryable bool
	ChipReset bool // the chip reset itself: image and state are lost
	Err       error
}

func (e *LinkError) Error() string {
	s := "apu link " + e.Link + ": " + e.Request.String() + ": " + e.What
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, apu.ErrLink) hold, and apu.ErrRetryable when
// the call may be repeated.
func (e *LinkError) Is(target error) bool {
	return target == apu.ErrLink || e.Retryable && target == apu.ErrRetryable
}

func (e *LinkError) Unwrap() error { return e.Err }

// conn runs requests over a Transport: sequence numbers, the frame
// checks, the resends within the retry budget and the counts.
type conn struct {
	t       Transport
	retries int
	timeout time.Duration

	seq   uint16
	r     protocol.Reader
	out   []byte
	nak   protocol.Nak
	stats Stats
}

func newConn(t Transport, retries int, timeout time.Duration) *conn {
	// A session starts at a sequence number of its own: a chip that
	// kept its last response from an earlier session (a restarted host)
	// would answer a request with that number from it.
	seq := uint16(time.Now().UnixNano() >> 10)
	return &conn{t: t, retries: retries, timeout: timeout, seq: seq, out: make([]byte, 0, protocol.MaxFrame)}
}

// call sends req and parses the response into resp. A NAK answering it
// is returned as a *protocol.Refused; a link that gives no checked
// response within the retries as a *LinkError.
func (c *conn) call(req, resp protocol.Payload) error {
	if err := c.next(req); err != nil {
		return err
	}
	c.stats.Requests++
	var last error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			c.stats.Retries++
		}
		f, err := c.exchange()
		if err != nil {
			last = err
			continue
		}
		if f.Type() == protocol.TypeNak {
			if err := c.nak.Unmarshal(f); err != nil {
				return c.fail(req.Type(), "a NAK that does not parse", err)
			}
			if c.nak.Code == protocol.CodeSequence {
				// The chip's last request, from an earlier session, had
				// this sequence number: nothing ran; take the next one.
				last = c.nak.Err()
				if err := c.next(req); err != nil {
					return err
				}
				continue
			}
			return c.nak.Err()
		}
		if err := resp.Unmarshal(f); err != nil {
			// A checked frame that does not parse is a chip speaking
			// another layout: resending gives the same.
			return c.fail(req.Type(), "a response that does not parse", err)
		}
		return nil
	}
	return &LinkError{Link: c.t.String(), Request: req.Type(),
		What: fmt.Sprintf("no good response in %d attempts (timeout %s each)", c.retries+1, c.timeout), Err: last}
}

// next frames req in c.out with the next sequence number.
func (c *conn) next(req protocol.Payload) error {
	c.seq++
	if c.seq == 0 {
		c.seq = 1 // 0 is the NAK of a frame that failed its checks
	}
	var err error
	c.out, err = protocol.Append(c.out[:0], c.seq, req)
	if err != nil {
		return fmt.Errorf("apu link %s: %w", c.t, err)
	}
	return nil
}

func (c *conn) fail(t protocol.Type, what string, err error) error {
	return &LinkError{Link: c.t.String(), Request: t, What: what, Err: err}
}

// errCorrupt and errNakSeq0 say why an attempt failed.
var (
	errCorrupt = errors.New("corrupted response")
	errNakSeq0 = errors.New("the chip received a corrupted request")
)

// exchange sends the request in c.out once and returns the checked
// response with its sequence number, or why none came.
func (c *conn) exchange() (protocol.Frame, error) {
	t0 := time.Now()
	defer func() { c.stats.Transfer += time.Since(t0) }()
	// Bytes left from earlier exchanges are stale (a response given up
	// on, the rest of a corrupted one): the answer to this request
	// comes after it is sent.
	c.r.Reset()
	skipped := c.r.Skipped
	c.stats.FramesOut++
	c.stats.BytesOut += uint64(len(c.out))
	if err := c.t.Send(c.out); err != nil {
		return protocol.Frame{}, err
	}
	deadline := time.Now().Add(c.timeout)
	received := false
	for {
		f, err := c.r.Next()
		switch err {
		case nil:
			c.stats.FramesIn++
			if f.Seq() == c.seq {
				return f, nil
			}
			if f.Seq() == 0 && f.Type() == protocol.TypeNak {
				// The chip dropped a frame that failed its checks: ours.
				c.stats.CRCErrors++
				if c.nak.Unmarshal(f) == nil {
					return protocol.Frame{}, c.nak.Err()
				}
				return protocol.Frame{}, errNakSeq0
			}
			c.stats.Stale++
			continue
		case protocol.ErrNeedMore:
			if received {
				// The whole response is in and holds no frame.
				c.stats.CRCErrors++
				return protocol.Frame{}, errCorrupt
			}
			if c.r.Buffered() == protocol.MaxFrame {
				c.r.Drop() // a full buffer with no frame: look past it
				continue
			}
			n, whole, err := c.t.Receive(&c.r, deadline)
			c.stats.BytesIn += uint64(n)
			if err != nil {
				if err == ErrTimeout {
					if c.r.Buffered() > 0 || c.r.Skipped != skipped {
						// Bytes came but no frame: corrupted sync bytes,
						// or a corrupted length waiting for bytes that
						// never come.
						c.stats.CRCErrors++
						err = errCorrupt
					} else {
						c.stats.Timeouts++
					}
				}
				c.r.Drop()
				return protocol.Frame{}, err
			}
			received = whole
		default:
			// A frame that failed its checks: on a stream its bytes are
			// skipped; either way the response is lost, resend.
			c.stats.CRCErrors++
			return protocol.Frame{}, err
		}
	}
}
