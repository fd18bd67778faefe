package models

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spikeloop/spikeloop/models/npy"
)

// InputArray is an InputTransmitter's input as read from a file: its
// shape and its values in C order. InputTransmitter.Trials splits it
// into trials of step rows. `spikeloop sim --input` and the daemon's
// file inputs read it with ReadInputFile, so that both take the same
// files.
type InputArray struct {
	Shape []int
	Data  []float64
}

// ReadInputFile reads an input file by its extension: a .csv is a
// (T, F) array (ParseInputCSV), a .npy any shape numpy.save writes.
func ReadInputFile(path string) (InputArray, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return InputArray{}, err
	}
	return ParseInputFile(path, data)
}

// ParseInputFile is ReadInputFile on the content of the file at path
// (the path gives the format and names the file in messages).
func ParseInputFile(path string, data []byte) (InputArray, error) {
	switch filepath.Ext(path) {
	case ".csv":
		rows, err := ParseInputCSV(path, bytes.NewReader(data))
		if err != nil {
			return InputArray{}, err
		}
		if len(rows) == 0 {
			return InputArray{}, fmt.Errorf("%s: must have one row per step, one column per unit, got no rows", path)
		}
		a := InputArray{Shape: []int{len(rows), len(rows[0])}, Data: make([]float64, 0, len(rows)*len(rows[0]))}
		for _, r := range rows {
			a.Data = append(a.Data, r...)
		}
		return a, nil
	case ".npy":
		br := bytes.NewReader(data)
		a, err := npy.Read(br)
		if err != nil {
			return InputArray{}, fmt.Errorf("%s: %w", path, err)
		}
		if br.Len() > 0 {
			return InputArray{}, fmt.Errorf("%s: %w: %d bytes after the array's data", path, npy.ErrFormat, br.Len())
		}
		return InputArray{Shape: a.Shape, Data: a.Data}, nil
	}
	return InputArray{}, fmt.Errorf("%s: extension: must be .csv or .npy (the input format), got %q", path, filepath.Ext(path))
}

// ParseInputCSV reads an input series from r (named path in messages):
// no header, one row per step, one column per unit, comma separated,
// every row as long as the first and every value finite.
func ParseInputCSV(path string, r io.Reader) ([][]float64, error) {
	var rows [][]float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			return nil, fmt.Errorf("%s:%d: empty line; every row is one step", path, line)
		}
		fields := strings.Split(text, ",")
		row := make([]float64, len(fields))
		for i, fl := range fields {
			x, err := strconv.ParseFloat(strings.TrimSpace(fl), 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %d: must be a number, got %q", path, line, i+1, fl)
			}
			if !finite(x) {
				return nil, fmt.Errorf("%s:%d: column %d: must be finite, got %q", path, line, i+1, fl)
			}
			row[i] = x
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, fmt.Errorf("%s:%d: %d columns, earlier rows have %d", path, line, len(row), len(rows[0]))
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// BatchLayout names how a rank-3 input array is read: "(T, B, F)", or
// "(B, T, F)" with batch_first.
func (t *InputTransmitter) BatchLayout() string {
	if t.batchFirst {
		return "(B, T, F) since batch_first is true"
	}
	return "(T, B, F) since batch_first is false"
}
