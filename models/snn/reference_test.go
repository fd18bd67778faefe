package snn

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceDir is the folder of SNN.md's golden vectors:
// $SPIKELOOP_REFERENCE/snn when set, else the project's copy.
func referenceDir() string {
	if d := os.Getenv("SPIKELOOP_REFERENCE"); d != "" {
		return filepath.Join(d, "snn")
	}
	return filepath.Join("..", "..", "testdata", "reference", "snn")
}

type refCase struct {
	Case      string               `json:"case"`
	Model     string               `json:"model"`
	Params    map[string]any       `json:"params"`
	StepMode  string               `json:"step_mode"`
	Input     [][]float64          `json:"input"`
	InitState map[string][]float64 `json:"init_state"`
	Expected  struct {
		Spikes [][]float64 `json:"spikes"`
		V      [][]float64 `json:"v"`
		Theta  [][]float64 `json:"theta"`
		B      [][]float64 `json:"b"`
	} `json:"expected"`
	Kernels *struct {
		Response   []float64 `json:"response"`
		Refractory []float64 `json:"refractory"`
	} `json:"kernels"`
	Surrogate *struct {
		Name   string   `json:"name"`
		Alpha  *float64 `json:"alpha"`
		X      []float64
		Grad   []float64
		Window *struct{ Lower, Upper float64 }
	} `json:"surrogate"`
	Tolerance struct {
		Abs float64 `json:"abs"`
	} `json:"tolerance"`
}

// TestReference runs every model case of the reference folder, one
// subtest per file named by its case. A model this package does not know
// fails, so that a new reference file is never skipped silently.
func TestReference(t *testing.T) {
	dir := referenceDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, file := range files {
		base := filepath.Base(file)
		if base == "invalid_params.json" || strings.HasPrefix(base, "surrogate_") {
			continue // TestInvalidParams here; the surrogate package runs surrogate_*.json
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c refCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		ran++
		t.Run(c.Case, func(t *testing.T) { runReference(t, c) })
	}
	// 23 model cases at the time of writing; fewer means the folder is wrong.
	if ran < 23 {
		t.Fatalf("ran %d model cases from %s, want at least 23", ran, dir)
	}
}

func runReference(t *testing.T, c refCase) {
	if _, ok := Class(c.Model); !ok {
		t.Fatalf("unknown model %q: this package has no such class", c.Model)
	}
	if c.Tolerance.Abs <= 0 || len(c.Input) == 0 {
		t.Fatalf("bad case: tolerance %g, %d input rows", c.Tolerance.Abs, len(c.Input))
	}
	tol := c.Tolerance.Abs
	size := len(c.Input[0])
	l, err := New(c.Model, size, c.Params)
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range c.InitState {
		if err := l.SetInitialState(name, f32s(vals)); err != nil {
			t.Fatal(err)
		}
	}
	x := rows32(c.Input)
	T := len(x)

	// Step by step (SINGLE), reading theta and b after every step.
	stepS, stepV := matrix(T, size), matrix(T, size)
	theta, b := matrix(T, size), matrix(T, size)
	l.Reset()
	for i := range x {
		if err := l.Step(x[i], stepS[i], stepV[i]); err != nil {
			t.Fatal(err)
		}
		if l.theta != nil {
			copy(theta[i], l.State("theta"))
			copy(b[i], l.State("b"))
		}
	}
	finalV := append([]float32(nil), l.State("v")...)

	// One MULTI call must give exactly the same, whatever the file's mode.
	multiS, multiV, err := l.Multi(x)
	if err != nil {
		t.Fatal(err)
	}
	if !l.RecordV() || multiV == nil {
		t.Fatal("the case records v but the layer has no record_v")
	}
	for i := range x {
		for j := range size {
			if multiS[i][j] != stepS[i][j] || multiV[i][j] != stepV[i][j] {
				t.Fatalf("t=%d f=%d: MULTI gives spike %g v %g, SINGLE gives %g %g", i, j, multiS[i][j], multiV[i][j], stepS[i][j], stepV[i][j])
			}
		}
	}
	for j, v := range l.State("v") {
		if v != finalV[j] {
			t.Fatalf("final state after MULTI differs from SINGLE at %d: %g vs %g", j, v, finalV[j])
		}
	}

	spikes, v := stepS, stepV
	if c.StepMode == "MULTI" {
		spikes, v = multiS, multiV
	} else if c.StepMode != "SINGLE" {
		t.Fatalf("unknown step_mode %q", c.StepMode)
	}
	compare(t, "spikes", spikes, c.Expected.Spikes, 0)
	compare(t, "v", v, c.Expected.V, tol)
	if c.Model == "SNNALIF" {
		if c.Expected.Theta == nil || c.Expected.B == nil {
			t.Fatal("SNNALIF case without theta or b")
		}
		compare(t, "theta", theta, c.Expected.Theta, tol)
		compare(t, "b", b, c.Expected.B, tol)
	}
	if c.Kernels != nil {
		resp, refr := l.Kernels()
		compare(t, "response kernel", [][]float32{resp}, [][]float64{c.Kernels.Response}, tol)
		compare(t, "refractory kernel", [][]float32{refr}, [][]float64{c.Kernels.Refractory}, tol)
	} else if c.Model == "SNNSRM" {
		t.Fatal("SNNSRM case without kernels")
	}
	checkSurrogate(t, c, l, x)
}

// checkSurrogate compares the layer's surrogate derivative with the file's
// at the file's x, and the layer's own pre-threshold values with that x.
func checkSurrogate(t *testing.T, c refCase, l *Layer, x [][]float32) {
	s := c.Surrogate
	if s == nil {
		t.Fatal("case has no surrogate section")
	}
	if got := l.Surrogate().Kind.String(); got != s.Name {
		t.Errorf("surrogate %s, want %s", got, s.Name)
	}
	if s.Alpha != nil && l.Surrogate().Alpha != *s.Alpha {
		t.Errorf("surrogate alpha %g, want %g", l.Surrogate().Alpha, *s.Alpha)
	}
	if len(s.X) != len(x)*l.Size() || len(s.Grad) != len(s.X) {
		t.Fatalf("surrogate section has %d x and %d grad, want %d", len(s.X), len(s.Grad), len(x)*l.Size())
	}
	if s.Window != nil {
		lo, hi := float64(l.bvth), 2*float64(l.vth)-float64(l.bvth)
		if math.Abs(lo-s.Window.Lower) > 1e-6 || math.Abs(hi-s.Window.Upper) > 1e-6 {
			t.Errorf("gradient window (%g, %g), want (%g, %g)", lo, hi, s.Window.Lower, s.Window.Upper)
		}
	}
	tr := l.forward(x)
	for k, want := range s.X {
		ti, i := k/l.Size(), k%l.Size()
		if got := tr.xAt(l, ti, i); math.Abs(float64(got)-want) > c.Tolerance.Abs {
			t.Errorf("x[t=%d][%d] = %.7g, want %.7g", ti, i, got, want)
		}
		if got := l.gradAt(want); math.Abs(got-s.Grad[k]) > c.Tolerance.Abs {
			t.Errorf("grad at x=%.6g is %.7g, want %.7g", want, got, s.Grad[k])
		}
	}
}

func compare(t *testing.T, what string, got [][]float32, want [][]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s row %d: %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j]) - want[i][j]); d > tol || math.IsNaN(d) {
				if bad++; bad <= 5 {
					t.Errorf("%s[%d][%d] = %.8g, want %.8g (diff %.2g > %.2g)", what, i, j, got[i][j], want[i][j], d, tol)
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d values differ in all", what, bad)
	}
}

// TestInvalidParams builds every neuron entry of invalid_params.json; each
// must fail with an error naming one of the parameters the entry gives.
func TestInvalidParams(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(referenceDir(), "invalid_params.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Invalid []struct {
			Model  string         `json:"model"`
			Params map[string]any `json:"params"`
			Why    string         `json:"why"`
		} `json:"invalid"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range file.Invalid {
		if c.Model == "surrogate" {
			// A surrogate is built on its own by models/surrogate; here it
			// must also be rejected inside a neuron, naming surrogate_grad_fn.
			_, err := New("SNNLIF", 3, map[string]any{"surrogate_grad_fn": c.Params})
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != "surrogate_grad_fn" || !strings.Contains(err.Error(), "alpha") {
				t.Errorf("surrogate %v (%s) inside SNNLIF: got %v", c.Params, c.Why, err)
			}
			continue
		}
		if _, ok := Class(c.Model); !ok {
			t.Errorf("unknown model %q in invalid_params.json", c.Model)
			continue
		}
		n++
		_, err := New(c.Model, 3, c.Params)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%s %v (%s): got %v, want a *ParamError", c.Model, c.Params, c.Why, err)
			continue
		}
		if _, given := c.Params[pe.Param]; !given || !strings.Contains(err.Error(), pe.Param) || !strings.HasPrefix(err.Error(), c.Model+": ") {
			t.Errorf("%s %v (%s): error %q does not name a given parameter", c.Model, c.Params, c.Why, err)
		}
	}
	if n < 20 {
		t.Errorf("checked %d neuron entries, want at least 20", n)
	}
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func rows32(v [][]float64) [][]float32 {
	out := make([][]float32, len(v))
	for i, r := range v {
		out[i] = f32s(r)
	}
	return out
}
