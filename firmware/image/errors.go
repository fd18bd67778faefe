package image

import "errors"

// ErrInvalid is what every *Error unwraps to, so a caller can test
// errors.Is(err, image.ErrInvalid) without knowing the field.
var ErrInvalid = errors.New("invalid program image")

// Error is a rejected image: Field is the path of the offending field
// (for example "pops[2].unit[1]" or "synapses[0].target[57]"), Reason
// says what is wrong with its value.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func fail(field, reason string) *Error { return &Error{Field: field, Reason: reason} }

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

// path names a record (pops[2]) without building the string: the
// string is built only for an error, so checking allocates nothing.
type path struct {
	sec string
	i   int
}

// f is the record's field name, e.g. "pops[2].size" for f(".size").
func (p path) f(name string) string { return at(p.sec, p.i) + name }

// at is name[i].
func at(name string, i int) string { return name + "[" + itoa(int64(i)) + "]" }

// lengthReason is "length n, want w".
func lengthReason(n int, want int64) string {
	return "length " + itoa(int64(n)) + ", want " + itoa(want)
}

// KindName is the model's name as the network file spells it, or
// "kind N" for a number that is no kind.
func KindName(k Kind) string {
	switch k {
	case KindLIF:
		return "LIF"
	case KindExpLIF:
		return "ExpLIF"
	case KindIzhikevich:
		return "Izhikevich"
	case KindSNNIF:
		return "SNNIF"
	case KindSNNLIF:
		return "SNNLIF"
	case KindDC:
		return "DCGenerator"
	case KindPoisson:
		return "PoissonGenerator"
	case KindBernoulli:
		return "BernoulliGenerator"
	case KindSpike:
		return "SpikeGenerator"
	case KindCustom:
		return "CustomGenerator"
	case KindInput:
		return "InputTransmitter"
	}
	return "kind " + itoa(int64(k))
}

func flagName(f Flags) string {
	switch f {
	case FlagSoftReset:
		return "soft-reset"
	case FlagBinary:
		return "binary"
	case FlagCurrent:
		return "current"
	}
	return "bit " + itoa(int64(bitIndex(uint8(f))))
}

func bitIndex(f uint8) int {
	for i := 0; i < 8; i++ {
		if f == 1<<i {
			return i
		}
	}
	return -1
}
