package apu

import (
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Link is how a backend that drives a chip reaches it (Options.Link):
// an SPI connection with its data-ready and reset lines, or a stream
// socket. The program that opens the backend (the daemon) owns the SPI
// connection and the pins: the backend's Close leaves them open, and
// closes only a stream it dialed itself. In-process backends ignore it.
type Link struct {
	// SPI is the chip's SPI connection, connected at Hz in mode 0 with
	// 8-bit words; nil when the chip is reached through Stream.
	SPI spi.Conn
	// DataReady is the chip's data-ready line (active low), configured
	// as an input with a falling edge; nil: none (the backend polls).
	DataReady gpio.PinIn
	// Reset is the chip's reset line (active low), configured as an
	// output and driven high; nil: none.
	Reset gpio.PinOut
	// Name names the link in errors and logs ("spi SPI0.1").
	Name string
	// Stream is "unix:PATH" or "tcp:HOST:PORT" (`spikeloop apu serve`),
	// used when SPI is nil.
	Stream string
	// Hz is the SPI clock SPI was connected at (for the timing budget).
	Hz int64
	// Retries is how many times a request may be sent again within a
	// tick (same sequence number) before the call fails with ErrLink.
	Retries int
	// Timeout is how long one response may take before the request is
	// sent again (0: the backend's default, 100 ms for apu); a call on a
	// dead link fails after (Retries+1)·Timeout.
	Timeout time.Duration
}

// LinkStats are a linked backend's counts since it was opened, for
// telemetry, the status line and /metrics. Frames and bytes count both
// directions, resends included. A backend with a link implements
// LinkStater; the daemon reads them every tick, so LinkStats must not
// allocate.
type LinkStats struct {
	Requests   uint64 // requests made (a resend is not a new one)
	FramesOut  uint64 // request frames sent, resends included
	FramesIn   uint64 // checked frames received
	BytesOut   uint64 // bytes sent
	BytesIn    uint64 // bytes received
	CRCErrors  uint64 // frames that failed a CRC or frame check, either direction
	Retries    uint64 // requests sent again with the same sequence number
	Timeouts   uint64 // responses that did not come in time
	ChipResets uint64 // boot counter changes seen (the chip lost image and state)
	// Transfer is the time spent on the link (wire and waits for the
	// chip) since open; LastTransfer that of the last Run or Advance.
	Transfer, LastTransfer time.Duration
}

// LinkStater is a backend with a link (Options.Link).
type LinkStater interface {
	LinkStats() LinkStats
}
