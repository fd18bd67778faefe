package protocol

import (
	"encoding/binary"
	"hash/crc32"
)

// The frame layout (firmware/README.md, "Frame protocol"):
//
//	offset  size  field
//	0       2     sync: 0xA5 0x5A
//	2       1     protocol version (Version)
//	3       1     type (Type)
//	4       2     sequence number, uint16 LE
//	6       2     payload length n, uint16 LE, 0..MaxPayload
//	8       n     payload
//	8+n     4     CRC-32C (Castagnoli) of bytes 2..8+n-1, uint32 LE
const (
	Sync0   = 0xA5
	Sync1   = 0x5A
	Version = 1 // the protocol version this package speaks

	HeaderSize = 8 // sync, version, type, sequence, length
	CRCSize    = 4
	Overhead   = HeaderSize + CRCSize

	// MaxPayload bounds every payload, so that a chip holds a whole
	// frame in fixed buffers (a request, a response and the last
	// response kept for a repeat: 3 x MaxFrame bytes of RAM). 4 KiB
	// carries a RUN of 1000 steps for one input, an image chunk of
	// 4 KiB less 4 bytes, or 500 spikes. Larger data (an image, a long
	// run, many spikes) goes in several frames.
	MaxPayload = 4096
	MaxFrame   = Overhead + MaxPayload
)

// castagnoli is the CRC-32C table (read-only after init; crc32 uses the
// CPU's CRC32 instruction for it where there is one).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Type is a frame's type. Requests go host -> chip; every request is
// answered by one response of the matching type, or ACK, or NAK.
type Type uint8

// The frame types. The numbers are part of the wire format.
const (
	TypeHello       Type = 0x01 // -> HELLO_OK
	TypeImageBegin  Type = 0x02 // -> ACK
	TypeImageChunk  Type = 0x03 // -> ACK
	TypeImageCommit Type = 0x04 // -> ACK
	TypeRun         Type = 0x05 // -> RUN_OK
	TypeRead        Type = 0x06 // -> READ_OK
	TypeSet         Type = 0x07 // -> ACK
	TypeReset       Type = 0x08 // -> ACK
	TypeStatus      Type = 0x09 // -> STATUS_OK

	TypeHelloOK  Type = 0x81
	TypeRunOK    Type = 0x85
	TypeReadOK   Type = 0x86
	TypeStatusOK Type = 0x89
	TypeAck      Type = 0xF0
	TypeNak      Type = 0xF1 // any request may get a NAK
)

// IsRequest says whether t is a request type.
func (t Type) IsRequest() bool { return t >= TypeHello && t <= TypeStatus }

// Known says whether t is a type of this protocol version.
func (t Type) Known() bool {
	switch t {
	case TypeHelloOK, TypeRunOK, TypeReadOK, TypeStatusOK, TypeAck, TypeNak:
		return true
	}
	return t.IsRequest()
}

// String is the type's name as firmware/README.md spells it.
func (t Type) String() string {
	switch t {
	case TypeHello:
		return "HELLO"
	case TypeImageBegin:
		return "IMAGE_BEGIN"
	case TypeImageChunk:
		return "IMAGE_CHUNK"
	case TypeImageCommit:
		return "IMAGE_COMMIT"
	case TypeRun:
		return "RUN"
	case TypeRead:
		return "READ"
	case TypeSet:
		return "SET"
	case TypeReset:
		return "RESET"
	case TypeStatus:
		return "STATUS"
	case TypeHelloOK:
		return "HELLO_OK"
	case TypeRunOK:
		return "RUN_OK"
	case TypeReadOK:
		return "READ_OK"
	case TypeStatusOK:
		return "STATUS_OK"
	case TypeAck:
		return "ACK"
	case TypeNak:
		return "NAK"
	}
	return "type " + utoa(uint64(t))
}

// Frame is a received frame whose sync, version, length and CRC were
// checked. Its fields are unexported: the only way to get a Frame is
// Decode or Reader.Next, so a payload (and every struct decoded from
// one: Payload.Unmarshal takes a Frame) always comes from bytes whose
// CRC matched. The zero Frame has type 0, which no Unmarshal accepts.
//
// Payload aliases the bytes the frame was decoded from.
type Frame struct {
	typ     Type
	seq     uint16
	crc     uint32
	payload []byte
}

// Type is the frame's type (possibly unknown to this version: Known).
func (f Frame) Type() Type { return f.typ }

// Seq is the frame's sequence number.
func (f Frame) Seq() uint16 { return f.seq }

// CRC is the frame's CRC-32C (a chip compares it to tell a repeated
// request from a different one with the same sequence number).
func (f Frame) CRC() uint32 { return f.crc }

// Payload is the frame's payload (checked by the CRC, not parsed).
func (f Frame) Payload() []byte { return f.payload }

// Len is the frame's size on the wire.
func (f Frame) Len() int { return Overhead + len(f.payload) }

// AppendFrame appends a frame of type t, sequence number seq and the
// given payload to dst. It refuses (returning dst unchanged) a payload
// longer than MaxPayload.
func AppendFrame(dst []byte, t Type, seq uint16, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return dst, tooLong(t, len(payload))
	}
	start := len(dst)
	dst = appendHeader(dst, t, seq)
	dst = append(dst, payload...)
	return finish(dst, start), nil
}

// Append appends p as a frame with sequence number seq to dst,
// marshalling the payload in place (no allocation when dst has the
// capacity, and none for p when it lives beyond the call, as a field of
// the caller's long-lived struct does). It refuses (returning dst
// unchanged) a payload longer than MaxPayload.
func Append(dst []byte, seq uint16, p Payload) ([]byte, error) {
	start := len(dst)
	dst = appendHeader(dst, p.Type(), seq)
	dst = p.Marshal(dst)
	if n := len(dst) - start - HeaderSize; n > MaxPayload {
		return dst[:start], tooLong(p.Type(), n)
	}
	return finish(dst, start), nil
}

func tooLong(t Type, n int) error {
	return &Error{Code: CodeTooLong, Type: t, Field: "length", Value: int64(n),
		Reason: "payload of " + itoa(int64(n)) + " bytes, at most " + itoa(MaxPayload)}
}

func appendHeader(dst []byte, t Type, seq uint16) []byte {
	return append(dst, Sync0, Sync1, Version, byte(t), byte(seq), byte(seq>>8), 0, 0)
}

// finish writes the length of the frame starting at dst[start] and
// appends its CRC.
func finish(dst []byte, start int) []byte {
	n := len(dst) - start - HeaderSize
	binary.LittleEndian.PutUint16(dst[start+6:], uint16(n))
	crc := crc32.Checksum(dst[start+2:], castagnoli)
	return binary.LittleEndian.AppendUint32(dst, crc)
}

// Decode checks the frame at the start of b and returns it with its
// length on the wire. In order: the sync bytes (CodeSync), the version
// (an *Error with CodeVersion naming the version seen), the length
// bound (CodeTooLong), that b holds the whole frame (CodeShort), the CRC
// (CodeCRC). Nothing of the frame is returned unless all hold. The
// frame's payload aliases b. Decode allocates nothing unless the
// version is wrong.
func Decode(b []byte) (Frame, int, error) {
	if len(b) < 2 {
		return Frame{}, 0, CodeShort
	}
	if b[0] != Sync0 || b[1] != Sync1 {
		return Frame{}, 0, CodeSync
	}
	if len(b) < HeaderSize {
		return Frame{}, 0, CodeShort
	}
	if b[2] != Version {
		return Frame{}, 0, &Error{Code: CodeVersion, Field: "version", Value: int64(b[2]),
			Reason: "version " + utoa(uint64(b[2])) + ", this side speaks " + utoa(Version)}
	}
	n := int(binary.LittleEndian.Uint16(b[6:]))
	if n > MaxPayload {
		return Frame{}, 0, CodeTooLong
	}
	end := HeaderSize + n
	if len(b) < end+CRCSize {
		return Frame{}, 0, CodeShort
	}
	crc := binary.LittleEndian.Uint32(b[end:])
	if crc32.Checksum(b[2:end], castagnoli) != crc {
		return Frame{}, 0, CodeCRC
	}
	return Frame{
		typ:     Type(b[3]),
		seq:     binary.LittleEndian.Uint16(b[4:]),
		crc:     crc,
		payload: b[HeaderSize:end:end],
	}, end + CRCSize, nil
}
