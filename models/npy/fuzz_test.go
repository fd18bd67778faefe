package npy

import (
	"bytes"
	"math"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. Read must never panic or hang,
// and whatever it accepts must survive a write and a second read unchanged.
// Seeds are the valid and broken files of the unit tests; inputs that once
// failed live in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add(numpySaved)
	f.Add(numpySaved[:60])
	f.Add(append(headerBytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"), make([]byte, 8)...))
	f.Add(append(headerBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"), make([]byte, 4)...))
	f.Add(headerBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }"))
	f.Add(headerBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 99999999), }"))
	f.Add(headerBytes(3, "{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f4'}"))
	f.Add([]byte("\x93NUMPY\x01\x00\xff\xff{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v but %d elements", a.Shape, len(a.Data))
		}
		var buf bytes.Buffer
		if a.DType == "<f4" {
			err = Write(&buf, a.Shape, a.Float32())
		} else {
			err = Write64(&buf, a.Shape, a.Data)
		}
		if err != nil {
			t.Fatalf("writing back %v: %v", a.Shape, err)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if !equalInts(a.Shape, b.Shape) || len(a.Data) != len(b.Data) {
			t.Fatalf("round trip changed shape %v -> %v", a.Shape, b.Shape)
		}
		for i := range a.Data {
			if math.Float64bits(a.Data[i]) != math.Float64bits(b.Data[i]) {
				t.Fatalf("round trip changed element %d: %g -> %g", i, a.Data[i], b.Data[i])
			}
		}
	})
}
