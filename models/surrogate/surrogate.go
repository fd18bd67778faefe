// Package surrogate holds the surrogate gradient functions of the stepwise
// (SNN) neurons: docs/models/stepwise.md section 13.
//
// A spiking neuron fires with a step function, S = Θ(x) where x is the
// membrane minus the threshold. Θ has derivative zero almost everywhere, so
// a network trained by gradient descent uses a surrogate: the forward stays
// the exact step, and the backward replaces dS/dx by the derivative g'(x) of
// a smooth step g. Each Func here is one such g' with its parameters.
//
// The forward of every Func is Θ (Forward). Grad is g', the only thing a
// backward pass uses. Smooth is g itself: it is never part of a neuron's
// forward and exists so that a test can check a backward pass against
// finite differences of a network whose step was replaced by g, for which
// the surrogate gradient is the exact gradient.
//
// These functions are what neurai's neurons name in surrogate_grad_fn; a
// network file names them the same way (New accepts neurai's names and the
// usual aliases). Package models/snn uses them in its Backward.
package surrogate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind identifies one surrogate function.
type Kind int

// The surrogate functions of docs/models/stepwise.md section 13.
const (
	Sigmoid Kind = iota
	ATan
	PiecewiseQuadratic
	FastSigmoid
	Erf
	Rectangular
	MultiGaussian
)

// Func is one configured surrogate function. The zero value is not valid;
// build one with New or Default. Only the fields of its Kind are used.
type Func struct {
	Kind  Kind
	Alpha float64 // every kind but MultiGaussian

	// MultiGaussian (Yin et al. 2021): the central Gaussian's width, the
	// height of the two negative side lobes relative to it, the side lobes'
	// width as a multiple of Sigma, and an overall gain.
	Sigma, Height, Scale, Gamma float64
}

// ParamInfo describes one parameter of a surrogate function.
type ParamInfo struct {
	Name    string
	Default float64
	Doc     string
}

// Info describes one surrogate function for listings such as
// `spikeloop models`.
type Info struct {
	Kind    Kind
	Name    string   // neurai's name, as New accepts it
	Aliases []string // other names New accepts (case-insensitive)
	Params  []ParamInfo
	Grad    string // g'(x) as text
}

// infos is the table every lookup reads. It is never written after init.
var infos = []Info{
	{Kind: Sigmoid, Name: "Sigmoid", Aliases: []string{"sigmoid"},
		Params: []ParamInfo{{"alpha", 4.0, "steepness"}},
		Grad:   "alpha*s*(1-s), s = 1/(1+exp(-alpha*x))"},
	{Kind: ATan, Name: "ATan", Aliases: []string{"Arctan", "atan"},
		Params: []ParamInfo{{"alpha", 2.0, "steepness"}},
		Grad:   "(alpha/2) / (1 + (pi*alpha*x/2)^2)"},
	{Kind: PiecewiseQuadratic, Name: "PiecewiseQuadratic", Aliases: []string{"triangle", "Triangle", "piecewise_quadratic"},
		Params: []ParamInfo{{"alpha", 1.0, "height; the support is |x| <= 1/alpha"}},
		Grad:   "alpha - alpha^2*|x| if |x| <= 1/alpha, else 0"},
	{Kind: FastSigmoid, Name: "FastSigmoid", Aliases: []string{"SuperSpike", "fast_sigmoid"},
		Params: []ParamInfo{{"alpha", 25.0, "slope"}},
		Grad:   "1 / (1 + alpha*|x|)^2"},
	{Kind: Erf, Name: "Erf", Aliases: []string{"erf"},
		Params: []ParamInfo{{"alpha", 2.0, "steepness"}},
		Grad:   "(alpha/sqrt(pi)) * exp(-(alpha*x)^2)"},
	{Kind: Rectangular, Name: "Rectangular", Aliases: []string{"rect", "Rect", "rectangular"},
		Params: []ParamInfo{{"alpha", 1.0, "height; the window is |x| < 0.5/alpha"}},
		Grad:   "alpha if |x| < 0.5/alpha (strict), else 0"},
	{Kind: MultiGaussian, Name: "MultiGaussian", Aliases: []string{"multi_gaussian", "multigaussian"},
		Params: []ParamInfo{
			{"sigma", 0.5, "width of the central Gaussian"},
			{"height", 0.15, "weight of the two negative side lobes"},
			{"scale", 6.0, "width of the side lobes, in units of sigma"},
			{"gamma", 0.5, "overall gain"},
		},
		Grad: "gamma*[(1+height)*N(x;0,sigma) - height*N(x;sigma,scale*sigma) - height*N(x;-sigma,scale*sigma)]"},
}

// Infos lists every surrogate function with its parameters and defaults.
func Infos() []Info {
	out := make([]Info, len(infos))
	copy(out, infos)
	return out
}

// Names lists neurai's names of the surrogate functions, sorted.
func Names() []string {
	names := make([]string, len(infos))
	for i, in := range infos {
		names[i] = in.Name
	}
	sort.Strings(names)
	return names
}

// String returns neurai's name of the function kind.
func (k Kind) String() string {
	if int(k) >= 0 && int(k) < len(infos) {
		return infos[k].Name
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Lookup finds a kind by its seed name or an alias, ignoring case and a
// trailing "()" (the seed writes `Sigmoid()`).
func Lookup(name string) (Kind, bool) {
	n := strings.TrimSuffix(strings.TrimSpace(name), "()")
	for _, in := range infos {
		if strings.EqualFold(n, in.Name) {
			return in.Kind, true
		}
		for _, a := range in.Aliases {
			if strings.EqualFold(n, a) {
				return in.Kind, true
			}
		}
	}
	return 0, false
}

// Default returns the function of a kind with the defaults of docs/models/stepwise.md.
func Default(k Kind) Func {
	f := Func{Kind: k}
	for _, p := range infos[k].Params {
		f.set(p.Name, p.Default)
	}
	return f
}

func (f *Func) set(name string, v float64) {
	switch name {
	case "alpha":
		f.Alpha = v
	case "sigma":
		f.Sigma = v
	case "height":
		f.Height = v
	case "scale":
		f.Scale = v
	case "gamma":
		f.Gamma = v
	}
}

func (f Func) get(name string) float64 {
	switch name {
	case "alpha":
		return f.Alpha
	case "sigma":
		return f.Sigma
	case "height":
		return f.Height
	case "scale":
		return f.Scale
	case "gamma":
		return f.Gamma
	}
	return math.NaN()
}

// ParamError names the parameter of a surrogate function that New or
// Validate rejected.
type ParamError struct {
	Func  string // seed name of the function, or the name that was given
	Param string
	Msg   string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("surrogate %s: %s: %s", e.Func, e.Param, e.Msg)
}

// New builds a surrogate function from its name and parameters (nil or
// missing entries take the defaults). Parameter values may be any Go
// number type. An unknown name or parameter, or a parameter that is not a
// number > 0, is an error naming it.
func New(name string, params map[string]any) (Func, error) {
	k, ok := Lookup(name)
	if !ok {
		return Func{}, &ParamError{Func: name, Param: "name",
			Msg: fmt.Sprintf("unknown surrogate function %q (known: %s)", name, strings.Join(Names(), ", "))}
	}
	f := Default(k)
	keys := make([]string, 0, len(params))
	for key := range params {
		keys = append(keys, key)
	}
	sort.Strings(keys) // report the first bad parameter deterministically
	for _, key := range keys {
		raw := params[key]
		if key == "name" || raw == nil {
			continue
		}
		if !f.hasParam(key) {
			return Func{}, &ParamError{Func: k.String(), Param: key,
				Msg: fmt.Sprintf("unknown parameter (known: %s)", strings.Join(f.paramNames(), ", "))}
		}
		v, ok := toFloat(raw)
		if !ok {
			return Func{}, &ParamError{Func: k.String(), Param: key, Msg: fmt.Sprintf("must be a number, got %T %v", raw, raw)}
		}
		f.set(key, v)
	}
	if err := f.Validate(); err != nil {
		return Func{}, err
	}
	return f, nil
}

// Parse reads a surrogate function written as neurai's Python prints or
// writes it: a name ("Sigmoid"), a call ("Sigmoid()", "Sigmoid(alpha=4)",
// "Sigmoid(4)" for the first parameter), optionally qualified by its
// module ("surrogate.Sigmoid(alpha=4.0)", "neurai.nn.surrogate.ATan()").
// It is the inverse of Func.String.
func Parse(text string) (Func, error) {
	s := strings.TrimSpace(text)
	name, args, call := strings.Cut(s, "(")
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:] // the module path: surrogate.Sigmoid
	}
	params := map[string]any{}
	if call {
		inner, ok := strings.CutSuffix(strings.TrimSpace(args), ")")
		if !ok {
			return Func{}, &ParamError{Func: name, Param: "name", Msg: fmt.Sprintf("%q: missing the closing parenthesis", text)}
		}
		k, known := Lookup(name)
		for i, arg := range strings.Split(inner, ",") {
			arg = strings.TrimSpace(arg)
			if arg == "" {
				continue
			}
			key, val, named := strings.Cut(arg, "=")
			if !named {
				// A positional argument: the function's parameters in order.
				if !known || i >= len(infos[k].Params) {
					return Func{}, &ParamError{Func: name, Param: "name", Msg: fmt.Sprintf("%q: write arguments as name=value", text)}
				}
				key, val = infos[k].Params[i].Name, arg
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				return Func{}, &ParamError{Func: name, Param: strings.TrimSpace(key), Msg: fmt.Sprintf("must be a number, got %q", strings.TrimSpace(val))}
			}
			params[strings.TrimSpace(key)] = v
		}
	}
	return New(name, params)
}

func (f Func) hasParam(name string) bool {
	for _, p := range infos[f.Kind].Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (f Func) paramNames() []string {
	var names []string
	for _, p := range infos[f.Kind].Params {
		names = append(names, p.Name)
	}
	return names
}

// Params returns the function's parameters by name, for display and for
// writing it back to a network file.
func (f Func) Params() map[string]float64 {
	out := map[string]float64{}
	for _, p := range infos[f.Kind].Params {
		out[p.Name] = f.get(p.Name)
	}
	return out
}

// Validate checks that every parameter is finite and > 0 (docs/models/stepwise.md).
func (f Func) Validate() error {
	if f.Kind < Sigmoid || f.Kind > MultiGaussian {
		return &ParamError{Func: f.Kind.String(), Param: "kind", Msg: "unknown kind"}
	}
	for _, p := range infos[f.Kind].Params {
		v := f.get(p.Name)
		if !(v > 0) || math.IsInf(v, 0) {
			return &ParamError{Func: f.Kind.String(), Param: p.Name, Msg: fmt.Sprintf("must be > 0, got %g", v)}
		}
	}
	return nil
}

// String writes the function as the seed would, e.g. "Sigmoid(alpha=4)".
func (f Func) String() string {
	var parts []string
	for _, p := range infos[f.Kind].Params {
		parts = append(parts, fmt.Sprintf("%s=%g", p.Name, f.get(p.Name)))
	}
	return f.Kind.String() + "(" + strings.Join(parts, ", ") + ")"
}

// Forward is the Heaviside step every surrogate function shares: 1 at and
// above 0, so that a membrane exactly at threshold fires.
func Forward(x float32) float32 {
	if x >= 0 {
		return 1
	}
	return 0
}

// Forward is the package-level Forward; it is here so that a Func reads as
// the pair (forward, backward) the seed documents.
func (f Func) Forward(x float32) float32 { return Forward(x) }

// Grad is the surrogate derivative g'(x) that a backward pass uses in
// place of dΘ/dx.
func (f Func) Grad(x float64) float64 {
	switch f.Kind {
	case Sigmoid:
		s := 1 / (1 + math.Exp(-f.Alpha*x))
		return f.Alpha * s * (1 - s)
	case ATan:
		u := math.Pi * f.Alpha * x / 2
		return (f.Alpha / 2) / (1 + u*u)
	case PiecewiseQuadratic:
		if math.Abs(x) > 1/f.Alpha {
			return 0
		}
		return f.Alpha - f.Alpha*f.Alpha*math.Abs(x)
	case FastSigmoid:
		d := 1 + f.Alpha*math.Abs(x)
		return 1 / (d * d)
	case Erf:
		u := f.Alpha * x
		return f.Alpha / math.Sqrt(math.Pi) * math.Exp(-u*u)
	case Rectangular:
		if math.Abs(x) < 0.5/f.Alpha {
			return f.Alpha
		}
		return 0
	case MultiGaussian:
		wide := f.Scale * f.Sigma
		return f.Gamma * ((1+f.Height)*gauss(x, 0, f.Sigma) -
			f.Height*gauss(x, f.Sigma, wide) - f.Height*gauss(x, -f.Sigma, wide))
	}
	return math.NaN()
}

// Smooth is the smooth step g whose derivative is Grad, with g(0) = 1/2.
// No neuron uses it in its forward (that is always Θ); it exists so that
// tests can compare a backward pass with finite differences.
// FastSigmoid's g runs from 1/2 - 1/alpha to 1/2 + 1/alpha rather than from
// 0 to 1; only its derivative matters.
func (f Func) Smooth(x float64) float64 {
	switch f.Kind {
	case Sigmoid:
		return 1 / (1 + math.Exp(-f.Alpha*x))
	case ATan:
		return 0.5 + math.Atan(math.Pi*f.Alpha*x/2)/math.Pi
	case PiecewiseQuadratic:
		w := 1 / f.Alpha
		switch {
		case x < -w:
			return 0
		case x > w:
			return 1
		}
		return -f.Alpha*f.Alpha*x*math.Abs(x)/2 + f.Alpha*x + 0.5
	case FastSigmoid:
		return 0.5 + x/(1+f.Alpha*math.Abs(x))
	case Erf:
		return 0.5 * (1 + math.Erf(f.Alpha*x))
	case Rectangular:
		return math.Min(1, math.Max(0, f.Alpha*x+0.5))
	case MultiGaussian:
		wide := f.Scale * f.Sigma
		return f.Gamma * ((1+f.Height)*normCDF(x, 0, f.Sigma) -
			f.Height*normCDF(x, f.Sigma, wide) - f.Height*normCDF(x, -f.Sigma, wide))
	}
	return math.NaN()
}

// gauss is the normal density N(x; m, s).
func gauss(x, m, s float64) float64 {
	d := (x - m) / s
	return math.Exp(-d*d/2) / (s * math.Sqrt(2*math.Pi))
}

// normCDF is the integral of gauss from -inf to x.
func normCDF(x, m, s float64) float64 {
	return 0.5 * (1 + math.Erf((x-m)/(s*math.Sqrt2)))
}

// toFloat accepts the number types a decoded network file or a Go caller
// may hold.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
