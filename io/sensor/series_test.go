package sensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

type counter int64

func (c *counter) Now() int64 { return int64(*c) }

// TestSeries: each step of a tick gets the row of its network step
// (the tick's first step is the value); past the last row nothing is
// set, or, with repeat, row k mod T.
func TestSeries(t *testing.T) {
	rows := [][]float64{{1, 0}, {0, 2}, {3, 3}}
	for _, repeat := range []bool{false, true} {
		var r recorder
		s, err := NewSeries(&r, "in", 2, rows, repeat)
		if err != nil {
			t.Fatal(err)
		}
		var now counter
		src := StepSource{Now: &now}
		var got []string
		for tick := 0; tick < 3; tick++ { // ticks of 2 steps: steps 0..5
			v, _ := src.Read()
			s.Encode(v)
			for st := range 2 {
				before := len(r.steps)
				if err := s.Step(st); err != nil {
					t.Fatal(err)
				}
				if len(r.steps) == before {
					got = append(got, "-")
				} else {
					got = append(got, fmt.Sprint(r.steps[len(r.steps)-1]))
				}
				now++
			}
		}
		want := "[1 0] [0 2] [3 3] - - -"
		if repeat {
			want = "[1 0] [0 2] [3 3] [1 0] [0 2] [3 3]"
		}
		if g := strings.Join(got, " "); g != want || (len(r.steps) > 0 && r.pop != "in") {
			t.Errorf("repeat %v: steps %s, want %s", repeat, g, want)
		}
	}
}

func TestSeriesRejects(t *testing.T) {
	for _, c := range []struct {
		rows [][]float64
		want string
	}{
		{nil, "rows: must be at least one, got none"},
		{[][]float64{{1, 2, 3}}, "row 0: must be size 2 values, got 3"},
		{[][]float64{{1, 2}, {math.NaN(), 0}}, "row 1, value 0: must be a finite number, got NaN"},
	} {
		if _, err := NewSeries(sink{}, "in", 2, c.rows, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.rows, err, c.want)
		}
	}
}
