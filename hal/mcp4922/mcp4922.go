// Package mcp4922 drives the Microchip MCP4922, a dual 12-bit
// voltage-output DAC, over a periph spi.Conn.
//
// Every write is one 16-bit word sent MSB first in one SPI transaction
// (datasheet register 5-1, "Write command register"):
//
//	bit 15    A/B   0 = DAC A, 1 = DAC B
//	bit 14    BUF   1 = VREF input buffered, 0 = unbuffered
//	bit 13    /GA   1 = gain 1x (Vout = Vref*D/4096), 0 = gain 2x
//	bit 12    /SHDN 1 = output active, 0 = channel shut down (Vout is
//	                high impedance, about 500 kOhm to ground)
//	bits 11-0 D11..D0, the code
//
// The chip latches the word when CS rises; clocks past the 16th are
// ignored. With LDAC tied low (the usual wiring, and what this driver
// assumes) the output follows at once. The chip has no SDO pin, so
// nothing can be read back. It accepts SPI modes 0 and 3 and clocks up
// to 20 MHz.
package mcp4922

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Channel selects one of the two outputs.
type Channel int

// The two outputs.
const (
	A Channel = 0
	B Channel = 1
)

// String returns "A" or "B".
func (c Channel) String() string {
	switch c {
	case A:
		return "A"
	case B:
		return "B"
	}
	return "Channel(" + strconv.Itoa(int(c)) + ")"
}

// Bits of the write command word.
const (
	bitB      = 1 << 15
	bitBuf    = 1 << 14
	bitGain1x = 1 << 13
	bitActive = 1 << 12
)

// MaxCode is the largest code (4095).
const MaxCode = 1<<12 - 1

// MaxSpeed is the datasheet's maximum SPI clock.
const MaxSpeed = 20 * physic.MegaHertz

// Errors returned by the driver; values, so the write path does not
// allocate.
var (
	// ErrChannel is returned for a channel other than A or B.
	ErrChannel = errors.New("mcp4922: channel must be A (0) or B (1)")
	// ErrCode is returned for a code above 4095.
	ErrCode = errors.New("mcp4922: code out of range 0..4095")
	// ErrGain is returned for a gain other than 1 or 2.
	ErrGain = errors.New("mcp4922: gain must be 1 or 2")
)

// Settings are the per-write configuration bits.
type Settings struct {
	// Gain is 1 or 2. With 2 the output is 2*Vref*D/4096, still
	// limited by VDD.
	Gain int
	// Buffered sets BUF: the VREF input is buffered (high input
	// impedance, reference range VSS+0.04 V .. VDD-0.04 V).
	Buffered bool
}

// Word builds the 16-bit write command. active=false shuts the channel
// down (the code is then irrelevant to the output but is still sent).
func Word(ch Channel, code int, s Settings, active bool) (uint16, error) {
	if ch != A && ch != B {
		return 0, ErrChannel
	}
	if code < 0 || code > MaxCode {
		return 0, ErrCode
	}
	var w uint16
	if ch == B {
		w |= bitB
	}
	if s.Buffered {
		w |= bitBuf
	}
	switch s.Gain {
	case 1:
		w |= bitGain1x
	case 2:
	default:
		return 0, ErrGain
	}
	if active {
		w |= bitActive
	}
	return w | uint16(code), nil
}

// Code returns the code that gives volts at the output for reference
// vref and gain, rounded to the nearest step. It fails when volts is not
// in [0, (4095/4096)*gain*vref] (half a step of slack above).
func Code(volts, vref float64, gain int) (int, error) {
	if gain != 1 && gain != 2 {
		return 0, ErrGain
	}
	if !(vref > 0) {
		return 0, fmt.Errorf("mcp4922: vref: must be > 0 V, got %v V", vref)
	}
	step := vref * float64(gain) / 4096
	c := math.Round(volts / step)
	if math.IsNaN(c) || c < 0 || c > MaxCode {
		return 0, fmt.Errorf("mcp4922: volts: must be 0..%.4g V (vref %v V x gain %d), got %v V", step*MaxCode, vref, gain, volts)
	}
	return int(c), nil
}

// Volts is the ideal output for code, reference vref and gain.
func Volts(code int, vref float64, gain int) float64 {
	return vref * float64(gain) * float64(code) / 4096
}

// Dev is one MCP4922 on one SPI chip select.
//
// Dev is safe for concurrent use.
type Dev struct {
	c spi.Conn

	mu  sync.Mutex
	buf [2]byte // in the struct so that a write does not allocate
}

// New returns a driver on c, which the caller has connected (mode 0 or
// 3, 8 bits per word). New does no I/O: the outputs keep whatever they
// had until the first write.
func New(c spi.Conn) (*Dev, error) {
	if c == nil {
		return nil, errors.New("mcp4922: nil spi.Conn")
	}
	return &Dev{c: c}, nil
}

// String names the chip and its connection.
func (d *Dev) String() string { return "mcp4922(" + d.c.String() + ")" }

// Write sets channel ch active with code and settings s. It does not
// allocate.
func (d *Dev) Write(ch Channel, code int, s Settings) error {
	w, err := Word(ch, code, s, true)
	if err != nil {
		return err
	}
	return d.send(w)
}

// Shutdown turns channel ch off (/SHDN = 0): the output goes to high
// impedance with about 500 kOhm to ground. The next Write turns it on.
func (d *Dev) Shutdown(ch Channel, s Settings) error {
	w, err := Word(ch, 0, s, false)
	if err != nil {
		return err
	}
	return d.send(w)
}

// WriteWord sends a raw command word; for tests and tools.
func (d *Dev) WriteWord(w uint16) error { return d.send(w) }

func (d *Dev) send(w uint16) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.buf[0] = byte(w >> 8)
	d.buf[1] = byte(w)
	// No read buffer: the chip has no SDO.
	return d.c.Tx(d.buf[:], nil)
}
