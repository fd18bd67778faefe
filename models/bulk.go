package models

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Long lists of plain numbers (spike times, per-connection weights and
// delays) cost the YAML parser about 200 bytes and a few hundred
// nanoseconds per entry. Before parsing, every flow list of at least
// bulkMin plain decimal numbers ([1, 2.5, -3e2, ...]: no comments, no
// quotes, no other YAML inside) is converted here, at 8 bytes per entry,
// and replaced in the text by a placeholder scalar followed by the
// list's newlines, so that every line number stays what it was. After
// parsing, the placeholder nodes become sequence nodes with no Content
// whose numbers the decoder holds; d.numbers reads them, d.expand makes
// their Content for the few places that want nodes. A list that does not
// qualify is left to the parser, so a file means what it meant before:
// the numbers are converted exactly as decoder.number converts them.

const bulkMin = 1024

// bulkTag starts every placeholder; a file that contains it is parsed
// without the fast path.
const bulkTag = "__spikeloop_bulk_"

type bulkList struct {
	start, end int // the list's bytes in the original data, '[' .. ']'
	nums       []float64
}

// extractBulk returns data with its long number lists replaced, and the
// lists by placeholder; data itself when there are none.
func extractBulk(data []byte) ([]byte, map[string]*bulkList) {
	if bytes.Contains(data, []byte(bulkTag)) {
		return data, nil
	}
	var out []byte
	var lists map[string]*bulkList
	copied := 0
	depth := 0
	var prev byte = '\n' // last byte that is not a space or tab
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n' || data[i-1] == '\r'):
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
			continue
		case (c == '"' || c == '\'') && (prev == '\n' || prev == '[' || prev == '{' || prev == ',' || prev == ':' || prev == '-'):
			for i++; i < len(data); i++ {
				if data[i] == '\\' && c == '"' {
					i++
				} else if data[i] == c {
					break
				}
			}
		case c == '[' && (prev == ':' || prev == '-' || prev == '[' || prev == ','):
			if end, nums, ok := scanNumberList(data, i); ok && len(nums) >= bulkMin {
				if lists == nil {
					lists = map[string]*bulkList{}
					out = make([]byte, 0, len(data)/4)
				}
				key := fmt.Sprintf("%s%d__", bulkTag, len(lists))
				lists[key] = &bulkList{start: i, end: end, nums: nums}
				out = append(out, data[copied:i]...)
				out = append(out, key...)
				for _, b := range data[i : end+1] {
					if b == '\n' {
						out = append(out, '\n')
					}
				}
				copied = end + 1
				i = end
				c = ']'
			} else {
				depth++
			}
		case c == '{':
			depth++
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
		prev = c
	}
	if lists == nil {
		return data, nil
	}
	return append(out, data[copied:]...), lists
}

// scanNumberList reads the flow list that starts at data[i] == '[' when it
// holds only plain decimal numbers; end is the index of its ']'.
func scanNumberList(data []byte, i int) (end int, nums []float64, ok bool) {
	j := i + 1
	for {
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j < len(data) && data[j] == ']' && len(nums) == 0 {
			return j, nums, true
		}
		k := j
		for k < len(data) && isNumByte(data[k]) {
			k++
		}
		x, ok := plainNumber(data[j:k])
		if !ok {
			return 0, nil, false
		}
		nums = append(nums, x)
		for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
			k++
		}
		if k >= len(data) {
			return 0, nil, false
		}
		switch data[k] {
		case ']':
			return k, nums, true
		case ',':
			j = k + 1
			// A trailing comma ("[1, 2,]") is valid YAML.
			for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
				j++
			}
			if j < len(data) && data[j] == ']' {
				return j, nums, true
			}
		default:
			return 0, nil, false
		}
	}
}

func isNumByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}

// plainNumber converts a token of the form -?(0|[1-9][0-9]*)(\.[0-9]*)?
// ([eE][-+]?[0-9]+)? as decoder.number converts the YAML scalar: an
// integer through int64 (so "-0" is +0), else as a float64; a finite
// result only.
func plainNumber(t []byte) (float64, bool) {
	k := 0
	if k < len(t) && t[k] == '-' {
		k++
	}
	d := k
	for k < len(t) && t[k] >= '0' && t[k] <= '9' {
		k++
	}
	if k == d || (t[d] == '0' && k-d > 1) {
		return 0, false
	}
	isInt := true
	if k < len(t) && t[k] == '.' {
		isInt = false
		for k++; k < len(t) && t[k] >= '0' && t[k] <= '9'; k++ {
		}
	}
	if k < len(t) && (t[k] == 'e' || t[k] == 'E') {
		isInt = false
		k++
		if k < len(t) && (t[k] == '-' || t[k] == '+') {
			k++
		}
		e := k
		for k < len(t) && t[k] >= '0' && t[k] <= '9' {
			k++
		}
		if k == e {
			return 0, false
		}
	}
	if k != len(t) {
		return 0, false
	}
	s := string(t)
	if isInt {
		i, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return float64(i), true
		}
		if !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(x) {
		return 0, false
	}
	return x, true
}

// adoptBulk turns the placeholder scalars under n into sequence nodes of
// d's bulk lists; a placeholder anywhere it does not belong (a key) is
// left a string, which the decoder rejects as it would any string there.
func (d *decoder) adoptBulk(n *yaml.Node, lists map[string]*bulkList) {
	if len(lists) == 0 {
		return
	}
	d.bulk = map[*yaml.Node]*bulkList{}
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Kind == yaml.MappingNode {
			for i := 1; i < len(x.Content); i += 2 {
				stack = append(stack, x.Content[i])
			}
			continue
		}
		stack = append(stack, x.Content...)
		if x.Kind == yaml.ScalarNode && x.Tag == "!!str" && x.Style == 0 {
			if l, ok := lists[x.Value]; ok {
				x.Kind, x.Tag, x.Value = yaml.SequenceNode, "!!seq", ""
				x.Style = yaml.FlowStyle
				d.bulk[x] = l
			}
		}
	}
}

// seqLen is the number of entries of a sequence node.
func (d *decoder) seqLen(n *yaml.Node) int {
	if l, ok := d.bulk[n]; ok {
		return len(l.nums)
	}
	return len(n.Content)
}

// expand gives a bulk list node its Content, as the parser would have.
func (d *decoder) expand(n *yaml.Node) {
	l, ok := d.bulk[n]
	if !ok || n.Content != nil {
		return
	}
	line := n.Line
	j := l.start + 1
	for range l.nums {
		for j < l.end && !isNumByte(d.data[j]) {
			if d.data[j] == '\n' {
				line++
			}
			j++
		}
		k := j
		for k < l.end && isNumByte(d.data[k]) {
			k++
		}
		tok := string(d.data[j:k])
		tag := "!!int"
		if bytes.ContainsAny(d.data[j:k], ".eE") {
			tag = "!!float"
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: tok, Line: line})
		j = k
	}
	delete(d.bulk, n)
}

// expandAll expands every bulk list under n.
func (d *decoder) expandAll(n *yaml.Node) {
	if len(d.bulk) == 0 {
		return
	}
	d.expand(n)
	for _, c := range n.Content {
		d.expandAll(c)
	}
}

// elem is entry i of a sequence node for an error's line: the entry's
// node, or the list's for a bulk list (whose entries have no nodes).
func (d *decoder) elem(n *yaml.Node, i int) *yaml.Node {
	if i < len(n.Content) {
		return n.Content[i]
	}
	return n
}
