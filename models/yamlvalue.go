package models

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// FileError is a network file error: file, line, the field's path in the
// file (populations.cells.params.tau) and what was wrong or expected.
type FileError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FileError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", where, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", where, e.Field, e.Msg)
}

// yamlErrRE splits the YAML parser's "yaml: line 3: did not find ..." into
// the line and the message.
var yamlErrRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlErr turns a YAML syntax error into a FileError with the line the
// parser names (0 when it names none).
func (d *decoder) yamlErr(err error) error {
	msg := err.Error()
	line := 0
	if m := yamlErrRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &FileError{File: d.file, Line: line, Msg: "not valid YAML: " + msg}
}

// decoder walks yaml.Node trees and reports errors with file and line.
type decoder struct {
	file string
	data []byte                   // the file as given (bulk lists point into it)
	bulk map[*yaml.Node]*bulkList // long number lists converted before parsing (bulk.go)
}

func (d *decoder) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > 2*maxQuoted { // not one clipped already
			args[i] = clip(s)
		}
	}
	return &FileError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxQuoted bounds a value quoted in an error: a 50 MB string in the file
// is not repeated in the message.
const maxQuoted = 200

// clip shortens s to its first maxQuoted bytes and says how long it was.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return strconv.Quote(clip(n.Value))
		case "!!null":
			return "null" // also for an empty value ("key:" and nothing)
		}
		return clip(n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// mapping returns the key/value pairs of a mapping node in file order and
// rejects duplicate keys and keys outside allowed (when allowed != nil).
func (d *decoder) mapping(n *yaml.Node, field string, allowed []string) ([]*yaml.Node, []*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, d.errf(n, field, "must be a mapping, got %s", describe(n))
	}
	var keys, vals []*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, d.errf(k, field, "keys must be plain names, got %s", describe(k))
		}
		if seen[k.Value] {
			return nil, nil, d.errf(k, join(field, k.Value), "given twice")
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			return nil, nil, d.errf(k, join(field, k.Value), "unknown field%s; expected one of %s", DidYouMean(k.Value, allowed), strings.Join(allowed, ", "))
		}
		if v.Kind == yaml.AliasNode {
			return nil, nil, d.errf(v, join(field, k.Value), "YAML aliases are not supported in network files")
		}
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return keys, vals, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// number decodes a finite number; inf says whether +inf is allowed.
func (d *decoder) number(n *yaml.Node, field string, inf bool) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float" && !(inf && n.Tag == "!!str")) {
		return 0, d.errf(n, field, "must be a number, got %s", describe(n))
	}
	s := strings.ReplaceAll(n.Value, "_", "")
	if n.Tag == "!!str" {
		if strings.EqualFold(s, "inf") || strings.EqualFold(s, "+inf") {
			return math.Inf(1), nil
		}
		return 0, d.errf(n, field, "must be a number or inf, got %s", describe(n))
	}
	var x float64
	var err error
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		x = math.Inf(1)
	case "-.inf":
		x = math.Inf(-1)
	case ".nan":
		x = math.NaN()
	default:
		if n.Tag == "!!int" {
			var i int64
			if i, err = strconv.ParseInt(s, 0, 64); err == nil {
				x = float64(i)
			} else if errors.Is(err, strconv.ErrRange) {
				x, err = strconv.ParseFloat(s, 64) // 18446744073709551615: an int, but too large for int64
			}
		} else {
			x, err = strconv.ParseFloat(s, 64)
		}
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, d.errf(n, field, "must be a finite number, got %s (out of the range of a float64)", n.Value)
	}
	if err != nil {
		return 0, d.errf(n, field, "must be a number, got %q", n.Value)
	}
	if math.IsNaN(x) || math.IsInf(x, -1) || (math.IsInf(x, 1) && !inf) {
		return 0, d.errf(n, field, "must be a finite number, got %s", n.Value)
	}
	return x, nil
}

// integer decodes a whole number within [lo, hi].
func (d *decoder) integer(n *yaml.Node, field string, lo, hi int64) (int64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, d.errf(n, field, "must be an integer, got %s", describe(n))
	}
	x, err := d.number(n, field, false)
	if err != nil {
		return 0, err
	}
	if x != math.Trunc(x) {
		return 0, d.errf(n, field, "must be an integer, got %s", n.Value)
	}
	if x < float64(lo) || x > float64(hi) {
		return 0, d.errf(n, field, "must be an integer in [%d, %d], got %s", lo, hi, n.Value)
	}
	return int64(x), nil
}

func (d *decoder) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return "", d.errf(n, field, "must be a string, got %s", describe(n))
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch n.Value {
		case "true", "True", "TRUE":
			return true, nil
		case "false", "False", "FALSE":
			return false, nil
		}
	}
	// An explicit "!!bool yes" has the bool tag but no YAML 1.2 bool value.
	return false, d.errf(n, field, "must be true or false, got %s", describe(n))
}

func (d *decoder) numbers(n *yaml.Node, field string) ([]float64, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, field, "must be a list of numbers, got %s", describe(n))
	}
	if l, ok := d.bulk[n]; ok {
		return l.nums, nil
	}
	out := make([]float64, len(n.Content))
	for i, c := range n.Content {
		x, err := d.number(c, fmt.Sprintf("%s[%d]", field, i), false)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// listOrRows decodes a list of numbers or a list of lists of numbers.
func (d *decoder) listOrRows(n *yaml.Node, field string) (Value, error) {
	v := Value{Line: n.Line, IsList: true}
	if n.Kind != yaml.SequenceNode {
		return v, d.errf(n, field, "must be a list, got %s", describe(n))
	}
	if len(n.Content) > 0 && n.Content[0].Kind == yaml.SequenceNode {
		v.Is2D = true
		for i, c := range n.Content {
			row, err := d.numbers(c, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return v, err
			}
			v.Rows = append(v.Rows, row)
		}
		return v, nil
	}
	nums, err := d.numbers(n, field)
	v.Nums = nums
	return v, err
}

// param decodes one class parameter by its schema kind.
func (d *decoder) param(p Param, n *yaml.Node, field string) (Value, error) {
	v := Value{Line: n.Line}
	var err error
	switch p.Kind {
	case Number:
		v.Num, err = d.number(n, field, false)
	case NumberOrInf:
		v.Num, err = d.number(n, field, true)
	case NumberOrNull:
		if isNull(n) {
			v.Null = true
			return v, nil
		}
		v.Num, err = d.number(n, field, false)
	case Integer:
		var i int64
		i, err = d.integer(n, field, math.MinInt32, math.MaxInt32)
		v.Num = float64(i)
	case PerNeuron, NumberList:
		if n.Kind == yaml.MappingNode && p.Kind == PerNeuron {
			// neurai takes an initialiser object for some of these
			// (BernoulliGenerator's prob); a file lists the values.
			err = d.errf(n, field, "got a mapping; neurai takes an initialiser here, a network file takes a number for every unit or a list of one number per unit (draw the values, e.g. with numpy, and list them)")
			break
		}
		if n.Kind == yaml.SequenceNode {
			v.IsList = true
			v.Nums, err = d.numbers(n, field)
			if err == nil && p.Kind == NumberList && len(v.Nums) == 0 {
				err = d.errf(n, field, "must be a list of at least one number, got []")
			}
		} else {
			v.Num, err = d.number(n, field, false)
		}
	case Bool:
		v.Bool, err = d.boolean(n, field)
	case Enum:
		v.Str, err = d.str(n, field)
		if err == nil {
			choice, ok := enumChoice(p.Choices, v.Str)
			if !ok {
				err = d.errf(n, field, "must be one of %s, got %q", strings.Join(p.Choices, ", "), v.Str)
			}
			v.Str = choice
		}
	case Text, Path:
		if isNull(n) {
			v.Null = true
			return v, nil
		}
		v.Str, err = d.str(n, field)
	case NumberArray:
		if isNull(n) {
			v.Null = true
			return v, nil
		}
		v, err = d.listOrRows(n, field)
	case TimeList:
		if n.Kind == yaml.SequenceNode {
			v, err = d.listOrRows(n, field)
		} else {
			v.Num, err = d.number(n, field, false)
		}
	case Any:
		d.expandAll(n)
		if err = n.Decode(&v.Raw); err != nil {
			err = d.errf(n, field, "%v", err)
		}
	default:
		err = d.errf(n, field, "parameter kind %v not decodable", p.Kind)
	}
	v.Line = n.Line
	return v, err
}

// enumChoice finds s among choices as neurai's users write an enum
// value: exactly, in any case, or qualified by the enum's class
// (SolverMethodODE.RKF45, SolverMethod.EXP_EULER, InputsType.current).
func enumChoice(choices []string, s string) (string, bool) {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	for _, c := range choices {
		if strings.EqualFold(c, s) {
			return c, true
		}
	}
	return s, false
}
