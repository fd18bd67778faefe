package npy

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// numpySaved is what numpy 1.26 writes for
// numpy.save(f, numpy.arange(6, dtype=numpy.float32).reshape(2, 3)):
// version 1.0, header length 118 so that the data starts at byte 128.
var numpySaved = []byte("\x93NUMPY\x01\x00\x76\x00" +
	"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" +
	strings.Repeat(" ", 58) + "\n" +
	"\x00\x00\x00\x00" + "\x00\x00\x80\x3f" + "\x00\x00\x00\x40" +
	"\x00\x00\x40\x40" + "\x00\x00\x80\x40" + "\x00\x00\xa0\x40")

func TestReadNumpyBytes(t *testing.T) {
	if len(numpySaved) != 128+24 {
		t.Fatalf("test table is %d bytes, want 152", len(numpySaved))
	}
	a, err := Read(bytes.NewReader(numpySaved))
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.Matrix(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range w {
		if v != float32(i) {
			t.Errorf("element %d = %g, want %d", i, v, i)
		}
	}
	if a.DType != "<f4" {
		t.Errorf("dtype %q", a.DType)
	}
	// Our writer must produce exactly numpy's bytes.
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), numpySaved) {
		t.Errorf("Write output differs from numpy's:\n got %q\nwant %q", buf.Bytes(), numpySaved)
	}
}

func TestRoundTrip(t *testing.T) {
	f32 := []float32{1.5, -2.25, float32(math.Pi), 0, float32(math.Inf(1)), -0, 1e-40, 3}
	f64 := []float64{1.5, -2.25, math.Pi, 0, math.MaxFloat64, -1e-300}
	cases := []struct {
		name  string
		shape []int
		write func(*bytes.Buffer) error
		want  []float64
	}{
		{"f4 2-D", []int{2, 4}, func(b *bytes.Buffer) error { return Write(b, []int{2, 4}, f32) }, widen(f32)},
		{"f4 1-D", []int{8}, func(b *bytes.Buffer) error { return Write(b, []int{8}, f32) }, widen(f32)},
		{"f8 2-D", []int{3, 2}, func(b *bytes.Buffer) error { return Write64(b, []int{3, 2}, f64) }, f64},
		{"f8 0-d", []int{}, func(b *bytes.Buffer) error { return Write64(b, []int{}, f64[2:3]) }, f64[2:3]},
		{"f4 empty", []int{0, 5}, func(b *bytes.Buffer) error { return Write(b, []int{0, 5}, nil) }, nil},
		{"f4 version 2.0", []int{2, 4}, func(b *bytes.Buffer) error {
			return write(b, []int{2, 4}, "<f4", mustPayload(f32), 2)
		}, widen(f32)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.write(&buf); err != nil {
				t.Fatal(err)
			}
			if hdr := buf.Len() - 4*len(c.want); c.name != "f8 2-D" && c.name != "f8 0-d" && hdr%64 != 0 {
				t.Errorf("data starts at byte %d, not 64-aligned", hdr)
			}
			a, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(a.Shape, c.shape) {
				t.Errorf("shape %v, want %v", a.Shape, c.shape)
			}
			if len(a.Data) != len(c.want) {
				t.Fatalf("%d elements, want %d", len(a.Data), len(c.want))
			}
			for i := range c.want {
				if math.Float64bits(a.Data[i]) != math.Float64bits(c.want[i]) {
					t.Errorf("element %d = %g, want %g", i, a.Data[i], c.want[i])
				}
			}
			if buf.Len() != 0 {
				t.Errorf("Read left %d bytes unread", buf.Len())
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	good := func(dict string) []byte {
		return append(headerBytes(1, dict), make([]byte, 24)...)
	}
	cases := []struct {
		name string
		file []byte
		want error
		text string
	}{
		{"bad magic", append([]byte("\x93NUMPX\x01\x00"), numpySaved[8:]...), ErrFormat, "magic"},
		{"empty", nil, ErrFormat, "preamble"},
		{"version 4", append([]byte("\x93NUMPY\x04\x00"), numpySaved[8:]...), ErrUnsupported, "version 4.0"},
		{"int32", good("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"), ErrUnsupported, "'<f4'"},
		{"big endian", good("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"), ErrUnsupported, "big-endian"},
		{"fortran", good("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), ErrUnsupported, "Fortran"},
		{"no shape", good("{'descr': '<f4', 'fortran_order': False, }"), ErrFormat, "shape"},
		{"extra key", good("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 'y'}"), ErrFormat, "keys"},
		{"not a tuple", good("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }"), ErrFormat, "tuple"},
		{"negative dim", good("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"), ErrFormat, "dimension"},
		{"garbage after dict", good("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x"), ErrFormat, "after the dict"},
		{"truncated data", numpySaved[:len(numpySaved)-3], ErrTruncated, "needs 24 bytes"},
		{"truncated header", numpySaved[:60], ErrTruncated, "header"},
		{"truncated length", numpySaved[:9], ErrTruncated, "header length"},
		{"header length 2^32-1", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), ErrFormat, "4294967295"},
		{"header length 2^31", []byte("\x93NUMPY\x03\x00\x00\x00\x00\x80"), ErrFormat, "2147483648"},
		{"huge shape", good("{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 2000000000), }"), ErrUnsupported, "too many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.file))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q does not mention %q", err, c.text)
			}
		})
	}
}

func TestReadMatrixFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.npy")
	w := []float32{1, 2, 3, 4, 5, 6}
	if err := WriteFile(path, []int{3, 2}, w); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMatrix(path, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		if got[i] != w[i] {
			t.Errorf("element %d = %g, want %g", i, got[i], w[i])
		}
	}
	if _, err := ReadMatrix(path, 2, 3); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "must be (2, 3), got (3, 2)") {
		t.Errorf("transposed shape: got %v, want ErrShape naming both shapes", err)
	}
	// A 1-D array of the right size is still the wrong shape.
	path1 := filepath.Join(dir, "v.npy")
	if err := WriteFile(path1, []int{6}, w); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMatrix(path1, 1, 6); !errors.Is(err, ErrShape) {
		t.Errorf("1-D array as 1 x 6: got %v, want ErrShape", err)
	}
	// numpy.save writes nothing after the data; extra bytes are suspicious.
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(raw, 0, 0, 0, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMatrix(path, 3, 2); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "4 bytes after") {
		t.Errorf("trailing bytes: got %v", err)
	}
	// float64 weights are read and rounded once to float32.
	path64 := filepath.Join(dir, "w64.npy")
	var buf bytes.Buffer
	if err := Write64(&buf, []int{1, 2}, []float64{0.1, -1e-3}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path64, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMatrix(path64, 1, 2); err != nil || got[0] != float32(0.1) || got[1] != float32(-1e-3) {
		t.Errorf("float64 matrix: got %v, %v", got, err)
	}
	if _, err := ReadMatrix(filepath.Join(dir, "missing.npy"), 3, 2); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestHeaderVariants(t *testing.T) {
	// Headers older numpy versions and other writers produce.
	for _, dict := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
		"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3,)}",
		"{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f4'}",
	} {
		file := append(headerBytes(1, dict), make([]byte, 24)...)
		a, err := Read(bytes.NewReader(file))
		if err != nil {
			t.Errorf("%s: %v", dict, err)
			continue
		}
		if !equalInts(a.Shape, []int{2, 3}) {
			t.Errorf("%s: shape %v", dict, a.Shape)
		}
	}
}

func TestWriteRejectsMismatch(t *testing.T) {
	if err := Write(&bytes.Buffer{}, []int{2, 3}, make([]float32, 5)); err == nil {
		t.Error("Write accepted 5 elements for shape (2, 3)")
	}
}

// headerBytes builds a preamble and header around a dict literal the way
// numpy pads it (to 64 bytes).
func headerBytes(major byte, dict string) []byte {
	var buf bytes.Buffer
	lenBytes := 2
	if major >= 2 {
		lenBytes = 4
	}
	total := 8 + lenBytes + len(dict) + 1
	pad := (64 - total%64) % 64
	hlen := len(dict) + pad + 1
	buf.WriteString(magic)
	buf.WriteByte(major)
	buf.WriteByte(0)
	buf.WriteByte(byte(hlen))
	buf.WriteByte(byte(hlen >> 8))
	if lenBytes == 4 {
		buf.Write([]byte{0, 0})
	}
	buf.WriteString(dict)
	buf.WriteString(strings.Repeat(" ", pad))
	buf.WriteByte('\n')
	return buf.Bytes()
}

func mustPayload(v []float32) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, []int{len(v)}, v); err != nil {
		panic(err)
	}
	return buf.Bytes()[buf.Len()-4*len(v):]
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func equalInts(a, b []int) bool {
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
