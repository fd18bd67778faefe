package models_test

// Tests of the connection rules of docs/models/synapses.md and the README's network file section, both
// through models.Connect and through network files. Draw orders are
// reproduced from the spec's text with a manual PCG stream.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

func ctRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

func ctConnect(t *testing.T, r models.ConnRule, nPre, nPost int, same bool, rng *rand.Rand) []models.Conn {
	t.Helper()
	cs, err := models.Connect(r, nPre, nPost, same, rng)
	if err != nil {
		t.Fatalf("%+v: %v", r, err)
	}
	return cs
}

// ctCanonical checks ascending (pre, post) order; strict says no pair
// may repeat.
func ctCanonical(t *testing.T, what string, cs []models.Conn, strict bool) {
	t.Helper()
	for i := 1; i < len(cs); i++ {
		a, b := cs[i-1], cs[i]
		if a.Pre > b.Pre || (a.Pre == b.Pre && a.Post > b.Post) {
			t.Fatalf("%s: connection %d %v follows %v: not in canonical (pre, post) order", what, i, b, a)
		}
		if strict && a == b {
			t.Fatalf("%s: pair %v appears twice", what, a)
		}
	}
}

// ctSort puts a hand-made expected list in canonical order.
func ctSort(cs []models.Conn) []models.Conn {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Pre != cs[j].Pre {
			return cs[i].Pre < cs[j].Pre
		}
		return cs[i].Post < cs[j].Post
	})
	return cs
}

func ctSame(a, b []models.Conn) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ctNoAutapse(t *testing.T, what string, cs []models.Conn) {
	t.Helper()
	for _, c := range cs {
		if c.Pre == c.Post {
			t.Fatalf("%s: autapse %v although allow_autapses is false", what, c)
		}
	}
}

func TestConnectCounts(t *testing.T) {
	// one_to_one: (i, i) for every i
	cs := ctConnect(t, models.ConnRule{Rule: "one_to_one", AllowAutapses: true}, 7, 7, false, ctRng(1))
	if len(cs) != 7 {
		t.Fatalf("one_to_one: %d connections, want 7", len(cs))
	}
	for i, c := range cs {
		if c != (models.Conn{Pre: int32(i), Post: int32(i)}) {
			t.Errorf("one_to_one: connection %d is %v", i, c)
		}
	}
	// one_to_one within one population still makes (i, i): it is the rule
	if cs = ctConnect(t, models.ConnRule{Rule: "one_to_one"}, 4, 4, true, ctRng(1)); len(cs) != 4 {
		t.Errorf("one_to_one same population: %d connections, want 4", len(cs))
	}

	// all_to_all: N*M, every pair once, in canonical order
	cs = ctConnect(t, models.ConnRule{Rule: "all_to_all", AllowAutapses: true}, 5, 3, false, ctRng(1))
	if len(cs) != 15 {
		t.Fatalf("all_to_all 5x3: %d connections, want 15", len(cs))
	}
	for k, c := range cs {
		if want := (models.Conn{Pre: int32(k / 3), Post: int32(k % 3)}); c != want {
			t.Errorf("all_to_all: connection %d is %v, want %v", k, c, want)
		}
	}
	// same population, autapses disallowed: N*N - N, none of them (i, i)
	cs = ctConnect(t, models.ConnRule{Rule: "all_to_all", AllowAutapses: false}, 6, 6, true, ctRng(1))
	if len(cs) != 30 {
		t.Errorf("all_to_all 6x6 without autapses: %d connections, want 30", len(cs))
	}
	ctNoAutapse(t, "all_to_all", cs)
	ctCanonical(t, "all_to_all", cs, true)
	// autapses allowed: (i, i) included
	if cs = ctConnect(t, models.ConnRule{Rule: "all_to_all", AllowAutapses: true}, 6, 6, true, ctRng(1)); len(cs) != 36 {
		t.Errorf("all_to_all 6x6 with autapses: %d connections, want 36", len(cs))
	}
	// different populations have no autapses: allow_autapses false removes nothing
	if cs = ctConnect(t, models.ConnRule{Rule: "all_to_all", AllowAutapses: false}, 6, 6, false, ctRng(1)); len(cs) != 36 {
		t.Errorf("all_to_all between two populations, allow_autapses false: %d connections, want 36", len(cs))
	}

	// fixed_indegree: n distinct pres for every post
	for _, allow := range []bool{true, false} {
		for _, n := range []int{0, 1, 5, 9} {
			if !allow && n == 9 {
				continue
			}
			const nPre, nPost = 9, 9
			cs = ctConnect(t, models.ConnRule{Rule: "fixed_indegree", N: n, AllowAutapses: allow}, nPre, nPost, true, ctRng(uint64(n)))
			what := fmt.Sprintf("fixed_indegree n=%d allow_autapses=%v", n, allow)
			if len(cs) != n*nPost {
				t.Fatalf("%s: %d connections, want %d", what, len(cs), n*nPost)
			}
			ctCanonical(t, what, cs, true) // strict: pres distinct per post
			indeg := make([]int, nPost)
			for _, c := range cs {
				indeg[c.Post]++
			}
			for j, d := range indeg {
				if d != n {
					t.Errorf("%s: post %d has in-degree %d", what, j, d)
				}
			}
			if !allow {
				ctNoAutapse(t, what, cs)
			}
		}
	}
	// n = M: every candidate, i.e. all pres except j
	cs = ctConnect(t, models.ConnRule{Rule: "fixed_indegree", N: 8, AllowAutapses: false}, 9, 9, true, ctRng(3))
	if len(cs) != 72 {
		t.Errorf("fixed_indegree n = M = 8: %d connections, want 72", len(cs))
	}
	ctNoAutapse(t, "fixed_indegree n=M", cs)

	// fixed_total_num
	for _, c := range []struct {
		n     int
		multi bool
		allow bool
	}{{0, false, true}, {10, false, true}, {30, false, false}, {36, false, true}, {100, true, false}} {
		what := fmt.Sprintf("fixed_total_num n=%d multi_conn=%v allow_autapses=%v", c.n, c.multi, c.allow)
		cs = ctConnect(t, models.ConnRule{Rule: "fixed_total_num", N: c.n, MultiConn: c.multi, AllowAutapses: c.allow}, 6, 6, true, ctRng(uint64(c.n)))
		if len(cs) != c.n {
			t.Fatalf("%s: %d connections", what, len(cs))
		}
		ctCanonical(t, what, cs, !c.multi)
		if !c.allow {
			ctNoAutapse(t, what, cs)
		}
	}
	// with multi_conn, repeats do occur once n exceeds the distinct pairs
	cs = ctConnect(t, models.ConnRule{Rule: "fixed_total_num", N: 50, MultiConn: true, AllowAutapses: true}, 3, 3, false, ctRng(1))
	rep := false
	for i := 1; i < len(cs); i++ {
		rep = rep || cs[i] == cs[i-1]
	}
	if len(cs) != 50 || !rep {
		t.Errorf("fixed_total_num n=50 on 9 pairs with multi_conn: %d connections, repeats %v", len(cs), rep)
	}

	// explicit: exactly the pairs, in canonical order, repeats kept
	cs = ctConnect(t, models.ConnRule{Rule: "explicit", Pairs: []models.Conn{{Pre: 2, Post: 0}, {Pre: 0, Post: 1}, {Pre: 1, Post: 1}, {Pre: 0, Post: 0}, {Pre: 0, Post: 1}}}, 3, 2, false, ctRng(1))
	want := []models.Conn{{Pre: 0, Post: 0}, {Pre: 0, Post: 1}, {Pre: 0, Post: 1}, {Pre: 1, Post: 1}, {Pre: 2, Post: 0}}
	if !ctSame(cs, want) {
		t.Errorf("explicit: got %v, want %v", cs, want)
	}
}

func TestConnectFixedProbCount(t *testing.T) {
	for _, c := range []struct {
		n, m        int
		p           float64
		same, allow bool
	}{
		{300, 300, 0.2, false, true},
		{300, 200, 0.05, false, true},
		{250, 250, 0.5, true, false},
	} {
		cs := ctConnect(t, models.ConnRule{Rule: "fixed_prob", P: c.p, AllowAutapses: c.allow}, c.n, c.m, c.same, ctRng(2024))
		pairs := float64(c.n * c.m)
		if c.same && !c.allow {
			pairs -= float64(c.n)
			ctNoAutapse(t, "fixed_prob", cs)
		}
		// the count is Binomial(pairs, p)
		mean, sig := pairs*c.p, math.Sqrt(pairs*c.p*(1-c.p))
		if d := math.Abs(float64(len(cs)) - mean); d > 4*sig {
			t.Errorf("fixed_prob %dx%d p=%g: %d connections, want within 4 sigma (%.0f) of %.0f", c.n, c.m, c.p, len(cs), 4*sig, mean)
		}
		ctCanonical(t, "fixed_prob", cs, true)
	}
	// p = 0 and p = 1 are exact
	if cs := ctConnect(t, models.ConnRule{Rule: "fixed_prob", P: 0}, 20, 20, false, ctRng(1)); len(cs) != 0 {
		t.Errorf("fixed_prob p=0: %d connections", len(cs))
	}
	if cs := ctConnect(t, models.ConnRule{Rule: "fixed_prob", P: 1, AllowAutapses: false}, 20, 20, true, ctRng(1)); len(cs) != 380 {
		t.Errorf("fixed_prob p=1 without autapses: %d connections, want 380", len(cs))
	}
}

func TestConnectRejects(t *testing.T) {
	cases := []struct {
		r           models.ConnRule
		nPre, nPost int
		same        bool
	}{
		{models.ConnRule{Rule: "one_to_one"}, 3, 4, false},
		{models.ConnRule{Rule: "fixed_prob", P: 1.5}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_prob", P: -0.1}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_prob", P: math.NaN()}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_indegree", N: 4, AllowAutapses: true}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_indegree", N: 3, AllowAutapses: false}, 3, 3, true}, // M = 2
		{models.ConnRule{Rule: "fixed_indegree", N: -1, AllowAutapses: true}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_indegree", N: 1 << 30, AllowAutapses: true}, 3, 1 << 20, false},
		{models.ConnRule{Rule: "fixed_total_num", N: -1}, 3, 3, false},
		{models.ConnRule{Rule: "fixed_total_num", N: 10}, 3, 3, false},                     // 9 distinct pairs
		{models.ConnRule{Rule: "fixed_total_num", N: 7, AllowAutapses: false}, 3, 3, true}, // 6 allowed pairs
		{models.ConnRule{Rule: "explicit", Pairs: []models.Conn{{Pre: 0, Post: 0}, {Pre: 3, Post: 0}}}, 3, 2, false},
		{models.ConnRule{Rule: "explicit", Pairs: []models.Conn{{Pre: 0, Post: 2}}}, 3, 2, false},
		{models.ConnRule{Rule: "explicit", Pairs: []models.Conn{{Pre: -1, Post: 0}}}, 3, 2, false},
		{models.ConnRule{Rule: "nearest"}, 3, 3, false},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%+v on %dx%d: panic %v, want an error", c.r, c.nPre, c.nPost, p)
				}
			}()
			if _, err := models.Connect(c.r, c.nPre, c.nPost, c.same, ctRng(1)); err == nil {
				t.Errorf("%+v on %dx%d: accepted, want an error", c.r, c.nPre, c.nPost)
			}
		}()
	}
}

// --- exact draw order ---------------------------------------------------

func TestConnectDrawOrder(t *testing.T) {
	const seed = 2718
	for _, same := range []bool{false, true} {
		for _, allow := range []bool{true, false} {
			what := fmt.Sprintf("same=%v allow_autapses=%v", same, allow)
			auto := func(i, j int) bool { return same && i == j && !allow }

			// fixed_prob: for i, for j: skip a disallowed autapse without a
			// draw, else connect iff Float64() < p.
			const n, m, p = 40, 40, 0.3
			manual := ctRng(seed)
			var want []models.Conn
			for i := 0; i < n; i++ {
				for j := 0; j < m; j++ {
					if auto(i, j) {
						continue
					}
					if manual.Float64() < p {
						want = append(want, models.Conn{Pre: int32(i), Post: int32(j)})
					}
				}
			}
			got := ctConnect(t, models.ConnRule{Rule: "fixed_prob", P: p, AllowAutapses: allow}, n, m, same, ctRng(seed))
			if !ctSame(got, want) {
				t.Errorf("fixed_prob %s: connections differ from the spec's draw order (%d vs %d)", what, len(got), len(want))
			}

			// fixed_indegree: per post j, partial Fisher-Yates over the
			// candidates with q = t + IntN(M - t).
			const k = 7
			manual = ctRng(seed)
			want = want[:0]
			for j := 0; j < m; j++ {
				var cand []int32
				for i := 0; i < n; i++ {
					if !auto(i, j) {
						cand = append(cand, int32(i))
					}
				}
				for x := 0; x < k; x++ {
					q := x + manual.IntN(len(cand)-x)
					cand[x], cand[q] = cand[q], cand[x]
					want = append(want, models.Conn{Pre: cand[x], Post: int32(j)})
				}
			}
			ctSort(want)
			got = ctConnect(t, models.ConnRule{Rule: "fixed_indegree", N: k, AllowAutapses: allow}, n, m, same, ctRng(seed))
			if !ctSame(got, want) {
				t.Errorf("fixed_indegree %s: connections differ from the spec's draw order", what)
			}

			// fixed_total_num: i = IntN(N_pre), then j = IntN(N_post); reject
			// disallowed autapses and (multi_conn false) repeats.
			for _, multi := range []bool{false, true} {
				const total = 300
				manual = ctRng(seed)
				want = want[:0]
				seen := map[models.Conn]bool{}
				for len(want) < total {
					i := manual.IntN(n)
					j := manual.IntN(m)
					c := models.Conn{Pre: int32(i), Post: int32(j)}
					if auto(i, j) || (!multi && seen[c]) {
						continue
					}
					seen[c] = true
					want = append(want, c)
				}
				ctSort(want)
				got = ctConnect(t, models.ConnRule{Rule: "fixed_total_num", N: total, MultiConn: multi, AllowAutapses: allow}, n, m, same, ctRng(seed))
				if !ctSame(got, want) {
					t.Errorf("fixed_total_num multi_conn=%v %s: connections differ from the spec's draw order", multi, what)
				}
			}
		}
	}
}

// --- through network files ----------------------------------------------

func ctLoad(t *testing.T, text string) *models.Network {
	t.Helper()
	net, err := models.Load([]byte(text), "/nonexistent/net.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, text)
	}
	return net
}

func ctLoadErr(t *testing.T, text string) error {
	t.Helper()
	_, err := models.Load([]byte(text), "/nonexistent/net.yaml", models.NewRegistry(), models.DefaultLimits)
	return err
}

// ctNet has populations a (LIF, na) and b (LIF, nb) and the given synapse
// entries (YAML list items, already indented).
func ctNet(seed string, dt string, na, nb int, synapses ...string) string {
	s := "version: 1\ndt: " + dt + "\nseed: " + seed + "\npopulations:\n" +
		fmt.Sprintf("  a: {model: LIF, size: %d}\n  b: {model: LIF, size: %d}\n", na, nb)
	if len(synapses) > 0 {
		s += "synapses:\n"
		for _, e := range synapses {
			s += "  - " + e + "\n"
		}
	}
	return s
}

func TestFileDrawOrder(t *testing.T) {
	// The connectivity stream of synapse entry idx is PCG(seed, 2<<32|idx).
	const seed = 424242
	const na, nb = 30, 25
	text := ctNet("424242", "0.1", na, nb,
		"{pre: a, post: b, conn: {rule: all_to_all}}",
		"{pre: a, post: b, conn: {rule: fixed_prob, p: 0.25}}",
		"{pre: a, post: a, conn: {rule: fixed_indegree, n: 4, allow_autapses: false}}",
	)
	net := ctLoad(t, text)
	if len(net.Synapses) != 3 {
		t.Fatalf("%d synapse entries", len(net.Synapses))
	}

	manual := rand.New(rand.NewPCG(seed, 2<<32|1))
	var want []models.Conn
	for i := 0; i < na; i++ {
		for j := 0; j < nb; j++ {
			if manual.Float64() < 0.25 {
				want = append(want, models.Conn{Pre: int32(i), Post: int32(j)})
			}
		}
	}
	if got := net.Synapses[1].Conns; !ctSame(got, want) {
		t.Errorf("fixed_prob from a file: %d connections, manual PCG(seed, 2<<32|1) gives %d, or the pairs differ", len(got), len(want))
	}

	manual = rand.New(rand.NewPCG(seed, 2<<32|2))
	want = nil
	for j := 0; j < na; j++ {
		var cand []int32
		for i := 0; i < na; i++ {
			if i != j {
				cand = append(cand, int32(i))
			}
		}
		for x := 0; x < 4; x++ {
			q := x + manual.IntN(len(cand)-x)
			cand[x], cand[q] = cand[q], cand[x]
			want = append(want, models.Conn{Pre: cand[x], Post: int32(j)})
		}
	}
	ctSort(want)
	if got := net.Synapses[2].Conns; !ctSame(got, want) {
		t.Errorf("fixed_indegree from a file: connections differ from manual PCG(seed, 2<<32|2)")
	}

	// the same file twice gives the same connections
	again := ctLoad(t, text)
	for i := range net.Synapses {
		if !ctSame(net.Synapses[i].Conns, again.Synapses[i].Conns) {
			t.Errorf("synapse %d: loading the same file twice gave different connections", i)
		}
	}
}

func TestFileWeightDistributionLeavesConnectivity(t *testing.T) {
	const seed = 55
	entries := func(w string) []string {
		return []string{
			"{pre: a, post: b, conn: {rule: fixed_prob, p: 0.3}, weight: " + w + "}",
			"{pre: b, post: b, conn: {rule: fixed_indegree, n: 5, allow_autapses: false}, weight: " + w + "}",
			"{pre: a, post: b, conn: {rule: fixed_total_num, n: 40}, weight: " + w + "}",
		}
	}
	weights := []string{
		"{dist: normal, mean: 1.0, std: 0.5}",
		"{dist: normal, mean: 5.0, std: 0.5}",
		"{dist: uniform, low: -2.0, high: 3.0}",
		"2.0",
	}
	var nets []*models.Network
	for _, w := range weights {
		nets = append(nets, ctLoad(t, ctNet("55", "0.1", 20, 15, entries(w)...)))
	}
	for s := range nets[0].Synapses {
		if len(nets[0].Synapses[s].Conns) == 0 {
			t.Fatalf("synapse %d has no connections; the test would be empty", s)
		}
		for v := 1; v < len(nets); v++ {
			if !ctSame(nets[0].Synapses[s].Conns, nets[v].Synapses[s].Conns) {
				t.Errorf("synapse %d: weight %s gives other connections than %s", s, weights[v], weights[0])
			}
		}
		// the weights really differ between the files
		a, b := nets[0].Synapses[s].Weights, nets[2].Synapses[s].Weights
		if len(a) != len(nets[0].Synapses[s].Conns) || a[0] == b[0] {
			t.Errorf("synapse %d: weights not drawn per connection (%d weights) or identical across distributions", s, len(a))
		}
	}
	// normal: mean shifts every weight by exactly 4 (same stream, same draws)
	for s := range nets[0].Synapses {
		for c, w := range nets[0].Synapses[s].Weights {
			if d := nets[1].Synapses[s].Weights[c] - w; math.Abs(d-4) > 1e-12 {
				t.Fatalf("synapse %d connection %d: mean 5 vs mean 1 differ by %g, want 4", s, c, d)
			}
		}
	}
	// uniform weights follow canonical order from the synapse's weight
	// stream PCG(seed, 3<<32|index) (network.go's stream layout)
	for s, syn := range nets[2].Synapses {
		manual := rand.New(rand.NewPCG(seed, 3<<32|uint64(s)))
		for c, w := range syn.Weights {
			if want := -2 + 5*manual.Float64(); math.Abs(w-want) > 1e-12 {
				t.Fatalf("synapse %d connection %d %v: weight %g, the weight stream gives %g", s, c, syn.Conns[c], w, want)
			}
			if w < -2 || w >= 3 {
				t.Fatalf("synapse %d: uniform weight %g outside [-2, 3)", s, w)
			}
		}
	}
	for _, w := range nets[3].Synapses[0].Weights {
		if w != 2 {
			t.Fatalf("scalar weight 2.0 became %g", w)
		}
	}
}

func TestFileWeightListCanonicalOrder(t *testing.T) {
	// the pairs are listed out of order; the weight and delay lists follow
	// the canonical order (0,0), (0,1), (1,1), (2,0), not the listing order
	net := ctLoad(t, ctNet("1", "0.1", 3, 2,
		"{pre: a, post: b, conn: {rule: explicit, pairs: [[2, 0], [0, 1], [1, 1], [0, 0]]}, weight: [10, 20, 30, 40], delay: [0.1, 0.2, 0.3, 0.4]}"))
	s := net.Synapses[0]
	wantConns := []models.Conn{{Pre: 0, Post: 0}, {Pre: 0, Post: 1}, {Pre: 1, Post: 1}, {Pre: 2, Post: 0}}
	if !ctSame(s.Conns, wantConns) {
		t.Fatalf("explicit pairs: %v, want %v", s.Conns, wantConns)
	}
	for c, w := range []float64{10, 20, 30, 40} {
		if s.Weights[c] != w {
			t.Errorf("connection %d %v: weight %g, want %g (list in canonical order)", c, s.Conns[c], s.Weights[c], w)
		}
		if s.Delays[c] != int32(c+1) {
			t.Errorf("connection %d %v: delay %d steps, want %d", c, s.Conns[c], s.Delays[c], c+1)
		}
	}
	// all_to_all with a list
	net = ctLoad(t, ctNet("1", "0.1", 2, 3, "{pre: a, post: b, conn: {rule: all_to_all}, weight: [1, 2, 3, 4, 5, 6]}"))
	s = net.Synapses[0]
	for c, conn := range s.Conns {
		if want := float64(conn.Pre*3 + conn.Post + 1); s.Weights[c] != want {
			t.Errorf("all_to_all %v: weight %g, want %g", conn, s.Weights[c], want)
		}
	}
	// a list of the wrong length is an error
	if err := ctLoadErr(t, ctNet("1", "0.1", 2, 3, "{pre: a, post: b, conn: {rule: all_to_all}, weight: [1, 2, 3]}")); err == nil {
		t.Error("5 weights short for 6 connections accepted")
	}
}

func TestFileDelayRounding(t *testing.T) {
	// dt 0.25 is exact in binary, so d/h is exact: D = floor(d/h + 0.5)
	// rounds halves up (0.625 -> 2.5 -> 3, where round-half-even gives 2).
	cases := []struct {
		d    string
		want int32
	}{
		{"0.25", 1}, {"0.3", 1}, {"0.375", 2}, {"0.5", 2}, {"0.6", 2}, {"0.625", 3}, {"0.74", 3}, {"1.125", 5}, {"10", 40},
	}
	for _, c := range cases {
		net := ctLoad(t, ctNet("1", "0.25", 2, 2, "{pre: a, post: b, conn: {rule: one_to_one}, delay: "+c.d+"}"))
		for i, D := range net.Synapses[0].Delays {
			if D != c.want {
				t.Errorf("delay %s ms at dt 0.25: connection %d has %d steps, want %d", c.d, i, D, c.want)
			}
		}
	}
	// default delay: dt, i.e. one step
	net := ctLoad(t, ctNet("1", "0.25", 2, 2, "{pre: a, post: b, conn: {rule: one_to_one}}"))
	for _, D := range net.Synapses[0].Delays {
		if D != 1 {
			t.Errorf("default delay: %d steps, want 1", D)
		}
	}
	// per-connection list
	net = ctLoad(t, ctNet("1", "0.25", 2, 2, "{pre: a, post: b, conn: {rule: one_to_one}, delay: [0.625, 0.3]}"))
	if d := net.Synapses[0].Delays; d[0] != 3 || d[1] != 1 {
		t.Errorf("delay list [0.625, 0.3]: %v steps, want [3 1]", d)
	}
	for _, d := range []string{"0.2", "0.0", "-1", "[0.5, 0.1]"} {
		if err := ctLoadErr(t, ctNet("1", "0.25", 2, 2, "{pre: a, post: b, conn: {rule: one_to_one}, delay: "+d+"}")); err == nil {
			t.Errorf("delay %s below dt 0.25 accepted", d)
		}
	}
}

func TestFileConnectionCounts(t *testing.T) {
	net := ctLoad(t, ctNet("9", "0.1", 12, 10,
		"{pre: a, post: b, conn: {rule: all_to_all}}",
		"{pre: a, post: a, conn: {rule: all_to_all, allow_autapses: false}}",
		"{pre: a, post: b, conn: {rule: fixed_indegree, n: 3}}",
		"{pre: b, post: b, conn: {rule: fixed_total_num, n: 80, allow_autapses: false}}",
		"{pre: b, post: b, conn: {rule: fixed_total_num, n: 150, multi_conn: true}}",
		"{pre: b, post: b, conn: {rule: one_to_one}}",
		"{pre: a, post: a, conn: {rule: fixed_prob, p: 1.0, allow_autapses: false}}",
	))
	want := []int{120, 132, 30, 80, 150, 10, 132}
	for i, s := range net.Synapses {
		if len(s.Conns) != want[i] {
			t.Errorf("synapse %d (%s): %d connections, want %d", i, s.Rule.Rule, len(s.Conns), want[i])
		}
		ctCanonical(t, s.Rule.Rule, s.Conns, !s.Rule.MultiConn)
	}
	ctNoAutapse(t, "all_to_all from a file", net.Synapses[1].Conns)
	ctNoAutapse(t, "fixed_total_num from a file", net.Synapses[3].Conns)
	ctNoAutapse(t, "fixed_prob from a file", net.Synapses[6].Conns)
	indeg := make([]int, 10)
	for _, c := range net.Synapses[2].Conns {
		indeg[c.Post]++
	}
	for j, d := range indeg {
		if d != 3 {
			t.Errorf("fixed_indegree n=3 from a file: post %d has %d", j, d)
		}
	}
}

func TestFileConnectionRejects(t *testing.T) {
	for _, e := range []string{
		"{pre: a, post: b, conn: {rule: one_to_one}}", // 4 vs 3
		"{pre: a, post: b, conn: {rule: explicit, pairs: [[0, 0], [4, 0]]}}",
		"{pre: a, post: b, conn: {rule: explicit, pairs: [[0, 3]]}}",
		"{pre: a, post: b, conn: {rule: explicit, pairs: [[-1, 0]]}}",
		"{pre: a, post: b, conn: {rule: fixed_prob, p: 1.5}}",
		"{pre: a, post: b, conn: {rule: fixed_prob, p: -0.5}}",
		"{pre: a, post: b, conn: {rule: fixed_indegree, n: 5}}",
		"{pre: a, post: a, conn: {rule: fixed_indegree, n: 4, allow_autapses: false}}",
		"{pre: a, post: b, conn: {rule: fixed_indegree, n: -1}}",
		"{pre: a, post: b, conn: {rule: fixed_total_num, n: 13}}",
		"{pre: a, post: a, conn: {rule: fixed_total_num, n: 13, allow_autapses: false}}",
		"{pre: a, post: b, conn: {rule: one_to_one, allow_autapses: false}}",
		"{pre: a, post: b, conn: {rule: fixed_prob}}",
	} {
		err := ctLoadErr(t, ctNet("1", "0.1", 4, 3, e))
		if err == nil {
			t.Errorf("%s: accepted, want an error", e)
			continue
		}
		if !strings.Contains(err.Error(), "net.yaml") {
			t.Errorf("%s: error %q does not name the file", e, err)
		}
	}
}
