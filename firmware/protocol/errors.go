package protocol

import "errors"

// Code is an error code: the reason a frame or a request was refused.
// The chip sends it in a NAK; the host's decoder returns the frame-level
// ones (CodeCRC, CodeSync, ...) as errors. The numbers are part of the
// wire format: never renumber, only add.
//
// A Code is itself an error (returning one allocates nothing), and
// errors.Is(err, CodeX) holds for a *Error with that Code.
type Code uint8

// The error codes.
const (
	CodeCRC          Code = 1  // the frame's CRC-32C does not match its bytes
	CodeSync         Code = 2  // no sync bytes where a frame must start
	CodeVersion      Code = 3  // a protocol version this side does not speak
	CodeTooLong      Code = 4  // the declared payload length exceeds MaxPayload (or the receiver's buffer)
	CodeShort        Code = 5  // fewer bytes than the header declares
	CodeType         Code = 6  // an unknown frame type, or a response where a request is due
	CodePayload      Code = 7  // the payload does not parse (a count larger than the bytes left, a bad enum)
	CodeSequence     Code = 8  // a sequence number repeated by a request that differs from the last one
	CodeNoImage      Code = 9  // the request needs a loaded image and there is none
	CodeImageSize    Code = 10 // the image is larger than the chip's memory
	CodeImageOffset  Code = 11 // an image chunk out of order or beyond the announced size
	CodeImageHash    Code = 12 // the received image's SHA-256 differs from the announced one
	CodeImageInvalid Code = 13 // the image failed validation (the NAK's text names the field)
	CodeRange        Code = 14 // a population, unit, state, row or monitor index out of range
	CodeKind         Code = 15 // the population's kind does not take this input or setting
	CodeState        Code = 16 // the request is not allowed now (a chunk without IMAGE_BEGIN, ...)
	CodeInternal     Code = 17 // the chip failed in a way the request did not cause
)

// String is the code's meaning in messages.
func (c Code) String() string {
	switch c {
	case CodeCRC:
		return "crc mismatch"
	case CodeSync:
		return "no sync bytes"
	case CodeVersion:
		return "protocol version not supported"
	case CodeTooLong:
		return "frame too long"
	case CodeShort:
		return "frame truncated"
	case CodeType:
		return "unknown frame type"
	case CodePayload:
		return "malformed payload"
	case CodeSequence:
		return "sequence number reused by a different request"
	case CodeNoImage:
		return "no image loaded"
	case CodeImageSize:
		return "image larger than the chip's memory"
	case CodeImageOffset:
		return "image chunk out of order"
	case CodeImageHash:
		return "image hash mismatch"
	case CodeImageInvalid:
		return "image invalid"
	case CodeRange:
		return "index out of range"
	case CodeKind:
		return "wrong population kind"
	case CodeState:
		return "request not allowed in this state"
	case CodeInternal:
		return "internal chip error"
	}
	return "error code " + utoa(uint64(c))
}

// Error makes a Code an error: "protocol: crc mismatch".
func (c Code) Error() string { return "protocol: " + c.String() }

// ErrNeedMore is Reader.Next's answer when the bytes written so far do
// not hold a whole frame: write more. It is no fault.
var ErrNeedMore = errors.New("protocol: frame incomplete, more bytes needed")

// Error is a refused frame or payload with the field and value at fault.
// errors.Is(err, code) matches its Code.
type Error struct {
	Code   Code
	Type   Type   // the frame type whose payload failed; 0 for the frame itself
	Field  string // e.g. "version" or "feeds[1].size"
	Value  int64  // the field's value
	Reason string // what is wrong with it, e.g. "needs 400 bytes, 12 left"
}

func (e *Error) Error() string {
	s := "protocol: "
	if e.Type != 0 {
		s += e.Type.String() + " payload: "
	}
	s += e.Field + ": " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, CodeX) true for an *Error with Code X.
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

// The firmware has no fmt or strconv: these build the messages.

func itoa(v int64) string {
	if v < 0 {
		return "-" + utoa(uint64(-v)) // -MinInt64 wraps to itself, whose uint64 is right
	}
	return utoa(uint64(v))
}

func utoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
