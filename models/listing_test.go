package models_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
	"github.com/spikeloop/spikeloop/models/snn"
	"github.com/spikeloop/spikeloop/models/surrogate"
)

// yamlDefault writes a listed default the way a user copying it from
// `spikeloop models` would.
func yamlDefault(t *testing.T, v any) string {
	switch d := v.(type) {
	case nil:
		return "null"
	case float64:
		if math.IsInf(d, 1) {
			return "inf"
		}
		return strconv.FormatFloat(d, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(d)
	case string:
		return d
	case []float64:
		s := make([]string, len(d))
		for i, x := range d {
			s[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return "[" + strings.Join(s, ", ") + "]"
	case []int:
		return fmt.Sprint(d)
	case snn.Normal:
		return fmt.Sprintf("{name: Normal, mean: %g, std: %g}", d.Mean, d.Std)
	case surrogate.Func:
		return strconv.Quote(d.String()) // Sigmoid(alpha=4), as listed
	}
	t.Fatalf("no YAML form for a default of type %T", v)
	return ""
}

// minimal are the parameters a class needs to load at all.
var minimal = map[string]string{"CustomGenerator": "data: [1.0]"}

func loadOne(class, params string) error {
	text := fmt.Sprintf("version: 1\npopulations:\n  x: {model: %s, size: 2, params: {%s}}\n", class, params)
	_, err := models.Load([]byte(text), "listing.yaml", models.NewRegistry(), models.DefaultLimits)
	return err
}

// TestListingLoaderAgree: every parameter `spikeloop models` lists loads
// when a file gives it its listed default, and the Python-only arguments
// the loader refuses are not listed.
func TestListingLoaderAgree(t *testing.T) {
	for _, c := range models.NewRegistry().Classes() {
		for _, p := range c.Params {
			params := minimal[c.Name]
			if strings.HasPrefix(params, p.Name+":") {
				continue // the minimal set gives it already
			}
			if params != "" {
				params += ", "
			}
			params += p.Name + ": " + yamlDefault(t, p.Default)
			if err := loadOne(c.Name, params); err != nil {
				t.Errorf("%s: the listed default %s: %s does not load: %v", c.Name, p.Name, yamlDefault(t, p.Default), err)
			}
		}
		for _, name := range models.PythonOnly {
			_, listed := c.Param(name)
			if name == "surrogate_grad_fn" && c.Stepwise {
				if !listed {
					t.Errorf("%s: surrogate_grad_fn is loaded but not listed", c.Name)
				}
				continue
			}
			if listed {
				t.Errorf("%s: lists %s, which the loader refuses", c.Name, name)
			}
			err := loadOne(c.Name, strings.TrimPrefix(minimal[c.Name]+", ", ", ")+name+": x")
			if err == nil || !strings.Contains(err.Error(), "Python-only") {
				t.Errorf("%s: %s: got %v, want an error saying it is Python-only", c.Name, name, err)
			}
		}
	}
}

// TestBeforeResetState: v_before_reset is the charged value that fired
// (>= V_th where a spike is), v the value after the reset; with
// before_reset_mem the recorded v is the charged value, as neurai's
// record_v returns it.
func TestBeforeResetState(t *testing.T) {
	for _, before := range []bool{false, true} {
		text := fmt.Sprintf("version: 1\npopulations:\n  x: {model: SNNIF, size: 1, params: {before_reset_mem: %v}}\n", before)
		net, err := models.Load([]byte(text), "b.yaml", models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		x := net.Population("x").Model.(*models.Stepwise)
		fired := 0
		for k := range 6 {
			spiked, err := x.Step([]float64{0.4}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			h, v := x.State(models.StateBeforeReset)[0], x.State("v")[0]
			charged := 0.4 * float64((k%3)+1) // IF: 0.4, 0.8, 1.2 then reset to 0
			if math.Abs(h-charged) > 1e-6 {
				t.Errorf("before_reset_mem %v, step %d: v_before_reset %g, want %g", before, k, h, charged)
			}
			want := charged
			if len(spiked) > 0 {
				fired++
				if !before {
					want = 0
				}
			}
			if math.Abs(v-want) > 1e-6 {
				t.Errorf("before_reset_mem %v, step %d: v %g, want %g", before, k, v, want)
			}
		}
		if fired != 2 {
			t.Errorf("before_reset_mem %v: %d spikes, want 2", before, fired)
		}
	}
}

// TestDidYouMean: the misspellings a neurai user makes get the right
// suggestion, and a name far from every known one gets none.
func TestDidYouMean(t *testing.T) {
	reg := models.NewRegistry()
	lif, _ := reg.Lookup("LIF")
	var lifParams []string
	for _, p := range lif.Params {
		lifParams = append(lifParams, p.Name)
	}
	for _, c := range []struct {
		name  string
		known []string
		want  string
	}{
		{"lif", reg.ClassNames(), "LIF"},
		{"Izhikevitch", reg.ClassNames(), "Izhikevich"},
		{"SNNParametricLIF", reg.ClassNames(), "SNNParamtricLIF"},
		{"V_thresh", lifParams, "V_th"},
		{"tua", lifParams, "tau"},
		{"v_rest", lifParams, "V_rest"},
		{"tau_refractory", lifParams, "tau_ref"},
		{"wibble", lifParams, ""},
	} {
		got := models.DidYouMean(c.name, c.known)
		want := ""
		if c.want != "" {
			want = fmt.Sprintf(" (did you mean %q?)", c.want)
		}
		if got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", c.name, got, want)
		}
	}
	// In a file: the message carries the suggestion.
	err := loadOne("lif", "")
	if err == nil || !strings.Contains(err.Error(), `did you mean "LIF"`) {
		t.Errorf("model lif: got %v", err)
	}
	err = loadOne("LIF", "V_thresh: -50.0")
	if err == nil || !strings.Contains(err.Error(), `did you mean "V_th"`) {
		t.Errorf("V_thresh: got %v", err)
	}
}

// TestSoftReset: V_reset: null subtracts the threshold's distance from
// rest, keeping the overshoot (LIF exact and by RK4, GLIF3), where the
// hard reset sets V_reset.
func TestSoftReset(t *testing.T) {
	for _, c := range []struct {
		class, params string
		jump, want    float64
	}{
		{"LIF", "V_reset: null, tau_ref: null", 20, -50 - 15},
		{"LIF", "V_reset: null, tau_ref: null, method: RK4", 20, -50 - 15},
		{"LIF", "tau_ref: null", 20, -70},
		{"GLIF3", "V_reset: null", 30, -48.85 - (-51.68 + 78.85)},
		{"GLIF3", "", 30, -78.85},
	} {
		text := fmt.Sprintf("version: 1\npopulations:\n  x: {model: %s, size: 1, params: {%s}}\n", c.class, c.params)
		net, err := models.Load([]byte(text), "s.yaml", models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			t.Fatalf("%s {%s}: %v", c.class, c.params, err)
		}
		x := net.Population("x").Model.(models.NeuronModel)
		spiked, err := x.Step(nil, [][]float64{{c.jump}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := x.State("V")[0]; len(spiked) != 1 || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s {%s}: spiked %v, V %.12g; want one spike and V %.12g", c.class, c.params, spiked, got, c.want)
		}
	}
}
