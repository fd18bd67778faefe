package models_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// A file over MaxFileBytes is refused before it is read or parsed, with
// the limit's name and value.
func TestLimitsFileBytes(t *testing.T) {
	src := "version: 1\npopulations:\n  a: {model: LIF, size: 1}\n# " + strings.Repeat("x", 1000) + "\n"
	lim := models.Limits{MaxUnits: 10, MaxConnections: 10, MaxFileBytes: 500}
	want := fmt.Sprintf("is %d bytes, more than the limit of 500 (Limits.MaxFileBytes)", len(src))
	if _, err := models.Load([]byte(src), "big.yaml", models.NewRegistry(), lim); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load: err = %v, want %q", err, want)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := models.LoadFile(path, models.NewRegistry(), lim); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadFile: err = %v, want %q", err, want)
	}
	lim.MaxFileBytes = int64(len(src))
	if _, err := models.LoadFile(path, models.NewRegistry(), lim); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// A file over MaxNodes is refused: a long list (of strings, so that it
// is not read as numbers) before parsing, many small mappings (which the
// count before parsing sees only in part) after parsing; both name the
// limit and its value.
func TestLimitsNodes(t *testing.T) {
	lim := models.Limits{MaxUnits: 1000, MaxConnections: 1000, MaxNodes: 500}
	list := "version: 1\npopulations:\n  a: {model: LIF, size: 1}\nmonitors:\n  - {population: a, record: [" + strings.Repeat("V, ", 600) + "V]}\n"
	_, err := models.Load([]byte(list), "list.yaml", models.NewRegistry(), lim)
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 500 (Limits.MaxNodes)") || !strings.Contains(err.Error(), "counted before parsing") {
		t.Errorf("long list: err = %v, want the node limit, counted before parsing", err)
	}
	var b strings.Builder
	b.WriteString("version: 1\npopulations:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  p%d:\n    model: LIF\n    size: 1\n", i)
	}
	_, err = models.Load([]byte(b.String()), "maps.yaml", models.NewRegistry(), lim)
	if err == nil || !strings.Contains(err.Error(), "has more than 500 YAML nodes") || !strings.Contains(err.Error(), "Limits.MaxNodes") {
		t.Errorf("mappings: err = %v, want the node limit after parsing", err)
	}
	lim.MaxNodes = 0
	if _, err := models.Load([]byte(b.String()), "maps.yaml", models.NewRegistry(), lim); err != nil {
		t.Errorf("without MaxNodes: %v", err)
	}
}

// Spike times past MaxSpikeTimes are refused from the list's length,
// before any entry is converted: the bad entry at the end of the list is
// never looked at.
func TestLimitsSpikeTimesBeforeConversion(t *testing.T) {
	for _, list := range []string{
		"[" + strings.Repeat("1.0, ", 3000) + "oops]",          // parsed as YAML nodes
		"[[" + strings.Repeat("1.0, ", 3000) + "1.0], [oops]]", // a list of lists
		"[" + strings.Repeat("1.0, ", 3000) + "1.0]",           // read before parsing (bulk)
	} {
		src := "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 2, params: {spike_times: " + list + "}}\n"
		lim := models.Limits{MaxUnits: 10, MaxConnections: 10, MaxSpikeTimes: 2000}
		_, err := models.Load([]byte(src), "s.yaml", models.NewRegistry(), lim)
		if err == nil || !strings.Contains(err.Error(), "s.yaml:3: populations.g.params.spike_times") || !strings.Contains(err.Error(), "more than the limit of 2000 (Limits.MaxSpikeTimes)") {
			t.Errorf("err = %v, want the spike-time limit", err)
		}
	}
}

// fixed_total_num without multi_conn gives n distinct pairs in canonical
// order even when n is (nearly) every pair there is, quickly.
func TestConnectFixedTotalNumDense(t *testing.T) {
	for _, c := range []struct {
		n, size int
		allow   bool
	}{{90_000, 300, true}, {89_700, 300, false}, {89_000, 300, false}, {40_000, 300, true}} {
		r := models.ConnRule{Rule: "fixed_total_num", N: c.n, AllowAutapses: c.allow}
		cs, err := models.Connect(r, c.size, c.size, true, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != c.n {
			t.Fatalf("n=%d: %d connections", c.n, len(cs))
		}
		for i, x := range cs {
			if i > 0 && !(cs[i-1].Pre < x.Pre || cs[i-1].Pre == x.Pre && cs[i-1].Post < x.Post) {
				t.Fatalf("n=%d: connection %d %v does not follow %v (want distinct pairs, ascending)", c.n, i, x, cs[i-1])
			}
			if !c.allow && x.Pre == x.Post {
				t.Fatalf("n=%d: autapse %v", c.n, x)
			}
		}
	}
}

// The sorted rounds of a sparse fixed_total_num give exactly the spec's
// loop (docs/models/synapses.md), with its map of taken pairs.
func TestConnectFixedTotalNumSparseSameAsSpec(t *testing.T) {
	for _, allow := range []bool{true, false} {
		const size, n = 1000, 60_000
		rng := rand.New(rand.NewPCG(9, uint64(n)))
		seen := map[models.Conn]bool{}
		var want []models.Conn
		for len(want) < n {
			i, j := rng.IntN(size), rng.IntN(size)
			c := models.Conn{Pre: int32(i), Post: int32(j)}
			if (!allow && i == j) || seen[c] {
				continue
			}
			seen[c] = true
			want = append(want, c)
		}
		got, err := models.Connect(models.ConnRule{Rule: "fixed_total_num", N: n, AllowAutapses: allow}, size, size, true, rand.New(rand.NewPCG(9, uint64(n))))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if !seen[c] {
				t.Fatalf("allow_autapses %v: %v is not among the spec's pairs", allow, c)
			}
			delete(seen, c)
		}
		if len(got) != n || len(seen) != 0 {
			t.Fatalf("allow_autapses %v: %d connections, %d of the spec's missing", allow, len(got), len(seen))
		}
	}
}

// A file with 1000 bad entries gives a bounded error: the first 20
// problems, each with its line, and how many more there are; a huge
// value is quoted by its start and its length.
func TestLimitsErrorsAreShort(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\npopulations:\n  a: {model: LIF, size: 1}\nsynapses:\n")
	for range 1000 {
		b.WriteString("  - {pre: nowhere, post: a, conn: {rule: one_to_one}}\n")
	}
	_, err := models.Load([]byte(b.String()), "bad.yaml", models.NewRegistry(), models.DefaultLimits)
	if err == nil || len(err.Error()) > 2500 || !strings.Contains(err.Error(), "bad.yaml:5: synapses[0].pre") ||
		!strings.Contains(err.Error(), "bad.yaml:24: synapses[19].pre") || !strings.HasSuffix(err.Error(), "... and 980 more problems") {
		t.Errorf("1000 bad entries: err (%d bytes) = %.400v", len(fmt.Sprint(err)), err)
	}
	huge := strings.Repeat("y", 1<<20)
	_, err = models.Load([]byte("version: 1\npopulations:\n  a: {model: LIF, size: "+huge+"}\n"), "huge.yaml", models.NewRegistry(), models.DefaultLimits)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Errorf("huge value: err (%d bytes) = %.400v", len(fmt.Sprint(err)), err)
	}
}

// Long number lists read before parsing (bulk.go) give the values the
// YAML path gives, entry for entry, including -0, exponents and integers
// past int64; errors still name their line.
func TestBulkListsSameAsYAML(t *testing.T) {
	toks := []string{"-0", "1e3", "0.5", "12345678901234567890", "1.", "7", "-2.5E-3", "0", "3.0000000000000004"}
	var flow, block []string
	for i := range 2000 {
		tok := toks[i%len(toks)]
		flow = append(flow, tok)
		block = append(block, "      - "+tok)
	}
	head := "version: 1\npopulations:\n  g: {model: SpikeGenerator, size: 40}\n  a: {model: LIF, size: 50}\nsynapses:\n  - pre: g\n    post: a\n    conn: {rule: all_to_all}\n    weight:\n"
	netFlow, err := models.Load([]byte(head+"      [\n"+strings.Join(flow, ",\n   ")+",\n]\n"), "flow.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	netBlock, err := models.Load([]byte(head+strings.Join(block, "\n")+"\n"), "block.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	wf, wb := netFlow.Synapses[0].Weights, netBlock.Synapses[0].Weights
	for i := range wb {
		if math.Float64bits(wf[i]) != math.Float64bits(wb[i]) {
			t.Fatalf("weight %d: flow %g, block %g", i, wf[i], wb[i])
		}
	}
	// A delay list read before parsing: an error names the list's line,
	// and the line numbers after it are those of the file.
	delays := "[" + strings.Repeat("1.0,\n", 1999) + "1.0]"
	src := head + "      1.0\n    delay: " + delays + "\n  - {pre: g, post: nowhere, conn: {rule: all_to_all}}\n"
	_, err = models.Load([]byte(src), "d.yaml", models.NewRegistry(), models.DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("d.yaml:%d: synapses[1].post", 12+1999)) {
		t.Errorf("err = %v, want the line after the list", err)
	}
	// A list that is used where nodes are wanted (monitor neurons) works too.
	var idx []string
	for i := range 1500 {
		idx = append(idx, fmt.Sprint(i))
	}
	src = "version: 1\npopulations:\n  a: {model: LIF, size: 1500}\nmonitors:\n  - {population: a, record: [V], neurons: [" + strings.Join(idx, ", ") + "]}\n"
	net, err := models.Load([]byte(src), "n.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if m := net.Monitors[0].Neurons; len(m) != 1500 || m[1499] != 1499 {
		t.Errorf("neurons: %d, last %d", len(m), m[len(m)-1])
	}
}
