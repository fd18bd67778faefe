package offline

import (
	"testing"
	"time"
)

func TestETA(t *testing.T) {
	cases := []struct {
		elapsed     time.Duration
		done, total int64
		want        string
	}{
		{2 * time.Second, 1000, 4000, "ETA 6.0 s"}, // 3x the time so far
		{10 * time.Second, 500, 1000, "ETA 10 s"},  // as long again
		{time.Minute, 100, 1000, "ETA 9 min"},      // 9 more minutes
		{time.Second, 0, 1000, "ETA ?"},            // nothing done yet
		{time.Second, 1000, 1000, "ETA 0.0 s"},     // done
	}
	for _, c := range cases {
		if got := ETA(c.elapsed, c.done, c.total); got != c.want {
			t.Errorf("ETA(%v, %d, %d) = %q, want %q", c.elapsed, c.done, c.total, got, c.want)
		}
	}
}
