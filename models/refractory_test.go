package models

import (
	"math"
	"strings"
	"testing"
)

// refractorySteps computes ceil(tau_ref/h) in float64 and rejects what an
// int32 counter cannot hold, instead of a conversion that wraps.
func TestRefractorySteps(t *testing.T) {
	cases := []struct {
		tauRef, h float64
		null      bool
		want      int32
		err       string // substring of the error; "" = no error
	}{
		{tauRef: 2.0, h: 0.1, want: 20},
		{tauRef: 2.04, h: 0.1, want: 21}, // docs/models/README.md: rounded up
		{tauRef: 0, h: 0.1, want: 0},
		{tauRef: 1e12, h: 0.1, null: true, want: 0},
		{tauRef: 2147483.647, h: 0.001, want: math.MaxInt32},
		{tauRef: 2147483.648, h: 0.001, err: "got 2.147483648e+06 ms (2.147483648e+09 steps)"},
		{tauRef: 1e12, h: 0.001, err: "must be at most 2147483647 steps of dt (0.001 ms), got 1e+12 ms (1e+15 steps)"},
		{tauRef: math.Inf(1), h: 0.1, err: "+Inf"},
		{tauRef: 1, h: 1e-300, err: "e+299 steps"},
	}
	for _, c := range cases {
		got, err := refractorySteps(c.tauRef, c.h, c.null)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("refractorySteps(%g, %g, %v) = %d, %v; want %d", c.tauRef, c.h, c.null, got, err, c.want)
			}
			continue
		}
		pe, ok := err.(*ParamError)
		if !ok || pe.Param != "tau_ref" || !strings.Contains(pe.Msg, c.err) {
			t.Errorf("refractorySteps(%g, %g) = %d, %v; want a tau_ref error with %q", c.tauRef, c.h, got, err, c.err)
		}
	}
}
