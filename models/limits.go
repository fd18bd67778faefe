package models

import (
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Limits bound what a network file may ask for, so that a typo (size:
// 1e9) or a hostile file fails at load with a message naming the limit
// instead of exhausting memory or time. They are checked before what
// they bound is built: the file's size before it is read, its YAML nodes
// before (a lower bound) and after parsing and before any value is
// converted, spike-time counts from the list lengths before the lists are
// converted, and connection counts and rule work before a rule draws.
//
// What they cost, measured with `/usr/bin/time -v spikeloop check FILE` on
// the reference machine (2 cores, 24 GB, shared; times vary by about 2x
// with its load):
//
//	file                                           wall    peak RSS
//	all_to_all 10k x 10k (100 M connections)       5.5 s   1.97 GB
//	fixed_prob p 0.25, 20k x 20k (100 M)           5.8 s   1.97 GB
//	fixed_prob p 0.01, 20k x 50k (10 M; 1e9 pairs) 8.3 s   0.21 GB
//	fixed_indegree n 1000, 100k posts (100 M)      8.1 s   2.76 GB
//	fixed_total_num 100 M in 100k x 100k           8.5 s   2.76 GB
//	fixed_total_num 100 M in 12k x 12k (dense)    20.2 s   3.16 GB
//	spike_times, 100 lists of 100k (10 M times)    1.5 s   0.52 GB
//
// So a connection costs 20 bytes once loaded (pre and post int32, weight
// float64, delay int32), 28 while a rule that does not make its
// connections in order sorts them (a radix sort's scratch copy), and the
// engine adds 12-16 more (the cpu backend's Probe): 100 M connections need
// about 2-3 GB to check and 3.2-3.6 GB to run. Building takes 0.5-0.9 s
// per 10 M connections (2 s for fixed_total_num near its pair space), and
// fixed_prob about 8 ns per (pre, post) pair it looks at, which MaxPairs
// bounds (2e9 pairs: about 17 s). Before these limits, 190 M connections
// took 3.7-3.9 GB to check and a 10 M spike-time list 28.6 s and 3.5 GB
// (the YAML tree: ~350 bytes per node; long number lists are now read
// before parsing at 8 bytes per entry, bulk.go).
type Limits struct {
	MaxUnits       int // total units over all populations
	MaxConnections int // total connections over all synapse entries
	// MaxPairs bounds the (pre, post) pairs one synapse entry's rule looks
	// at (N_pre*N_post for all_to_all, fixed_prob and fixed_indegree), so
	// that fixed_prob with a tiny p between two huge populations fails at
	// load instead of drawing for hours. fixed_total_num counts the draws
	// it expects to make (more than n when it must redraw taken pairs or
	// autapses). 0 means no bound of its own.
	MaxPairs int64
	// MaxSpikeTimes bounds the spike times the SpikeGenerators of a network
	// store over all their units: a single spike_times list is copied to
	// every unit, so 10^5 times on 10^6 units would be 10^11 copies.
	// 0 means no bound of its own.
	MaxSpikeTimes int64
	// MaxRingBytes bounds the delay ring buffers over all populations
	// (RingBytes: max(longest delay into a population, 1) slots of one
	// float64 per neuron and input row). 0 means no bound of its own.
	// It is checked here, entry by entry while the file loads, like the
	// other limits: a delay of hours into a large population is refused
	// before later entries' connections are made and before any backend
	// exists, so that a hostile file cannot take the memory first. The
	// figure is the same one the cpu backend's Probe counts for its rings
	// (what `spikeloop check` prints includes it).
	MaxRingBytes int64
	// MaxFileBytes bounds the network file's size, checked before it is
	// read (LoadFile) or parsed (Load). 0 means no bound of its own.
	MaxFileBytes int64
	// MaxNodes bounds the YAML nodes of the file (every key, value, list
	// and list entry is one): the parsed tree costs about 350 bytes of
	// peak memory per node (measured) whatever the node holds, so the
	// default 4 M bounds parsing at about 1.4 GB; long lists of plain
	// numbers are not nodes (bulk.go: 8 bytes per entry). A
	// lower bound counted from the bytes refuses most files past it before
	// parsing; the exact count is checked after parsing, before any value
	// is converted. 0 means no bound of its own.
	MaxNodes int64
}

// DefaultLimits are what this project's reference machine (2 cores, 24 GB)
// loads in seconds; see Limits for the measured cost of each.
var DefaultLimits = Limits{MaxUnits: 10_000_000, MaxConnections: 100_000_000, MaxPairs: 2_000_000_000,
	MaxSpikeTimes: 10_000_000, MaxRingBytes: 1 << 30, MaxFileBytes: 64 << 20, MaxNodes: 4_000_000}

func fileTooLarge(path string, size int64, lim Limits) error {
	return &FileError{File: path, Msg: fmt.Sprintf("is %d bytes, more than the limit of %d (Limits.MaxFileBytes)", size, lim.MaxFileBytes)}
}

// readAtMost reads the file, but no more than max+1 bytes (max > 0): a
// file that grew after its size was checked, or a device, is cut there
// and Load then refuses it by size.
func readAtMost(path string, max int64) ([]byte, error) {
	if max <= 0 {
		return os.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}

// nodesAtLeast is a lower bound of the YAML nodes in data, counted from
// the bytes without parsing: each '[' or '{' opens a collection, each ','
// inside one separates entries, each block sequence entry ("- " first on
// its line) and each block mapping key (": " outside brackets) is a node.
// Comments and quoted strings are skipped. The count is rough where YAML
// is unusual (a "- " line inside a block scalar counts) but never far
// above the parsed count, and for the large files it exists for (long
// lists of numbers) it is within one per list of it.
func nodesAtLeast(data []byte) int64 {
	var n int64
	depth := 0
	lineStart := true // only spaces so far on this line
	var prev byte = '\n'
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			lineStart = true
			prev = c
			continue
		case c == ' ' || c == '\t' || c == '\r':
			prev = c
			continue
		case c == '#' && (prev == ' ' || prev == '\t' || prev == '\n' || prev == '\r'):
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
			continue
		case (c == '"' || c == '\'') && (lineStart || prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' || prev == ':'):
			// A quoted scalar: skip to its closing quote ("" escapes with
			// a backslash, '' by doubling, which reads as close and open).
			for i++; i < len(data); i++ {
				if data[i] == '\\' && c == '"' {
					i++
				} else if data[i] == c {
					break
				}
			}
		case c == '[' || c == '{':
			depth++
			n++
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth > 0:
			n++
		case c == '-' && lineStart && depth == 0 && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' || data[i+1] == '\r'):
			n++
			prev = ' ' // "- [" and "- 'x'" open a value
			lineStart = false
			continue
		case c == ':' && depth == 0 && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' || data[i+1] == '\r'):
			n++
		}
		lineStart = false
		prev = c
	}
	return n
}

// countNodes counts the nodes of the tree under n, stopping once the count
// passes max (so a refused tree is walked no further than needed).
func countNodes(n *yaml.Node, max int64) int64 {
	count := int64(0)
	stack := []*yaml.Node{n}
	for len(stack) > 0 && count <= max {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		stack = append(stack, x.Content...)
	}
	return count
}
