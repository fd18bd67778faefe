// Package npy reads and writes the arrays of trained weights that
// numpy.save writes: NumPy's .npy format, versions 1.0, 2.0 and 3.0, with
// little-endian float32 ('<f4') or float64 ('<f8') data in C order.
//
// That is what a network file's `weight: {npy: w.npy}` names: a pre x post
// matrix trained elsewhere (SpikingJelly, snnTorch, neurai).
// Anything else (big-endian or integer data, Fortran order, object arrays,
// a shape that does not match what the caller expects, a truncated file)
// is an error that says which, never a silent conversion.
//
// The format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//
//	"\x93NUMPY" major minor  header-length (uint16 LE in 1.0, uint32 LE in 2.0/3.0)
//	header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//	        padded with spaces and ending in '\n'
//	data:   the elements, row-major
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Errors a caller may want to tell apart; every error Read returns wraps
// one of them.
var (
	// ErrFormat: not an .npy file, or a header numpy would not write.
	ErrFormat = errors.New("npy: bad format")
	// ErrUnsupported: a valid .npy file this package does not read (dtype,
	// byte order, Fortran order).
	ErrUnsupported = errors.New("npy: unsupported array")
	// ErrTruncated: the file ends before the data the header announces.
	ErrTruncated = errors.New("npy: truncated data")
	// ErrShape: the array's shape is not the one the caller asked for.
	ErrShape = errors.New("npy: wrong shape")
)

const magic = "\x93NUMPY"

// maxHeader bounds the header length so that a corrupt length field cannot
// make Read allocate gigabytes; numpy itself refuses headers over 10 000
// bytes unless told otherwise.
const maxHeader = 1 << 20

// Array is one array read from an .npy file. Data holds every element in C
// order, converted exactly to float64 (a float32 file loses nothing).
type Array struct {
	Shape []int
	DType string // "<f4" or "<f8", as the file says
	Data  []float64
}

// Float32 returns the elements rounded to float32, in C order.
func (a *Array) Float32() []float32 {
	out := make([]float32, len(a.Data))
	for i, v := range a.Data {
		out[i] = float32(v)
	}
	return out
}

// Matrix checks that the array is 2-D with the given shape and returns its
// elements as row-major float32, the layout trained weights use (row =
// presynaptic unit). A 1-D array is not accepted as a 1 x n matrix: the
// shape in the file must say what it is.
func (a *Array) Matrix(rows, cols int) ([]float32, error) {
	if len(a.Shape) != 2 || a.Shape[0] != rows || a.Shape[1] != cols {
		return nil, fmt.Errorf("%w: must be (%d, %d), got %s", ErrShape, rows, cols, shapeString(a.Shape))
	}
	return a.Float32(), nil
}

// ReadFile reads one array from an .npy file. Bytes after the array are an
// error, because numpy.save writes none and they usually mean the file is
// not what it seems.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	a, err := Read(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if extra, _ := io.Copy(io.Discard, br); extra > 0 {
		return nil, fmt.Errorf("%s: %w: %d bytes after the array's data", path, ErrFormat, extra)
	}
	return a, nil
}

// ReadMatrix reads a rows x cols matrix (pre x post weights) from an .npy
// file and returns it row-major as float32.
func ReadMatrix(path string, rows, cols int) ([]float32, error) {
	a, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := a.Matrix(rows, cols)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Read reads one array from r and stops right after its data, so that
// several arrays saved one after another can be read in turn.
func Read(r io.Reader) (*Array, error) {
	hdr, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	size := 4
	if hdr.descr == "<f8" {
		size = 8
	}
	n := 1
	for _, d := range hdr.shape {
		if d != 0 && n > math.MaxInt32/d {
			return nil, fmt.Errorf("%w: shape %s has too many elements", ErrUnsupported, shapeString(hdr.shape))
		}
		n *= d
	}
	// Grow the buffer as the bytes arrive rather than allocating what the
	// header claims: a corrupt header must not cost memory it cannot back.
	var buf bytes.Buffer
	want := int64(n) * int64(size)
	got, err := io.CopyN(&buf, r, want)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("npy: reading data: %w", err)
	}
	if got < want {
		return nil, fmt.Errorf("%w: shape %s needs %d bytes of data, file has %d", ErrTruncated, shapeString(hdr.shape), want, got)
	}
	b := buf.Bytes()
	data := make([]float64, n)
	if size == 4 {
		for i := range data {
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
	} else {
		for i := range data {
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return &Array{Shape: hdr.shape, DType: hdr.descr, Data: data}, nil
}

type header struct {
	descr string
	shape []int
}

// readHeader reads the magic, version, and header dict, and checks that
// the array is one this package reads.
func readHeader(r io.Reader) (header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return header{}, fmt.Errorf("%w: file shorter than the 8-byte preamble", ErrFormat)
	}
	if string(pre[:6]) != magic {
		return header{}, fmt.Errorf("%w: magic: must be \"\\x93NUMPY\" (an .npy file), got %q", ErrFormat, pre[:6])
	}
	major, minor := pre[6], pre[7]
	// uint32, not int: a length of 2^31 or more converted to a 32-bit
	// int is negative, which passed the bound below and made make panic.
	var hlen uint32
	switch major {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return header{}, fmt.Errorf("%w: file ends in the header length", ErrTruncated)
		}
		hlen = uint32(binary.LittleEndian.Uint16(l[:]))
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return header{}, fmt.Errorf("%w: file ends in the header length", ErrTruncated)
		}
		hlen = binary.LittleEndian.Uint32(l[:])
	default:
		return header{}, fmt.Errorf("%w: format version %d.%d (1.0, 2.0 and 3.0 are known)", ErrUnsupported, major, minor)
	}
	if minor != 0 {
		return header{}, fmt.Errorf("%w: format version %d.%d (1.0, 2.0 and 3.0 are known)", ErrUnsupported, major, minor)
	}
	if hlen > maxHeader {
		return header{}, fmt.Errorf("%w: header length %d is implausible", ErrFormat, hlen)
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return header{}, fmt.Errorf("%w: file ends inside the %d-byte header", ErrTruncated, hlen)
	}
	return parseHeader(string(text))
}

// parseHeader reads numpy's header dict. It accepts the literal numpy
// writes and small variations (quotes, spacing, trailing commas) of it,
// and nothing that would need a Python interpreter.
func parseHeader(text string) (header, error) {
	p := &dictParser{s: strings.TrimRight(text, " \n\x00")}
	fields, err := p.dict()
	if err != nil {
		return header{}, fmt.Errorf("%w: header %q: %v", ErrFormat, text, err)
	}
	var h header
	descr, ok := fields["descr"].(string)
	if !ok {
		return header{}, fmt.Errorf("%w: header has no string 'descr'", ErrFormat)
	}
	fortran, ok := fields["fortran_order"].(bool)
	if !ok {
		return header{}, fmt.Errorf("%w: header has no bool 'fortran_order'", ErrFormat)
	}
	shape, ok := fields["shape"].([]int)
	if !ok {
		return header{}, fmt.Errorf("%w: header has no tuple 'shape'", ErrFormat)
	}
	if len(fields) != 3 {
		return header{}, fmt.Errorf("%w: header has keys other than descr, fortran_order and shape", ErrFormat)
	}
	switch descr {
	case "<f4", "<f8":
	case ">f4", ">f8":
		return header{}, fmt.Errorf("%w: big-endian dtype %q; save the array as little-endian ('<f4' or '<f8')", ErrUnsupported, descr)
	default:
		return header{}, fmt.Errorf("%w: dtype %q; only float32 '<f4' and float64 '<f8' are read (convert with arr.astype(numpy.float32))", ErrUnsupported, descr)
	}
	if fortran {
		return header{}, fmt.Errorf("%w: Fortran order; save numpy.ascontiguousarray(arr) instead", ErrUnsupported)
	}
	h.descr = descr
	h.shape = shape
	return h, nil
}

// dictParser reads the subset of Python literals an .npy header uses:
// {str: value, ...} with values str, True, False, or a tuple of ints.
type dictParser struct {
	s   string
	pos int
}

func (p *dictParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *dictParser) dict() (map[string]any, error) {
	if !p.eat('{') {
		return nil, errors.New("does not start with '{'")
	}
	out := map[string]any{}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("key at byte %d: %v", p.pos, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q twice", key)
		}
		if !p.eat(':') {
			return nil, fmt.Errorf("missing ':' after key %q", key)
		}
		val, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("value of %q: %v", key, err)
		}
		out[key] = val
		if p.eat(',') {
			continue
		}
		if !p.eat('}') {
			return nil, fmt.Errorf("expected ',' or '}' at byte %d", p.pos)
		}
		break
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected text after the dict at byte %d", p.pos)
	}
	return out, nil
}

func (p *dictParser) str() (string, error) {
	p.skipSpace()
	if p.pos >= len(p.s) || (p.s[p.pos] != '\'' && p.s[p.pos] != '"') {
		return "", errors.New("expected a quoted string")
	}
	q := p.s[p.pos]
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.pos+1 : p.pos+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", errors.New("escapes are not expected in a header string")
	}
	p.pos += end + 2
	return v, nil
}

func (p *dictParser) value() (any, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, errors.New("missing")
	}
	rest := p.s[p.pos:]
	switch {
	case rest[0] == '\'' || rest[0] == '"':
		return p.str()
	case strings.HasPrefix(rest, "True"):
		p.pos += 4
		return true, nil
	case strings.HasPrefix(rest, "False"):
		p.pos += 5
		return false, nil
	case rest[0] == '(':
		return p.tuple()
	}
	return nil, fmt.Errorf("unexpected %q", rest[:min(len(rest), 10)])
}

// tuple reads (), (n,) or (n, m, ...) of non-negative ints.
func (p *dictParser) tuple() ([]int, error) {
	p.eat('(')
	dims := []int{}
	for {
		if p.eat(')') {
			return dims, nil
		}
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		if start == p.pos {
			return nil, fmt.Errorf("expected a dimension at byte %d", p.pos)
		}
		d, err := strconv.Atoi(p.s[start:p.pos])
		if err != nil || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %q out of range", p.s[start:p.pos])
		}
		p.eat('L') // Python 2 wrote long ints as 3L
		dims = append(dims, d)
		if p.eat(',') {
			continue
		}
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ',' or ')' at byte %d", p.pos)
		}
		// (n) without a comma is an int in parentheses, not a tuple.
		if len(dims) == 1 && !strings.HasSuffix(strings.TrimRight(p.s[:p.pos-1], " "), ",") {
			return nil, errors.New("(n) is not a tuple; numpy writes (n,)")
		}
		return dims, nil
	}
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
