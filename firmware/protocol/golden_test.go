package protocol

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"testing"
)

// goldenFrame is one frame: the decoded value and its wire bytes
// (golden_table_test.go), in the manner of mochi-mqtt's packet tables.
type goldenFrame struct {
	name string
	seq  uint16
	msg  Payload        // the decoded payload
	zero func() Payload // a fresh value to decode into
	wire []byte         // the whole frame: sync .. CRC
}

func sha(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// q is x in Q16.16.
func q(x float64) int32 { return int32(x * 65536) }

// TestGoldenEncode: each value encodes to its bytes.
func TestGoldenEncode(t *testing.T) {
	for _, c := range goldenFrames() {
		got, err := Append(nil, c.seq, c.msg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !bytes.Equal(got, c.wire) {
			t.Errorf("%s: encoded\n% x\nwant\n% x", c.name, got, c.wire)
		}
		// AppendFrame of the marshalled payload gives the same bytes,
		// after whatever dst held.
		pre := []byte{0xEE}
		raw, err := AppendFrame(pre, c.msg.Type(), c.seq, c.msg.Marshal(nil))
		if err != nil || !bytes.Equal(raw[1:], c.wire) || raw[0] != 0xEE {
			t.Errorf("%s: AppendFrame gave % x, %v", c.name, raw, err)
		}
	}
}

// TestGoldenDecode: each frame's bytes decode to its value.
func TestGoldenDecode(t *testing.T) {
	for _, c := range goldenFrames() {
		f, n, err := Decode(c.wire)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if n != len(c.wire) || f.Len() != n || f.Type() != c.msg.Type() || f.Seq() != c.seq {
			t.Errorf("%s: n %d, len %d, type %v, seq %d; want %d, %v, %d", c.name, n, f.Len(), f.Type(), f.Seq(),
				len(c.wire), c.msg.Type(), c.seq)
		}
		got := c.zero()
		if err := got.Unmarshal(f); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.msg) {
			t.Errorf("%s: decoded\n%+v\nwant\n%+v", c.name, got, c.msg)
		}
		// Decoding into a value that held another frame of the type
		// gives the same (the reuse path leaves nothing behind).
		for _, o := range goldenFrames() {
			if o.msg.Type() != c.msg.Type() {
				continue
			}
			// (Slices keep their arrays, so compare the encodings.)
			reused := o.msg
			if err := reused.Unmarshal(f); err != nil || !bytes.Equal(reused.Marshal(nil), f.Payload()) {
				t.Errorf("%s decoded over %s: %+v, %v", c.name, o.name, reused, err)
			}
		}
	}
}

// TestGoldenCoversEveryType: the table has a frame of every type.
func TestGoldenCoversEveryType(t *testing.T) {
	seen := make(map[Type]bool)
	for _, c := range goldenFrames() {
		seen[c.msg.Type()] = true
	}
	for _, ty := range allTypes {
		if !seen[ty] {
			t.Errorf("no golden frame of type %v", ty)
		}
		if !ty.Known() {
			t.Errorf("%v: not Known", ty)
		}
		if zero := newPayload(ty); zero == nil || zero.Type() != ty {
			t.Errorf("%v: newPayload gives %v", ty, zero)
		}
	}
}

// allTypes are the protocol's frame types.
var allTypes = []Type{
	TypeHello, TypeImageBegin, TypeImageChunk, TypeImageCommit, TypeRun, TypeRead, TypeSet, TypeReset, TypeStatus,
	TypeHelloOK, TypeRunOK, TypeReadOK, TypeStatusOK, TypeAck, TypeNak,
}

// newPayload is a fresh payload of type t (nil for an unknown type).
func newPayload(t Type) Payload {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeImageBegin:
		return new(ImageBegin)
	case TypeImageChunk:
		return new(ImageChunk)
	case TypeImageCommit:
		return new(ImageCommit)
	case TypeRun:
		return new(Run)
	case TypeRead:
		return new(Read)
	case TypeSet:
		return new(Set)
	case TypeReset:
		return new(Reset)
	case TypeStatus:
		return new(Status)
	case TypeHelloOK:
		return new(HelloOK)
	case TypeRunOK:
		return new(RunOK)
	case TypeReadOK:
		return new(ReadOK)
	case TypeStatusOK:
		return new(StatusOK)
	case TypeAck:
		return new(Ack)
	case TypeNak:
		return new(Nak)
	}
	return nil
}
