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

// referenceDir is the folder of docs/models/stepwise.md's golden vectors:
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

// TestReference walks the reference folder: one subtest per file, named
// by its case. Model cases run the class; surrogate cases check the
// surrogate function a neuron would use; invalid_params must all be
// rejected. A model this package does not know fails, so that a new
// reference file is never skipped silently.
func TestReference(t *testing.T) {
	dir := referenceDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c refCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		if c.Case == "" {
			t.Fatalf("%s has no case name", filepath.Base(file))
		}
		switch _, isClass := Class(c.Model); {
		case c.Case == "invalid_params":
			counts["invalid"]++
			t.Run(c.Case, func(t *testing.T) { runInvalid(t, raw) })
		case c.Model == "surrogate":
			counts["surrogate"]++
			t.Run(c.Case, func(t *testing.T) { runSurrogateFile(t, raw) })
		case isClass:
			counts["model"]++
			t.Run(c.Case, func(t *testing.T) { runReference(t, c) })
		default:
			t.Errorf("%s: unknown model %q: this package has no such class", filepath.Base(file), c.Model)
		}
	}
	// At the time of writing: 24 model cases, 7 surrogate files, 1 invalid
	// list. Fewer means the folder is not the reference folder.
	if counts["model"] < 24 || counts["surrogate"] < 7 || counts["invalid"] != 1 {
		t.Fatalf("ran %v from %s; want at least 24 model cases, 7 surrogate files and invalid_params", counts, dir)
	}
}

// runSurrogateFile checks one surrogate_<name>_default.json: the function
// a neuron gets from surrogate_grad_fn {name, params} must have the file's
// forward and derivative.
func runSurrogateFile(t *testing.T, raw []byte) {
	var c struct {
		Surrogate struct {
			Name    string             `json:"name"`
			Alpha   *float64           `json:"alpha"`
			Params  map[string]float64 `json:"params"`
			X       []float64          `json:"x"`
			Forward []float64          `json:"forward"`
			Grad    []float64          `json:"grad"`
		} `json:"surrogate"`
		Tolerance struct {
			Abs float64 `json:"abs"`
		} `json:"tolerance"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"name": c.Surrogate.Name}
	if c.Surrogate.Alpha != nil {
		spec["alpha"] = *c.Surrogate.Alpha
	}
	for k, v := range c.Surrogate.Params {
		spec[k] = v
	}
	l, err := New("SNNIF", 1, map[string]any{"surrogate_grad_fn": spec})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Surrogate.X) == 0 || len(c.Surrogate.Grad) != len(c.Surrogate.X) || len(c.Surrogate.Forward) != len(c.Surrogate.X) {
		t.Fatalf("bad file: %d x, %d grad, %d forward", len(c.Surrogate.X), len(c.Surrogate.Grad), len(c.Surrogate.Forward))
	}
	for i, x := range c.Surrogate.X {
		// The forward a neuron uses: fire at V_th + x from rest.
		if got := l.fire(float32(x)); float64(got) != c.Surrogate.Forward[i] {
			t.Errorf("forward(%g) = %g, want %g", x, got, c.Surrogate.Forward[i])
		}
		if got := l.gradAt(x); math.Abs(got-c.Surrogate.Grad[i]) > c.Tolerance.Abs {
			t.Errorf("grad(%g) = %.8g, want %.8g", x, got, c.Surrogate.Grad[i])
		}
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

// runInvalid builds every entry of invalid_params.json; each must fail
// with an error naming one of the parameters the entry gives.
func runInvalid(t *testing.T, raw []byte) {
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

// xAt is the argument of Θ at step t, element i: the compared value minus
// the threshold (SNNALIF: minus its adaptive threshold).
func (tr *trace) xAt(l *Layer, t, i int) float32 {
	k := t*tr.n + i
	if tr.theta != nil {
		return tr.h[k] - tr.theta[k]
	}
	return tr.h[k] - l.vth
}
