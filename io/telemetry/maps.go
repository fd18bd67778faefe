package telemetry

import (
	"slices"

	"github.com/tinylib/msgp/msgp"
)

// The name -> value maps of the payloads are msgpack maps written with
// their keys sorted, so that the same sample always gives the same bytes
// (golden tables, diffs and caches depend on it; msgp's generated code
// writes Go maps in random order). msgp treats these named types as
// external and calls the methods below.

// Floats maps a name to one value (rates, sensors, actuators, plant).
type Floats map[string]float64

// IsZero reports whether m is empty; msgp's omitzero leaves such a field
// out (Telemetry.Plant on a board without a plant).
func (m Floats) IsZero() bool { return len(m) == 0 }

// Counts maps a population name to a count.
type Counts map[string]uint64

// Series maps a "population.state" name to sampled values.
type Series map[string][]float64

var (
	_ msgp.Marshaler   = Floats(nil)
	_ msgp.Unmarshaler = (*Floats)(nil)
	_ msgp.Encodable   = Floats(nil)
	_ msgp.Decodable   = (*Floats)(nil)
	_ msgp.Sizer       = Floats(nil)
	_ msgp.Marshaler   = Counts(nil)
	_ msgp.Unmarshaler = (*Counts)(nil)
	_ msgp.Encodable   = Counts(nil)
	_ msgp.Decodable   = (*Counts)(nil)
	_ msgp.Sizer       = Counts(nil)
	_ msgp.Marshaler   = Series(nil)
	_ msgp.Unmarshaler = (*Series)(nil)
	_ msgp.Encodable   = Series(nil)
	_ msgp.Decodable   = (*Series)(nil)
	_ msgp.Sizer       = Series(nil)
)

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// capHint bounds a length read from the wire by what the remaining bytes
// can hold, so a forged header cannot make the decoder allocate gigabytes.
func capHint(n uint32, remaining int) int {
	if int64(n) > int64(remaining) {
		return remaining
	}
	return int(n)
}

// MarshalMsg appends m to b as a msgpack map with sorted keys.
func (m Floats) MarshalMsg(b []byte) ([]byte, error) {
	if m == nil {
		return msgp.AppendNil(b), nil
	}
	b = msgp.AppendMapHeader(b, uint32(len(m)))
	for _, k := range sortedKeys(m) {
		b = msgp.AppendString(b, k)
		b = msgp.AppendFloat64(b, m[k])
	}
	return b, nil
}

// UnmarshalMsg reads a msgpack map (or nil) into m. Integer values are
// accepted and converted, since other encoders write whole numbers as ints.
func (m *Floats) UnmarshalMsg(b []byte) ([]byte, error) {
	if msgp.IsNil(b) {
		*m = nil
		return b[1:], nil
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return b, err
	}
	out := make(Floats, capHint(n, len(b)/2))
	for range n {
		var k string
		k, b, err = msgp.ReadStringBytes(b)
		if err != nil {
			return b, err
		}
		var v float64
		v, b, err = msgp.ReadFloat64Bytes(b)
		if err != nil {
			return b, msgp.WrapError(err, k)
		}
		out[k] = v
	}
	*m = out
	return b, nil
}

// EncodeMsg writes m to w as a msgpack map with sorted keys.
func (m Floats) EncodeMsg(w *msgp.Writer) error {
	if m == nil {
		return w.WriteNil()
	}
	if err := w.WriteMapHeader(uint32(len(m))); err != nil {
		return err
	}
	for _, k := range sortedKeys(m) {
		if err := w.WriteString(k); err != nil {
			return err
		}
		if err := w.WriteFloat64(m[k]); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsg reads a msgpack map (or nil) from r into m.
func (m *Floats) DecodeMsg(r *msgp.Reader) error {
	if r.IsNil() {
		*m = nil
		return r.ReadNil()
	}
	n, err := r.ReadMapHeader()
	if err != nil {
		return err
	}
	out := make(Floats, capHint(n, 1024))
	for range n {
		k, err := r.ReadString()
		if err != nil {
			return err
		}
		v, err := r.ReadFloat64()
		if err != nil {
			return msgp.WrapError(err, k)
		}
		out[k] = v
	}
	*m = out
	return nil
}

// Msgsize is an upper bound of m's encoded size.
func (m Floats) Msgsize() int {
	s := msgp.MapHeaderSize
	for k := range m {
		s += msgp.StringPrefixSize + len(k) + msgp.Float64Size
	}
	return s
}

// MarshalMsg appends m to b as a msgpack map with sorted keys.
func (m Counts) MarshalMsg(b []byte) ([]byte, error) {
	if m == nil {
		return msgp.AppendNil(b), nil
	}
	b = msgp.AppendMapHeader(b, uint32(len(m)))
	for _, k := range sortedKeys(m) {
		b = msgp.AppendString(b, k)
		b = msgp.AppendUint64(b, m[k])
	}
	return b, nil
}

// UnmarshalMsg reads a msgpack map (or nil) into m.
func (m *Counts) UnmarshalMsg(b []byte) ([]byte, error) {
	if msgp.IsNil(b) {
		*m = nil
		return b[1:], nil
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return b, err
	}
	out := make(Counts, capHint(n, len(b)/2))
	for range n {
		var k string
		k, b, err = msgp.ReadStringBytes(b)
		if err != nil {
			return b, err
		}
		var v uint64
		v, b, err = msgp.ReadUint64Bytes(b)
		if err != nil {
			return b, msgp.WrapError(err, k)
		}
		out[k] = v
	}
	*m = out
	return b, nil
}

// EncodeMsg writes m to w as a msgpack map with sorted keys.
func (m Counts) EncodeMsg(w *msgp.Writer) error {
	if m == nil {
		return w.WriteNil()
	}
	if err := w.WriteMapHeader(uint32(len(m))); err != nil {
		return err
	}
	for _, k := range sortedKeys(m) {
		if err := w.WriteString(k); err != nil {
			return err
		}
		if err := w.WriteUint64(m[k]); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsg reads a msgpack map (or nil) from r into m.
func (m *Counts) DecodeMsg(r *msgp.Reader) error {
	if r.IsNil() {
		*m = nil
		return r.ReadNil()
	}
	n, err := r.ReadMapHeader()
	if err != nil {
		return err
	}
	out := make(Counts, capHint(n, 1024))
	for range n {
		k, err := r.ReadString()
		if err != nil {
			return err
		}
		v, err := r.ReadUint64()
		if err != nil {
			return msgp.WrapError(err, k)
		}
		out[k] = v
	}
	*m = out
	return nil
}

// Msgsize is an upper bound of m's encoded size.
func (m Counts) Msgsize() int {
	s := msgp.MapHeaderSize
	for k := range m {
		s += msgp.StringPrefixSize + len(k) + msgp.Uint64Size
	}
	return s
}

// MarshalMsg appends m to b as a msgpack map with sorted keys, each value
// an array of float64.
func (m Series) MarshalMsg(b []byte) ([]byte, error) {
	if m == nil {
		return msgp.AppendNil(b), nil
	}
	b = msgp.AppendMapHeader(b, uint32(len(m)))
	for _, k := range sortedKeys(m) {
		b = msgp.AppendString(b, k)
		v := m[k]
		b = msgp.AppendArrayHeader(b, uint32(len(v)))
		for _, x := range v {
			b = msgp.AppendFloat64(b, x)
		}
	}
	return b, nil
}

// UnmarshalMsg reads a msgpack map (or nil) into m.
func (m *Series) UnmarshalMsg(b []byte) ([]byte, error) {
	if msgp.IsNil(b) {
		*m = nil
		return b[1:], nil
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return b, err
	}
	out := make(Series, capHint(n, len(b)/2))
	for range n {
		var k string
		k, b, err = msgp.ReadStringBytes(b)
		if err != nil {
			return b, err
		}
		var sz uint32
		sz, b, err = msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return b, msgp.WrapError(err, k)
		}
		v := make([]float64, 0, capHint(sz, len(b)))
		for range sz {
			var x float64
			x, b, err = msgp.ReadFloat64Bytes(b)
			if err != nil {
				return b, msgp.WrapError(err, k)
			}
			v = append(v, x)
		}
		out[k] = v
	}
	*m = out
	return b, nil
}

// EncodeMsg writes m to w as a msgpack map with sorted keys.
func (m Series) EncodeMsg(w *msgp.Writer) error {
	if m == nil {
		return w.WriteNil()
	}
	if err := w.WriteMapHeader(uint32(len(m))); err != nil {
		return err
	}
	for _, k := range sortedKeys(m) {
		if err := w.WriteString(k); err != nil {
			return err
		}
		v := m[k]
		if err := w.WriteArrayHeader(uint32(len(v))); err != nil {
			return err
		}
		for _, x := range v {
			if err := w.WriteFloat64(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// DecodeMsg reads a msgpack map (or nil) from r into m.
func (m *Series) DecodeMsg(r *msgp.Reader) error {
	if r.IsNil() {
		*m = nil
		return r.ReadNil()
	}
	n, err := r.ReadMapHeader()
	if err != nil {
		return err
	}
	out := make(Series, capHint(n, 1024))
	for range n {
		k, err := r.ReadString()
		if err != nil {
			return err
		}
		sz, err := r.ReadArrayHeader()
		if err != nil {
			return msgp.WrapError(err, k)
		}
		v := make([]float64, 0, capHint(sz, 1024))
		for range sz {
			x, err := r.ReadFloat64()
			if err != nil {
				return msgp.WrapError(err, k)
			}
			v = append(v, x)
		}
		out[k] = v
	}
	*m = out
	return nil
}

// Msgsize is an upper bound of m's encoded size.
func (m Series) Msgsize() int {
	s := msgp.MapHeaderSize
	for k, v := range m {
		s += msgp.StringPrefixSize + len(k) + msgp.ArrayHeaderSize + len(v)*msgp.Float64Size
	}
	return s
}
