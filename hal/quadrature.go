package hal

import "periph.io/x/conn/v3/gpio"

// LevelReader is the one method a Quadrature needs from an input.
type LevelReader interface {
	Read() gpio.Level
}

// Quadrature decodes an incremental encoder's A and B signals by
// sampling them; it counts every transition (four counts per encoder
// line). Forward is A leading B: (A,B) goes 00, 10, 11, 01, 00.
//
// Sampling must be faster than the encoder's transitions: when both
// signals changed between two samples the direction is unknown, the
// count is left alone and Invalid is incremented.
type Quadrature struct {
	a, b    LevelReader
	phase   int8 // position of the last sample in the forward sequence
	count   int64
	invalid int64
}

// NewQuadrature starts a decoder at count 0 from the current levels.
func NewQuadrature(a, b LevelReader) *Quadrature {
	q := &Quadrature{a: a, b: b}
	q.phase = q.sample()
	return q
}

// phaseOf maps (A<<1 | B) to the position in the forward sequence.
var phaseOf = [4]int8{0b00: 0, 0b10: 1, 0b11: 2, 0b01: 3}

func (q *Quadrature) sample() int8 {
	s := 0
	if q.a.Read() {
		s |= 2
	}
	if q.b.Read() {
		s |= 1
	}
	return phaseOf[s]
}

// Update samples A and B once and returns the count. It does not
// allocate.
func (q *Quadrature) Update() int64 {
	p := q.sample()
	switch (p - q.phase + 4) % 4 {
	case 1:
		q.count++
	case 3:
		q.count--
	case 2:
		q.invalid++
	}
	q.phase = p
	return q.count
}

// Count is the position in counts (forward positive).
func (q *Quadrature) Count() int64 { return q.count }

// Invalid is the number of samples where both signals had changed.
func (q *Quadrature) Invalid() int64 { return q.invalid }
