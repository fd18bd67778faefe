package sensor

import (
	"errors"
	"fmt"
	"math"
)

// Series feeds an InputTransmitter the rows of an input file, row k in
// network step k, as `spikeloop sim --input` does: the daemon's file
// input. Its value is the number of the tick's first network step (read
// by StepSource), not a measurement: a recording keeps it like a
// sensor's value, and a replay with the same rows feeds the same row in
// every step. After the last row it gives nothing (the transmitter emits
// zeros) or, with repeat, starts again from row 0.
type Series struct {
	net    InputSetter
	pop    string
	rows   [][]float64
	repeat bool
	k0     int64 // the tick's first step
}

// NewSeries returns a series encoder into population pop of size units;
// every row must have size finite values. The rows are kept, not
// copied.
func NewSeries(net InputSetter, pop string, size int, rows [][]float64, repeat bool) (*Series, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("series encoder %q: rows: must be at least one, got none", pop)
	}
	for k, row := range rows {
		if len(row) != size {
			return nil, fmt.Errorf("series encoder %q: row %d: must be size %d values, got %d", pop, k, size, len(row))
		}
		for i, x := range row {
			if !finite(x) {
				return nil, fmt.Errorf("series encoder %q: row %d, value %d: must be a finite number, got %g", pop, k, i, x)
			}
		}
	}
	return &Series{net: net, pop: pop, rows: rows, repeat: repeat}, nil
}

// Len is the number of rows (network steps) of the series.
func (s *Series) Len() int { return len(s.rows) }

// Encode implements Encoder: v is the number of the tick's first
// network step.
func (s *Series) Encode(v float64) {
	s.k0 = 0
	if v > 0 && v < math.MaxInt64 {
		s.k0 = int64(v)
	}
}

// Step implements Encoder: the row of network step k0+st, if there is
// one.
func (s *Series) Step(st int) error {
	k := s.k0 + int64(st)
	n := int64(len(s.rows))
	switch {
	case k < n:
	case s.repeat:
		k %= n
	default:
		return nil // no vector: the transmitter emits zeros
	}
	return s.net.SetInput(s.pop, s.rows[k])
}

// StepSource is the Source of a Series: the number of the next network
// step (exact in a float64 up to 2^53 steps).
type StepSource struct{ Now StepCounter }

// Read implements Source.
func (s StepSource) Read() (float64, error) {
	if s.Now == nil {
		return 0, errors.New("step source: no step counter")
	}
	return float64(s.Now.Now()), nil
}

var (
	_ Encoder = (*Series)(nil)
	_ Source  = StepSource{}
)
