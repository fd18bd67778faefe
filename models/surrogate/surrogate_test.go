package surrogate

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceDir is the folder of the SNN reference vectors: docs/models/stepwise.md's
// golden files, taken from $SPIKELOOP_REFERENCE/snn when that is set.
func referenceDir() string {
	if d := os.Getenv("SPIKELOOP_REFERENCE"); d != "" {
		return filepath.Join(d, "snn")
	}
	return filepath.Join("..", "..", "testdata", "reference", "snn")
}

type surrogateCase struct {
	Case      string `json:"case"`
	Model     string `json:"model"`
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

func TestReferenceSurrogates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(referenceDir(), "surrogate_*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Fatalf("found %d surrogate reference files in %s, want 7 (one per function)", len(files), referenceDir())
	}
	seen := map[Kind]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c surrogateCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(c.Case, func(t *testing.T) {
			if c.Model != "surrogate" {
				t.Fatalf("model %q, want surrogate", c.Model)
			}
			params := map[string]any{}
			if c.Surrogate.Alpha != nil {
				params["alpha"] = *c.Surrogate.Alpha
			}
			for k, v := range c.Surrogate.Params {
				params[k] = v
			}
			f, err := New(c.Surrogate.Name, params)
			if err != nil {
				t.Fatal(err)
			}
			seen[f.Kind] = true
			// The files use the defaults; building by name alone must agree.
			if d, _ := New(c.Surrogate.Name, nil); d != f {
				t.Errorf("defaults %v differ from the file's parameters %v", d, f)
			}
			if len(c.Surrogate.X) == 0 || len(c.Surrogate.X) != len(c.Surrogate.Grad) || len(c.Surrogate.X) != len(c.Surrogate.Forward) {
				t.Fatalf("bad file: %d x, %d grad, %d forward", len(c.Surrogate.X), len(c.Surrogate.Grad), len(c.Surrogate.Forward))
			}
			for i, x := range c.Surrogate.X {
				if got := f.Forward(float32(x)); float64(got) != c.Surrogate.Forward[i] {
					t.Errorf("forward(%g) = %g, want %g", x, got, c.Surrogate.Forward[i])
				}
				if got := f.Grad(x); math.Abs(got-c.Surrogate.Grad[i]) > c.Tolerance.Abs {
					t.Errorf("grad(%g) = %.9g, want %.9g", x, got, c.Surrogate.Grad[i])
				}
			}
		})
	}
	if len(seen) != 7 {
		t.Errorf("reference files covered %d kinds, want 7", len(seen))
	}
}

// TestSmoothIsPrimitiveOfGrad checks that Smooth really is the function
// whose derivative Grad returns: the snn package's backward test depends on it.
func TestSmoothIsPrimitiveOfGrad(t *testing.T) {
	for _, in := range Infos() {
		f := Default(in.Kind)
		for x := -2.0; x <= 2.0; x += 0.0625 {
			x := x + 0.01 // stay off the kinks of PiecewiseQuadratic and Rectangular
			const h = 1e-6
			fd := (f.Smooth(x+h) - f.Smooth(x-h)) / (2 * h)
			if math.Abs(fd-f.Grad(x)) > 1e-5*(1+math.Abs(fd)) {
				t.Errorf("%s: d/dx Smooth(%g) = %.8g by finite differences, Grad = %.8g", in.Name, x, fd, f.Grad(x))
			}
		}
		if f.Kind != FastSigmoid && math.Abs(f.Smooth(0)-0.5) > 1e-12 && f.Kind != MultiGaussian {
			t.Errorf("%s: Smooth(0) = %g, want 0.5", in.Name, f.Smooth(0))
		}
	}
}

// TestValuesAtZero pins g'(0) at the defaults, as docs/models/stepwise.md states them.
func TestValuesAtZero(t *testing.T) {
	want := map[Kind]float64{
		Sigmoid: 1, ATan: 1, PiecewiseQuadratic: 1, FastSigmoid: 1, Rectangular: 1,
		Erf: 2 / math.Sqrt(math.Pi), MultiGaussian: 0.4391,
	}
	for k, w := range want {
		if got := Default(k).Grad(0); math.Abs(got-w) > 1e-4 {
			t.Errorf("%v: g'(0) = %.6g, want %.6g", k, got, w)
		}
	}
}

func TestRectangularEdgeIsStrict(t *testing.T) {
	f, err := New("Rectangular", map[string]any{"alpha": 2})
	if err != nil {
		t.Fatal(err)
	}
	if g := f.Grad(0.25); g != 0 {
		t.Errorf("grad at the window edge 0.5/alpha = %g, want 0", g)
	}
	if g := f.Grad(0.2499); g != 2 {
		t.Errorf("grad inside the window = %g, want alpha = 2", g)
	}
}

func TestInvalidFromReference(t *testing.T) {
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
		if c.Model != "surrogate" {
			continue // the snn package checks the neuron entries
		}
		n++
		name, _ := c.Params["name"].(string)
		_, err := New(name, c.Params)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%v (%s): got error %v, want a *ParamError", c.Params, c.Why, err)
			continue
		}
		if _, given := c.Params[pe.Param]; !given || !strings.Contains(err.Error(), pe.Param) {
			t.Errorf("%v (%s): error %q does not name a given parameter", c.Params, c.Why, err)
		}
	}
	if n == 0 {
		t.Fatal("invalid_params.json has no surrogate entries")
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		param  string
	}{
		{"Gaussian", nil, "name"},
		{"Sigmoid", map[string]any{"beta": 1.0}, "beta"},
		{"ATan", map[string]any{"alpha": "two"}, "alpha"},
		{"ATan", map[string]any{"alpha": math.Inf(1)}, "alpha"},
		{"ATan", map[string]any{"alpha": math.NaN()}, "alpha"},
		{"MultiGaussian", map[string]any{"sigma": -0.5}, "sigma"},
		{"MultiGaussian", map[string]any{"alpha": 1.0}, "alpha"},
	}
	for _, c := range cases {
		_, err := New(c.name, c.params)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("New(%q, %v) = %v, want an error naming %q", c.name, c.params, err, c.param)
		}
	}
}

func TestLookupAliases(t *testing.T) {
	for name, want := range map[string]Kind{
		"Sigmoid()": Sigmoid, "sigmoid": Sigmoid, "Arctan": ATan, "SuperSpike": FastSigmoid,
		"triangle": PiecewiseQuadratic, "MULTIGAUSSIAN": MultiGaussian, "rect": Rectangular,
	} {
		if k, ok := Lookup(name); !ok || k != want {
			t.Errorf("Lookup(%q) = %v, %v; want %v", name, k, ok, want)
		}
	}
	if f := Default(MultiGaussian); f.String() != "MultiGaussian(sigma=0.5, height=0.15, scale=6, gamma=0.5)" {
		t.Errorf("String() = %q", f.String())
	}
}

// TestParse: the spellings neurai's users write, and the listing's own
// form, give the same function; bad ones name the problem.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Func
	}{
		{"Sigmoid", Default(Sigmoid)},
		{"Sigmoid()", Default(Sigmoid)},
		{"Sigmoid(alpha=4)", Default(Sigmoid)},
		{"Sigmoid(alpha=3.5)", Func{Kind: Sigmoid, Alpha: 3.5}},
		{"surrogate.Sigmoid(alpha=3.5)", Func{Kind: Sigmoid, Alpha: 3.5}},
		{"neurai.nn.surrogate.ATan(2.5)", Func{Kind: ATan, Alpha: 2.5}},
		{" atan ( alpha = 1 ) ", Func{Kind: ATan, Alpha: 1}},
		{Default(MultiGaussian).String(), Default(MultiGaussian)},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, text string }{
		{"Gauss(alpha=1)", "unknown surrogate"},
		{"Sigmoid(beta=1)", "unknown parameter"},
		{"Sigmoid(alpha=x)", "must be a number"},
		{"Sigmoid(alpha=-1)", "> 0"},
		{"Sigmoid(alpha=1", "closing parenthesis"},
	} {
		if _, err := Parse(c.in); err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("Parse(%q): got %v, want an error mentioning %q", c.in, err, c.text)
		}
	}
}
