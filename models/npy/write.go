package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Write writes data, in C order with the given shape, as a float32 ('<f4')
// .npy file that numpy.load reads back unchanged.
//
// The writers are library API: the daemon and the CLI write no .npy;
// tests write their fixtures with them, and Go programs that prepare
// weight or input files may.
func Write(w io.Writer, shape []int, data []float32) error {
	if err := checkLen(shape, len(data)); err != nil {
		return err
	}
	payload := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(payload[4*i:], math.Float32bits(v))
	}
	return write(w, shape, "<f4", payload, 0)
}

// Write64 is Write for float64 ('<f8') data.
func Write64(w io.Writer, shape []int, data []float64) error {
	if err := checkLen(shape, len(data)); err != nil {
		return err
	}
	payload := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(payload[8*i:], math.Float64bits(v))
	}
	return write(w, shape, "<f8", payload, 0)
}

// WriteFile writes a float32 array to a new file at path.
func WriteFile(path string, shape []int, data []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, shape, data); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func checkLen(shape []int, n int) error {
	want := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		want *= d
	}
	if want != n {
		return fmt.Errorf("npy: shape %s holds %d elements, data has %d", shapeString(shape), want, n)
	}
	return nil
}

// write emits the preamble, the padded header and the payload. major 0
// picks the version numpy would: 1.0 unless the header needs more than
// 65535 bytes.
func write(w io.Writer, shape []int, descr string, payload []byte, major byte) error {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeString(shape))
	if len(shape) == 0 {
		dict = fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (), }", descr)
	}
	if major == 0 {
		major = 1
		if len(dict)+1+10 > math.MaxUint16 {
			major = 2
		}
	}
	lenBytes := 2
	if major >= 2 {
		lenBytes = 4
	}
	// numpy pads so that the data starts at a multiple of 64 bytes, which
	// lets a reader map it aligned; the header ends with '\n'.
	total := len(magic) + 2 + lenBytes + len(dict) + 1
	pad := (64 - total%64) % 64
	header := make([]byte, 0, total+pad)
	header = append(header, magic...)
	header = append(header, major, 0)
	hlen := len(dict) + pad + 1
	if lenBytes == 2 {
		header = binary.LittleEndian.AppendUint16(header, uint16(hlen))
	} else {
		header = binary.LittleEndian.AppendUint32(header, uint32(hlen))
	}
	header = append(header, dict...)
	for range pad {
		header = append(header, ' ')
	}
	header = append(header, '\n')
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("npy: writing header: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	return nil
}
