package snn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models/surrogate"
)

func TestClassesSchema(t *testing.T) {
	want := []string{"SNNALIF", "SNNEIF", "SNNIF", "SNNKLIF", "SNNLIF", "SNNParamtricLIF", "SNNQIF", "SNNSRM", "SparseLIF"}
	got := Classes()
	if len(got) != len(want) {
		t.Fatalf("%d classes, want %d", len(got), len(want))
	}
	for i, c := range got {
		if c.Name != want[i] {
			t.Errorf("class %d is %s, want %s", i, c.Name, want[i])
		}
	}
	// Defaults that differ between classes (docs/models/stepwise.md).
	defaults := []struct {
		class, param string
		want         any
	}{
		{"SNNIF", "V_reset", 0.0}, {"SNNIF", "reset_type", nil}, {"SNNIF", "step_mode", "MULTI"},
		{"SNNLIF", "tau", 10.0}, {"SNNLIF", "reset_type", "HARD"},
		{"SNNParamtricLIF", "init_tau", 10.0},
		{"SNNEIF", "V_reset", -0.1}, {"SNNEIF", "tau", 2.0}, {"SNNEIF", "v_T", 0.8},
		{"SNNQIF", "V_reset", 0.0}, {"SNNQIF", "v_c", 0.8},
		{"SNNKLIF", "step_mode", "SINGLE"}, {"SNNKLIF", "decay_input", true}, {"SNNKLIF", "k", 1.0},
		{"SNNALIF", "beta", 1.8}, {"SNNALIF", "v_th0", 0.01}, {"SNNALIF", "tau_m_initializer", Normal{20, 5}},
		{"SNNALIF", "tau_adp_initializer", Normal{150, 10}},
		{"SNNALIF", "surrogate_grad_fn", surrogate.Default(surrogate.MultiGaussian)},
		{"SparseLIF", "time_step", 0.001}, {"SparseLIF", "BV_th", 0.8}, {"SparseLIF", "tau_m", 0.01},
		{"SNNSRM", "V_th", 10.0}, {"SNNSRM", "kernel_window", 38.0},
		{"SNNSRM", "surrogate_grad_fn", surrogate.Default(surrogate.Rectangular)},
		{"SNNLIF", "surrogate_grad_fn", surrogate.Default(surrogate.Sigmoid)},
	}
	for _, d := range defaults {
		c, _ := Class(d.class)
		p, ok := c.Param(d.param)
		if !ok {
			t.Errorf("%s has no parameter %s", d.class, d.param)
			continue
		}
		if p.Default != d.want {
			t.Errorf("%s.%s default %v, want %v", d.class, d.param, p.Default, d.want)
		}
	}
	srm, _ := Class("SNNSRM")
	if _, ok := srm.Param("step_mode"); ok || srm.StepModes {
		t.Error("SNNSRM is not a StepwiseNeuron and must not take step_mode")
	}
	// Every class builds with defaults alone.
	for _, c := range got {
		if _, err := New(c.Name, 3, nil); err != nil {
			t.Errorf("%s with defaults: %v", c.Name, err)
		}
	}
}

func TestParamErrors(t *testing.T) {
	cases := []struct {
		class  string
		params map[string]any
		param  string
		text   string
	}{
		{"SNNLIF", map[string]any{"tua": 2.0}, "tua", "unknown parameter"},
		{"SNNLIF", map[string]any{"tau": "2"}, "tau", "must be a number"},
		{"SNNLIF", map[string]any{"tau": nil}, "tau", "got null"},
		{"SNNLIF", map[string]any{"tau": math.Inf(1)}, "tau", "finite"},
		{"SNNLIF", map[string]any{"record_v": 1}, "record_v", "true or false"},
		{"SNNLIF", map[string]any{"surrogate_grad_fn": "Gauss"}, "surrogate_grad_fn", "unknown surrogate"},
		{"SNNLIF", map[string]any{"surrogate_grad_fn": map[string]any{"alpha": 2.0}}, "surrogate_grad_fn", "name"},
		{"SNNLIF", map[string]any{"param_dtype": "float64"}, "param_dtype", "must be float32"},
		{"SNNLIF", map[string]any{"V_reset": nil}, "V_reset", "reset_type SOFT"},
		{"SNNLIF", map[string]any{"size": 5.0}, "size", "size 3"},
		{"SNNSRM", map[string]any{"step_mode": "MULTI"}, "step_mode", "unknown parameter"},
		{"SNNSRM", map[string]any{"kernel_window": 2.5}, "kernel_window", "integer"},
		{"SNNSRM", map[string]any{"time_window": 0.5}, "time_window", ">= time_step"},
		{"SNNSRM", map[string]any{"tau_ref": -1.0}, "tau_ref", "> 0"},
		{"SNNALIF", map[string]any{"tau_shape": []any{2.0}}, "tau_shape", "does not broadcast"},
		{"SNNALIF", map[string]any{"tau_shape": []any{1.0, 3.0}}, "tau_shape", "1-D"},
		{"SNNALIF", map[string]any{"tau_m_initializer": map[string]any{"name": "Uniform"}}, "tau_m_initializer", "Normal"},
		{"SparseLIF", map[string]any{"readout": true, "target_neuronNum": 4.0}, "readout", "own population"},
		{"SparseLIF", map[string]any{"reset_type": "HARD", "V_reset": 0.5}, "V_reset", "subtracts V_th at the step after a spike"},
		{"SNNALIF", map[string]any{"V_th": 50.0}, "V_th", "v_th0"},
		{"SNNALIF", map[string]any{"V_reset": -1.0}, "V_reset", "adaptive threshold"},
		{"SNNALIF", map[string]any{"reset_type": "ResetType.HARD"}, "reset_type", "null or SOFT"},
		{"SparseLIF", map[string]any{"time_step": 0.0}, "time_step", "> 0"},
		{"SNNKLIF", map[string]any{"reset_type": "hard", "V_reset": nil}, "V_reset", "HARD"},
	}
	for _, c := range cases {
		_, err := New(c.class, 3, c.params)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != c.param || pe.Class != c.class || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s %v: got %v; want a *ParamError on %s mentioning %q", c.class, c.params, err, c.param, c.text)
		}
	}
	if _, err := New("SNNLIFF", 3, nil); err == nil || !strings.Contains(err.Error(), "SNNLIF") {
		t.Errorf("unknown class: got %v, want an error listing the known classes", err)
	}
	if _, err := New("SNNLIF", 0, nil); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestAcceptedSpellings(t *testing.T) {
	for _, params := range []map[string]any{
		{"reset_type": "ResetType.SOFT", "step_mode": "single"},
		{"surrogate_grad_fn": "SuperSpike"},
		{"surrogate_grad_fn": surrogate.Default(surrogate.Erf)},
		{"surrogate_grad_fn": map[string]any{"name": "ATan", "alpha": 3}},
		{"before_reset_mem": nil, "time_recurrent": true, "pid": 3, "name": "hidden", "frozen_params": []any{"V_th"}, "size": 3},
		{"tau": 2, "V_th": float32(0.5), "R": int64(2), "param_dtype": "jnp.float32"},
	} {
		if _, err := New("SNNLIF", 3, params); err != nil {
			t.Errorf("%v: %v", params, err)
		}
	}
	l, _ := New("SNNLIF", 3, map[string]any{"surrogate_grad_fn": map[string]any{"name": "ATan", "alpha": 3}})
	if f := l.Surrogate(); f.Kind != surrogate.ATan || f.Alpha != 3 {
		t.Errorf("surrogate %v, want ATan(alpha=3)", f)
	}
	l, _ = New("SNNLIF", 3, map[string]any{"reset_type": "ResetType.SOFT", "step_mode": "single", "time_recurrent": true})
	if !l.soft || l.StepMode() != "SINGLE" || !l.TimeRecurrent() {
		t.Errorf("soft %v, step mode %q, time_recurrent %v", l.soft, l.StepMode(), l.TimeRecurrent())
	}
}

func TestPLIFInitialW(t *testing.T) {
	l, err := New("SNNParamtricLIF", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := l.Learnable("w")
	if math.Abs(float64(w[0])+math.Log(9)) > 1e-6 || math.Abs(float64(l.sigW)-0.1) > 1e-7 {
		t.Errorf("w = %g, sigmoid(w) = %g; want -ln 9 and 0.1", w[0], l.sigW)
	}
	if _, err := l.Learnable("k"); err == nil {
		t.Error("PLIF returned a learnable k")
	}
	lif, _ := New("SNNLIF", 1, nil)
	if err := lif.SetLearnable("tau", []float32{3}); err == nil || !strings.Contains(err.Error(), "no learnable") {
		t.Errorf("SNNLIF SetLearnable: %v", err)
	}
	klif, _ := New("SNNKLIF", 1, map[string]any{"scale_reset": true})
	if err := klif.SetLearnable("k", []float32{0}); err == nil {
		t.Error("k = 0 accepted with scale_reset")
	}
}

func TestALIFInitialiser(t *testing.T) {
	params := map[string]any{"tau_shape": []any{400}}
	a, err := NewRand("SNNALIF", 400, params, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewRand("SNNALIF", 400, params, rand.New(rand.NewPCG(5, 6)))
	c, _ := NewRand("SNNALIF", 400, params, rand.New(rand.NewPCG(5, 7)))
	ta, _ := a.Learnable("tau_m")
	tb, _ := b.Learnable("tau_m")
	tc, _ := c.Learnable("tau_m")
	mean, std := meanStd(ta)
	// 400 draws: the mean is within 4 standard errors of 20, the std near 5.
	if math.Abs(mean-20) > 4*5/20.0 || math.Abs(std-5) > 1 {
		t.Errorf("tau_m draws: mean %.2f std %.2f, want Normal(20, 5)", mean, std)
	}
	adp, _ := a.Learnable("tau_adp")
	if m, s := meanStd(adp); math.Abs(m-150) > 4*10/20.0 || math.Abs(s-10) > 2 {
		t.Errorf("tau_adp draws: mean %.2f std %.2f, want Normal(150, 10)", m, s)
	}
	same, differ := true, false
	for i := range ta {
		same = same && ta[i] == tb[i]
		differ = differ || ta[i] != tc[i]
	}
	if !same || !differ {
		t.Errorf("same seed gives the same draws: %v; another seed differs: %v", same, differ)
	}
	// A distribution with mass below zero is redrawn, never used.
	d, err := New("SNNALIF", 500, map[string]any{"tau_shape": []any{500}, "tau_m_initializer": map[string]any{"name": "Normal", "mean": 0.5, "std": 1}})
	if err != nil {
		t.Fatal(err)
	}
	td, _ := d.Learnable("tau_m")
	for i, v := range td {
		if !(v > 0) {
			t.Fatalf("tau_m[%d] = %g", i, v)
		}
	}
}

func meanStd(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// TestALIFBatchBroadcast: a layer of batch·features elements with
// tau_shape (features,) equals one layer per batch entry.
func TestALIFBatchBroadcast(t *testing.T) {
	p := map[string]any{"tau_shape": []any{3}, "tau_m": []any{3.0, 5.0, 8.0}, "tau_adp": []any{10.0, 20.0, 30.0}, "v_th0": 0.1, "beta": 0.5, "record_v": true}
	batched, err := New("SNNALIF", 6, p)
	if err != nil {
		t.Fatal(err)
	}
	single, _ := New("SNNALIF", 3, p)
	rng := rand.New(rand.NewPCG(9, 9))
	xb, x0, x1 := matrix(20, 6), matrix(20, 3), matrix(20, 3)
	for ti := range xb {
		for i := range 6 {
			xb[ti][i] = float32(rng.Float64())
		}
		copy(x0[ti], xb[ti][:3])
		copy(x1[ti], xb[ti][3:])
	}
	sb, vb, _ := batched.Multi(xb)
	s0, v0, _ := single.Multi(x0)
	s1, v1, _ := single.Multi(x1)
	active := float32(0)
	for ti := range xb {
		for i := range 3 {
			if sb[ti][i] != s0[ti][i] || sb[ti][3+i] != s1[ti][i] || vb[ti][i] != v0[ti][i] || vb[ti][3+i] != v1[ti][i] {
				t.Fatalf("t=%d feature %d: batched layer differs from per-entry layers", ti, i)
			}
			active += s0[ti][i] + s1[ti][i]
		}
	}
	if active == 0 {
		t.Fatal("no spikes: the comparison is vacuous")
	}
}

func TestStateAPI(t *testing.T) {
	l, err := New("SNNEIF", 3, map[string]any{"record_v": true})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.State("v"); got[0] != float32(-0.1) {
		t.Errorf("EIF initial v = %g, want V_reset -0.1", got[0])
	}
	if err := l.SetState("v", []float32{0.5}); err != nil {
		t.Fatal(err)
	}
	if got := l.State("v"); got[2] != 0.5 {
		t.Errorf("SetState broadcast: v = %v", got)
	}
	l.Reset()
	if got := l.State("v"); got[1] != float32(-0.1) {
		t.Errorf("Reset: v = %v, want V_reset", got)
	}
	if err := l.SetInitialState("v", []float32{0.1, 0.2, 0.3}); err != nil {
		t.Fatal(err)
	}
	_, v, _ := l.Multi([][]float32{{0, 0, 0}})
	// One step from v0 with no input: H = v0 + (-(v0) + exp((v0-0.8)))/2.
	for i, v0 := range []float64{0.1, 0.2, 0.3} {
		want := v0 + (-v0+math.Exp(v0-0.8))/2
		if math.Abs(float64(v[0][i])-want) > 1e-6 {
			t.Errorf("from initial %g: v = %g, want %g", v0, v[0][i], want)
		}
	}
	for _, bad := range []struct {
		name string
		vals []float32
	}{{"u", []float32{1}}, {"v", []float32{1, 2}}, {"theta", []float32{1}}} {
		if err := l.SetState(bad.name, bad.vals); err == nil {
			t.Errorf("SetState(%q, %v) accepted", bad.name, bad.vals)
		}
	}
	srm, _ := New("SNNSRM", 2, nil)
	if err := srm.SetInitialState("v", []float32{1}); err == nil {
		t.Error("SNNSRM accepted an explicit membrane")
	}
	if err := l.Step(make([]float32, 2), make([]float32, 3), nil); !errors.Is(err, ErrShape) {
		t.Errorf("Step with 2 inputs for 3 elements: %v", err)
	}
	if _, _, err := l.Multi([][]float32{{1, 2, 3}, {1, 2}}); !errors.Is(err, ErrShape) {
		t.Errorf("Multi with a short row: %v", err)
	}
	alif, _ := New("SNNALIF", 2, map[string]any{"Eta": 0.5, "beta": 2.0, "v_th0": 0.1})
	if th := alif.State("theta"); th[0] != 1.1 {
		t.Errorf("ALIF initial theta = %g, want v_th0 + beta·Eta = 1.1", th[0])
	}
	if err := alif.SetState("b", []float32{0}); err != nil || alif.State("theta")[1] != float32(0.1) {
		t.Errorf("SetState b: err %v, theta %v", err, alif.State("theta"))
	}
	if got := strings.Join(alif.StateNames(), ","); got != "v,spike,b,theta" {
		t.Errorf("ALIF state names %s", got)
	}
}

// TestBeforeResetMemOnlyChangesRecording: the recorded value switches
// between H and V, the spikes and the state do not change.
func TestBeforeResetMemOnlyChangesRecording(t *testing.T) {
	x := [][]float32{{0.7, 2.5}, {0.7, 0.2}, {0.7, 2.4}}
	for _, class := range []string{"SNNIF", "SNNLIF", "SNNKLIF", "SNNQIF"} {
		after, _ := New(class, 2, map[string]any{"record_v": true, "tau": 2.0})
		before, _ := New(class, 2, map[string]any{"record_v": true, "tau": 2.0, "before_reset_mem": true})
		if class == "SNNIF" {
			after, _ = New(class, 2, map[string]any{"record_v": true})
			before, _ = New(class, 2, map[string]any{"record_v": true, "before_reset_mem": true})
		}
		sa, va, _ := after.Multi(x)
		sb, vb, _ := before.Multi(x)
		differ := false
		for ti := range x {
			for i := range 2 {
				if sa[ti][i] != sb[ti][i] {
					t.Errorf("%s: spikes differ at t=%d", class, ti)
				}
				if sa[ti][i] == 1 && vb[ti][i] < before.vth {
					t.Errorf("%s: recorded pre-reset value %g below threshold at a spike", class, vb[ti][i])
				}
				differ = differ || va[ti][i] != vb[ti][i]
			}
		}
		if !differ {
			t.Errorf("%s: before_reset_mem recorded the same values (no spike in the test?)", class)
		}
	}
}
