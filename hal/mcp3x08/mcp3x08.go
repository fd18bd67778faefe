// Package mcp3x08 drives the Microchip MCP3008 (10-bit) and MCP3208
// (12-bit) eight-channel SAR ADCs over a periph spi.Conn.
//
// One conversion is one SPI transaction of three bytes, aligned so that
// the result ends on a byte boundary (datasheet section 6.1, "Using the
// MCP3004/3008 with MCU SPI ports" and the matching MCP3208 section).
// Leading zeros before the start bit are allowed by the chips.
//
// MCP3008 (10-bit), D2..D0 = channel select, SGL/DIFF = 1 single-ended:
//
//	MOSI: 0000 0001   SGL D2 D1 D0 xxxx   xxxx xxxx
//	MISO: ???? ????   ???? ? 0 B9 B8      B7 .. B0
//
// MCP3208 (12-bit):
//
//	MOSI: 0000 0 1 SGL D2   D1 D0 xx xxxx   xxxx xxxx
//	MISO: ???? ????         ??? 0 B11..B8   B7 .. B0
//
// "?" bits are driven by nothing (DOUT is high impedance until the null
// bit), so the driver masks them off; "0" is the null bit. The driver
// sends zeros for every "x".
//
// In differential mode the three select bits pick a pair: the even
// channel 2k and the odd channel 2k+1. Select value s puts IN+ on
// channel s and IN- on channel s^1 (datasheet table 5-2). The chips are
// pseudo-differential: when IN- is above IN+ the result is 0.
//
// The chips accept SPI modes 0 and 3, eight bits per word. The datasheet
// maximum clock is 3.6 MHz (MCP3008) and 2 MHz (MCP3208) at VDD = 5 V,
// and about a third of that at 2.7 V.
package mcp3x08

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Variant is the chip model; it sets the resolution and the frame format.
type Variant int

// The supported chips.
const (
	MCP3008 Variant = 1 // 10 bits, 8 channels
	MCP3208 Variant = 2 // 12 bits, 8 channels
)

// Channels is the number of analog inputs on both chips.
const Channels = 8

// Errors returned by the driver. They are values, so that returning them
// from the read path does not allocate.
var (
	// ErrChannel is returned for a channel outside 0..7.
	ErrChannel = errors.New("mcp3x08: channel out of range 0..7")
	// ErrVariant is returned by New for an unknown chip variant.
	ErrVariant = errors.New("mcp3x08: unknown variant")
)

// ParseVariant maps the config names "mcp3008" and "mcp3208" to a Variant.
func ParseVariant(s string) (Variant, error) {
	switch s {
	case "mcp3008":
		return MCP3008, nil
	case "mcp3208":
		return MCP3208, nil
	}
	return 0, fmt.Errorf("mcp3x08: chip: must be \"mcp3008\" or \"mcp3208\", got %q", s)
}

// String returns the chip name as used in configs.
func (v Variant) String() string {
	switch v {
	case MCP3008:
		return "mcp3008"
	case MCP3208:
		return "mcp3208"
	}
	return "Variant(" + strconv.Itoa(int(v)) + ")"
}

// Bits is the resolution of a conversion.
func (v Variant) Bits() int {
	if v == MCP3208 {
		return 12
	}
	return 10
}

// MaxCode is the largest code a conversion returns (1023 or 4095).
func (v Variant) MaxCode() int { return 1<<v.Bits() - 1 }

// MaxSpeed is the datasheet's maximum SPI clock at VDD = 5 V.
func (v Variant) MaxSpeed() physic.Frequency {
	if v == MCP3208 {
		return 2 * physic.MegaHertz
	}
	return 3600 * physic.KiloHertz
}

// Volts converts a code to the input voltage for reference vref, using
// the datasheet's transfer function code = 2^bits * Vin / Vref.
func (v Variant) Volts(code int, vref float64) float64 {
	return float64(code) * vref / float64(int(1)<<v.Bits())
}

// Dev is one ADC chip on one SPI chip select.
//
// Dev is safe for concurrent use; a read holds the device for one SPI
// transaction.
type Dev struct {
	c spi.Conn
	v Variant

	mu sync.Mutex
	// w and r live in the struct so that a read does not allocate.
	w, r [3]byte
}

// New returns a driver for chip v on c. The connection must already be
// set up by the caller (spi.Port.Connect with mode 0 or 3 and 8 bits);
// New does no I/O, because the chips have no register to probe.
func New(c spi.Conn, v Variant) (*Dev, error) {
	if v != MCP3008 && v != MCP3208 {
		return nil, ErrVariant
	}
	if c == nil {
		return nil, errors.New("mcp3x08: nil spi.Conn")
	}
	return &Dev{c: c, v: v}, nil
}

// String names the chip and the connection.
func (d *Dev) String() string { return d.v.String() + "(" + d.c.String() + ")" }

// Variant returns the chip model.
func (d *Dev) Variant() Variant { return d.v }

// ReadSingle converts the single-ended input ch (0..7) and returns the
// raw code.
func (d *Dev) ReadSingle(ch int) (int, error) { return d.Read(ch, false) }

// ReadDiff converts the pseudo-differential pair with IN+ on channel
// plus and IN- on channel plus^1 and returns the raw code.
func (d *Dev) ReadDiff(plus int) (int, error) { return d.Read(plus, true) }

// Read converts channel ch, single-ended or differential (see the
// package comment for the pairing), and returns the raw code. It does
// not allocate.
func (d *Dev) Read(ch int, diff bool) (int, error) {
	if ch < 0 || ch >= Channels {
		return 0, ErrChannel
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w = Frame(d.v, ch, diff)
	d.r = [3]byte{}
	if err := d.c.Tx(d.w[:], d.r[:]); err != nil {
		return 0, err
	}
	return Decode(d.v, d.r), nil
}

// Frame returns the three command bytes for one conversion. It is
// exported so that golden tables and other drivers can reuse the
// datasheet layout; ch must be in 0..7.
func Frame(v Variant, ch int, diff bool) [3]byte {
	sgl := byte(1)
	if diff {
		sgl = 0
	}
	sel := byte(ch) & 0x07
	if v == MCP3208 {
		// Five leading zeros, start bit at bit 2, SGL at bit 1, D2 at
		// bit 0; D1 D0 are the top bits of the second byte.
		return [3]byte{0x04 | sgl<<1 | sel>>2, (sel & 0x03) << 6, 0}
	}
	// Seven leading zeros and the start bit fill the first byte.
	return [3]byte{0x01, sgl<<7 | sel<<4, 0}
}

// Decode extracts the code from the three bytes received for a Frame,
// ignoring the high-impedance bits and the null bit.
func Decode(v Variant, r [3]byte) int {
	if v == MCP3208 {
		return int(r[1]&0x0F)<<8 | int(r[2])
	}
	return int(r[1]&0x03)<<8 | int(r[2])
}
