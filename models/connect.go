package models

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Conn is one connection of a synapse entry: pre unit and post neuron.
type Conn struct {
	Pre, Post int32
}

// ConnRule is a validated connection rule (docs/models/synapses.md).
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
			return nil, fmt.Errorf("one_to_one: sizes: must be equal, got pre %d and post %d", nPre, nPost)
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
		// The candidates of post j are 0..N_pre-1 in order, minus j when
		// its autapse is disallowed. They are built once; after post j's
		// draws its swaps are undone in reverse, and the list of post j+1
		// differs from post j's in entry j at most: the same draws as
		// rebuilding the list for every post, in O(n) per post.
		noAuto := same && !r.AllowAutapses
		cand := make([]int32, 0, nPre)
		for i := 0; i < nPre; i++ {
			if !(noAuto && i == 0) {
				cand = append(cand, int32(i))
			}
		}
		swaps := make([]int, r.N)
		out = make([]Conn, 0, r.N*nPost)
		for j := 0; j < nPost; j++ {
			if noAuto && j > 0 {
				// cand was 0..N_pre-1 minus j-1 (N_pre = N_post); now minus j.
				cand[j-1] = int32(j - 1)
			}
			m := len(cand)
			if r.N > m {
				return nil, fmt.Errorf("n must be in [0, %d] (distinct pres available to post %d), got %d", m, j, r.N)
			}
			for t := 0; t < r.N; t++ {
				q := t + rng.IntN(m-t)
				swaps[t] = q
				cand[t], cand[q] = cand[q], cand[t]
				out = append(out, Conn{cand[t], int32(j)})
			}
			for t := r.N - 1; t >= 0; t-- {
				q := swaps[t]
				cand[t], cand[q] = cand[q], cand[t]
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
		out = drawTotalNum(r, nPre, nPost, auto, rng)
	case "explicit":
		out = make([]Conn, len(r.Pairs))
		for k, c := range r.Pairs {
			if c.Pre < 0 || int(c.Pre) >= nPre || c.Post < 0 || int(c.Post) >= nPost {
				return nil, fmt.Errorf("pair %d: must be in [0, %d) x [0, %d) (pre size x post size), got [%d, %d]", k, nPre, nPost, c.Pre, c.Post)
			}
			out[k] = c
		}
	default:
		return nil, fmt.Errorf("unknown rule %q", r.Rule)
	}
	// Canonical order is ascending (pre, post), stable; equal connections
	// are identical values, so any sort gives the stable sort's result.
	// all_to_all, fixed_prob and one_to_one are made in that order already.
	sortConns(out)
	return out, nil
}

// drawTotalNum is fixed_total_num's draw (docs/models/synapses.md): i = IntN(N_pre),
// then j = IntN(N_post); a disallowed autapse is redrawn and, without
// multi_conn, so is a pair already taken, until n pairs are accepted. The
// result is that of the spec's loop, in canonical order; the taken pairs
// are found by sorting: a round
// draws the k pairs still missing, sorts them and drops those taken
// before; k distinct new draws can only complete the n (never pass it),
// so the last round ends exactly where the spec's loop stops. A round
// takes at most n/128 pairs that are already taken, so there are few.
func drawTotalNum(r ConnRule, nPre, nPost int, auto func(i, j int) bool, rng *rand.Rand) []Conn {
	out := make([]Conn, 0, r.N)
	draw := func() Conn {
		for {
			i := rng.IntN(nPre)
			j := rng.IntN(nPost)
			if !auto(i, j) {
				return Conn{int32(i), int32(j)}
			}
		}
	}
	if r.MultiConn {
		for len(out) < r.N {
			out = append(out, draw())
		}
		return out
	}
	pairs := int64(nPre) * int64(nPost)
	var scratch []Conn
	for len(out) < r.N {
		old := len(out)
		k := r.N - old
		if int64(k)*64 < int64(r.N) && pairs/8 <= int64(r.N) {
			// A dense tail: the rounds would shrink slowly; a bitset of
			// the pair space (pairs <= 8n: at most 1 byte per connection)
			// takes the last draws one by one. Connect sorts the result.
			taken := make([]uint64, (pairs+63)/64)
			for _, c := range out {
				x := int64(c.Pre)*int64(nPost) + int64(c.Post)
				taken[x>>6] |= 1 << (x & 63)
			}
			for len(out) < r.N {
				c := draw()
				x := int64(c.Pre)*int64(nPost) + int64(c.Post)
				if taken[x>>6]&(1<<(x&63)) != 0 {
					continue
				}
				taken[x>>6] |= 1 << (x & 63)
				out = append(out, c)
			}
			return out
		}
		for range k {
			out = append(out, draw())
		}
		fresh := out[old:]
		if cap(scratch) < len(fresh) {
			scratch = make([]Conn, len(fresh))
		}
		radixSort(fresh, scratch[:len(fresh)])
		// Keep the draws that are new: not repeated within the round, not
		// taken before (a linear walk along the sorted taken pairs).
		add := scratch[:0]
		a := 0
		for x, c := range fresh {
			if x > 0 && c == fresh[x-1] {
				continue
			}
			for a < old && cmpConn(out[a], c) < 0 {
				a++
			}
			if a < old && out[a] == c {
				continue
			}
			add = append(add, c)
		}
		// Merge the two sorted runs from the back into out.
		out = out[:old+len(add)]
		a, b := old-1, len(add)-1
		for w := len(out) - 1; b >= 0; w-- {
			if a >= 0 && cmpConn(out[a], add[b]) > 0 {
				out[w] = out[a]
				a--
			} else {
				out[w] = add[b]
				b--
			}
		}
	}
	return out
}

func cmpConn(a, b Conn) int {
	if a.Pre != b.Pre {
		return int(a.Pre) - int(b.Pre)
	}
	return int(a.Post) - int(b.Post)
}

// sortConns puts cs in ascending (pre, post) order: nothing when it is
// already, a comparison sort when it is short, else an LSD radix sort with
// a scratch copy (8 bytes per connection while it runs).
func sortConns(cs []Conn) {
	if slices.IsSortedFunc(cs, cmpConn) {
		return
	}
	if len(cs) < 1<<12 {
		slices.SortFunc(cs, cmpConn)
		return
	}
	radixSort(cs, make([]Conn, len(cs)))
}

// radixSort sorts cs (non-negative Pre and Post) by (pre, post): an LSD
// radix sort of the key pre<<bits(post) | post in digits of at most 12
// bits (4096 counters stay in cache); scratch has len(cs).
func radixSort(cs, scratch []Conn) {
	if len(cs) < 1<<12 {
		slices.SortFunc(cs, cmpConn)
		return
	}
	var maxPre, maxPost uint32
	for _, c := range cs {
		maxPre = max(maxPre, uint32(c.Pre))
		maxPost = max(maxPost, uint32(c.Post))
	}
	postBits := uint(bits.Len32(maxPost))
	width := postBits + uint(bits.Len32(maxPre))
	passes := (width + 11) / 12
	if passes == 0 {
		return
	}
	digit := (width + passes - 1) / passes
	mask := uint64(1)<<digit - 1
	key := func(c Conn) uint64 { return uint64(uint32(c.Pre))<<postBits | uint64(uint32(c.Post)) }
	cnt := make([]int, 1<<digit)
	src, dst := cs, scratch
	for pass := range passes {
		shift := digit * pass
		clear(cnt)
		for _, c := range src {
			cnt[key(c)>>shift&mask]++
		}
		sum := 0
		for d, n := range cnt {
			cnt[d] = sum
			sum += n
		}
		for _, c := range src {
			d := key(c) >> shift & mask
			dst[cnt[d]] = c
			cnt[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &cs[0] {
		copy(cs, src)
	}
}
