package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Conn is one connection of a synapse entry: pre unit and post neuron.
type Conn struct {
	Pre, Post int32
}

// ConnRule is a validated connection rule (MODELS.md 12).
type ConnRule struct {
	Rule          string // one_to_one, all_to_all, fixed_prob, fixed_indegree, fixed_total_num, explicit
	P             float64
	N             int
	MultiConn     bool
	AllowAutapses bool
	Pairs         []Conn
}

// Connect creates the connections of one synapse entry in the rule's
// draw order and returns them in canonical order (ascending pre, then
// post, stable). same tells whether pre and post are one population
// (autapses exist only then). rng is the entry's connectivity stream.
func Connect(r ConnRule, nPre, nPost int, same bool, rng *rand.Rand) ([]Conn, error) {
	auto := func(i, j int) bool { return same && i == j && !r.AllowAutapses }
	var out []Conn
	switch r.Rule {
	case "one_to_one":
		if nPre != nPost {
			return nil, fmt.Errorf("one_to_one needs equal sizes, pre has %d and post %d", nPre, nPost)
		}
		out = make([]Conn, nPre)
		for i := range out {
			out[i] = Conn{int32(i), int32(i)}
		}
	case "all_to_all":
		out = make([]Conn, 0, nPre*nPost)
		for i := 0; i < nPre; i++ {
			for j := 0; j < nPost; j++ {
				if !auto(i, j) {
					out = append(out, Conn{int32(i), int32(j)})
				}
			}
		}
	case "fixed_prob":
		if !(r.P >= 0 && r.P <= 1) {
			return nil, fmt.Errorf("p must be in [0, 1], got %g", r.P)
		}
		out = make([]Conn, 0, int(float64(nPre)*float64(nPost)*r.P*1.1)+16)
		for i := 0; i < nPre; i++ {
			for j := 0; j < nPost; j++ {
				if auto(i, j) {
					continue // skipped without a draw
				}
				if rng.Float64() < r.P {
					out = append(out, Conn{int32(i), int32(j)})
				}
			}
		}
	case "fixed_indegree":
		// Check n before sizing the result: a negative or huge n made the
		// capacity r.N*nPost panic in makeslice instead of returning an error.
		if r.N < 0 || r.N > nPre {
			return nil, fmt.Errorf("n must be in [0, %d] (distinct pres available per post), got %d", nPre, r.N)
		}
		cand := make([]int32, 0, nPre)
		out = make([]Conn, 0, r.N*nPost)
		for j := 0; j < nPost; j++ {
			cand = cand[:0]
			for i := 0; i < nPre; i++ {
				if !auto(i, j) {
					cand = append(cand, int32(i))
				}
			}
			m := len(cand)
			if r.N < 0 || r.N > m {
				return nil, fmt.Errorf("n must be in [0, %d] (distinct pres available to post %d), got %d", m, j, r.N)
			}
			for t := 0; t < r.N; t++ {
				q := t + rng.IntN(m-t)
				cand[t], cand[q] = cand[q], cand[t]
				out = append(out, Conn{cand[t], int32(j)})
			}
		}
	case "fixed_total_num":
		if r.N < 0 {
			return nil, fmt.Errorf("n must be >= 0, got %d", r.N)
		}
		// int64: nPre*nPost wraps a 32-bit int (GOARCH=arm) from 46341^2 on.
		allowed := int64(nPre) * int64(nPost)
		if same && !r.AllowAutapses {
			allowed -= int64(min(nPre, nPost))
		}
		if r.N > 0 && allowed <= 0 {
			return nil, fmt.Errorf("n = %d but no pair is allowed", r.N)
		}
		if !r.MultiConn && int64(r.N) > allowed {
			return nil, fmt.Errorf("n = %d exceeds the %d allowed distinct pairs (set multi_conn: true to allow repeats)", r.N, allowed)
		}
		seen := map[Conn]bool{}
		out = make([]Conn, 0, r.N)
		for len(out) < r.N {
			i := rng.IntN(nPre)
			j := rng.IntN(nPost)
			if auto(i, j) {
				continue
			}
			c := Conn{int32(i), int32(j)}
			if !r.MultiConn {
				if seen[c] {
					continue
				}
				seen[c] = true
			}
			out = append(out, c)
		}
	case "explicit":
		out = make([]Conn, len(r.Pairs))
		for k, c := range r.Pairs {
			if c.Pre < 0 || int(c.Pre) >= nPre || c.Post < 0 || int(c.Post) >= nPost {
				return nil, fmt.Errorf("pair %d [%d, %d] is out of range (pre size %d, post size %d)", k, c.Pre, c.Post, nPre, nPost)
			}
			out[k] = c
		}
	default:
		return nil, fmt.Errorf("unknown rule %q", r.Rule)
	}
	slices.SortStableFunc(out, func(a, b Conn) int {
		if a.Pre != b.Pre {
			return int(a.Pre - b.Pre)
		}
		return int(a.Post - b.Post)
	})
	return out, nil
}
