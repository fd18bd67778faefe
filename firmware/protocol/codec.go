package protocol

import "encoding/binary"

// Payload is the body of one frame type: Marshal appends its bytes,
// Unmarshal parses a checked frame of its type into the receiver,
// reusing the receiver's slices (no allocation once they have grown).
// Unmarshal checks every count against the bytes left before it reads
// or allocates anything, refuses trailing bytes and bad enumerations,
// and never panics.
type Payload interface {
	Type() Type
	Marshal(dst []byte) []byte
	Unmarshal(f Frame) error
}

// dec reads a payload; the first failure sticks in err.
type dec struct {
	t   Type
	b   []byte
	err error
}

func (d *dec) fail(field string, v int64, reason string) {
	if d.err == nil {
		d.err = &Error{Code: CodePayload, Type: d.t, Field: field, Value: v, Reason: reason}
	}
}

func (d *dec) take(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(field, int64(len(d.b)), "truncated: "+itoa(int64(n))+" bytes needed, "+itoa(int64(len(d.b)))+" left")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) u8(field string) uint8 {
	if p := d.take(1, field); p != nil {
		return p[0]
	}
	return 0
}

// what is the ReadWhat of a READ or READ_OK, refused unless known.
func (d *dec) what() ReadWhat {
	w := ReadWhat(d.u8("what"))
	if d.err == nil && !w.valid() {
		d.fail("what", int64(w), "want 1 (spikes), 2 (counters), 3 (trace) or 4 (state)")
	}
	return w
}

func (d *dec) u16(field string) uint16 {
	if p := d.take(2, field); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *dec) u32(field string) uint32 {
	if p := d.take(4, field); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *dec) u64(field string) uint64 {
	if p := d.take(8, field); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *dec) i64(field string) int64 { return int64(d.u64(field)) }

// count checks that n items of size bytes each fit in what is left and
// returns n as an int (0 after a failure), before anything is allocated
// for them.
func (d *dec) count(n uint64, size int, field string) int {
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/size) {
		d.fail(field, int64(n), "count "+utoa(n)+" of "+itoa(int64(size))+"-byte items, "+
			itoa(int64(len(d.b)))+" bytes left")
		return 0
	}
	return int(n)
}

// int32s reads n int32 values into dst[:0].
func (d *dec) int32s(dst []int32, n int, field string) []int32 {
	p := d.take(4*n, field)
	if p == nil {
		return dst[:0]
	}
	dst = grow(dst, n)
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return dst
}

// done fails on trailing bytes and returns the sticky error.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("length", int64(len(d.b)), itoa(int64(len(d.b)))+" bytes after the last field")
	}
	return d.err
}

// grow returns s with length n, reusing its array when it is large
// enough. Callers have checked n against the payload's bytes.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// start checks f's type and returns a decoder of its payload.
func start(f Frame, t Type) (dec, error) {
	if f.typ != t {
		return dec{}, &Error{Code: CodeType, Type: t, Field: "type", Value: int64(f.typ),
			Reason: "a " + f.typ.String() + " frame, want " + t.String()}
	}
	return dec{t: t, b: f.payload}, nil
}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendI64(b []byte, v int64) []byte  { return binary.LittleEndian.AppendUint64(b, uint64(v)) }

func appendI32s(b []byte, v []int32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}
