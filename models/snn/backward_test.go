package snn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBackwardFiniteDifferences checks Backward against finite differences.
// The step Θ has no useful derivative, so the forward is run in smooth mode
// (Θ replaced by the surrogate's smooth step g, whose derivative is exactly
// the surrogate gradient): then the surrogate-gradient backward is the
// true gradient of that forward, and central differences must agree with
// it for every input and every learnable parameter.
func TestBackwardFiniteDifferences(t *testing.T) {
	sig2 := map[string]any{"name": "Sigmoid", "alpha": 2.0}
	cases := []struct {
		name   string
		class  string
		params map[string]any
		lo, hi float64 // input range
	}{
		{"IF hard", "SNNIF", map[string]any{"surrogate_grad_fn": sig2}, 0, 0.8},
		{"IF soft", "SNNIF", map[string]any{"V_reset": nil, "surrogate_grad_fn": sig2}, 0, 0.8},
		{"LIF hard", "SNNLIF", map[string]any{"tau": 2.0, "V_reset": -0.1, "surrogate_grad_fn": sig2}, 0, 2.5},
		{"LIF soft", "SNNLIF", map[string]any{"tau": 4.0, "V_rest": -0.2, "R": 2.0, "reset_type": "SOFT", "surrogate_grad_fn": "ATan"}, 0, 2},
		{"PLIF hard", "SNNParamtricLIF", map[string]any{"w": 0.5, "V_reset": -0.2, "surrogate_grad_fn": sig2}, 0, 2},
		{"PLIF soft", "SNNParamtricLIF", map[string]any{"init_tau": 3.0, "V_reset": nil, "surrogate_grad_fn": sig2}, 0, 3},
		{"EIF", "SNNEIF", map[string]any{"surrogate_grad_fn": sig2}, -0.2, 1.2},
		{"EIF soft", "SNNEIF", map[string]any{"R": 0.5, "tau": 3.0, "delta_T": 0.5, "v_T": 0.7, "reset_type": "SOFT", "surrogate_grad_fn": sig2}, 0, 2},
		{"QIF", "SNNQIF", map[string]any{"surrogate_grad_fn": sig2}, -0.2, 1.2},
		{"KLIF hard", "SNNKLIF", map[string]any{"k": 1.2, "surrogate_grad_fn": sig2}, 0.2, 2},
		{"KLIF soft scale", "SNNKLIF", map[string]any{"k": 0.8, "decay_input": false, "scale_reset": true, "V_reset": nil, "reset_type": nil, "surrogate_grad_fn": sig2}, 0.2, 1},
		{"KLIF hard scale", "SNNKLIF", map[string]any{"k": 1.5, "tau": 3.0, "scale_reset": true, "V_reset": -0.1, "surrogate_grad_fn": sig2}, 0.3, 2},
		{"ALIF", "SNNALIF", map[string]any{"tau_shape": []any{3.0}, "tau_m": []any{3.0, 5.0, 4.0}, "tau_adp": []any{10.0, 20.0, 15.0},
			"v_th0": 0.1, "beta": 0.5, "Eta": 0.2}, 0, 1.5},
		{"ALIF broadcast dt", "SNNALIF", map[string]any{"tau_m": []any{4.0}, "tau_adp": []any{12.0}, "v_th0": 0.3, "beta": 1.0,
			"Eta": 0.2, "R": 2.0, "time_step": 0.5}, 0, 1.2},
		{"SparseLIF wide window", "SparseLIF", map[string]any{"BV_th": -100.0, "surrogate_grad_fn": sig2}, 0, 0.6},
		{"SRM", "SNNSRM", map[string]any{"V_th": 1.5, "tau_res": 2.0, "tau_ref": 1.0, "surrogate_grad_fn": map[string]any{"name": "Sigmoid", "alpha": 1.0}}, 0, 1},
	}
	const T, n = 10, 3
	const eps = 4e-3
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 1))
			l, err := New(c.class, n, c.params)
			if err != nil {
				t.Fatal(err)
			}
			l.smooth = true
			x, w := matrix(T, n), matrix(T, n)
			for ti := range T {
				for i := range n {
					x[ti][i] = float32(c.lo + (c.hi-c.lo)*rng.Float64())
					w[ti][i] = float32(2*rng.Float64() - 1)
				}
			}
			// loss is Σ w·S, so dL/dS = w.
			loss := func() float64 {
				s, _, err := l.Multi(x)
				if err != nil {
					t.Fatal(err)
				}
				var sum float64
				for ti := range s {
					for i := range s[ti] {
						sum += float64(w[ti][i]) * float64(s[ti][i])
					}
				}
				return sum
			}
			g, err := l.Backward(x, w)
			if err != nil {
				t.Fatal(err)
			}
			// Errors are measured against the largest gradient of the same
			// quantity, so that small gradients are checked as tightly as
			// large ones and float32 noise in tiny ones does not fail.
			check := func(what string, bp, fd []float64) {
				t.Helper()
				scale := 0.0
				for _, v := range fd {
					scale = math.Max(scale, math.Abs(v))
				}
				worst := 0.0
				for i := range bp {
					err := math.Abs(bp[i]-fd[i]) / scale
					worst = math.Max(worst, err)
					if err > 5e-3 {
						t.Errorf("%s[%d]: backward %.6g, finite difference %.6g (error %.2g of the largest %.3g)", what, i, bp[i], fd[i], err, scale)
					}
				}
				if testing.Verbose() {
					t.Logf("%s: worst error %.2g of the largest gradient %.3g", what, worst, scale)
				}
			}
			var bpX, fdX []float64
			nonzero := 0
			for ti := range T {
				for i := range n {
					orig := x[ti][i]
					x[ti][i] = orig + eps
					up := loss()
					x[ti][i] = orig - eps
					down := loss()
					x[ti][i] = orig
					fd := (up - down) / (2 * eps)
					bpX, fdX = append(bpX, float64(g.X[ti][i])), append(fdX, fd)
					if math.Abs(fd) > 1e-3 {
						nonzero++
					}
				}
			}
			check("dL/dX", bpX, fdX)
			if nonzero < T*n/3 {
				t.Errorf("only %d of %d input gradients are non-zero; the case does not exercise the backward", nonzero, T*n)
			}
			info, _ := Class(c.class)
			if len(g.Params) != len(info.Learnable) {
				t.Errorf("Backward returned %d parameter gradients, class has %d learnable parameters", len(g.Params), len(info.Learnable))
			}
			for _, name := range info.Learnable {
				vals, err := l.Learnable(name)
				if err != nil {
					t.Fatal(err)
				}
				if len(g.Params[name]) != len(vals) {
					t.Fatalf("dL/d%s has %d values, want %d", name, len(g.Params[name]), len(vals))
				}
				var bpP, fdP []float64
				for j := range vals {
					h := float32(1e-2 * math.Max(1, math.Abs(float64(vals[j]))))
					pert := append([]float32(nil), vals...)
					pert[j] = vals[j] + h
					if err := l.SetLearnable(name, pert); err != nil {
						t.Fatal(err)
					}
					up := loss()
					pert[j] = vals[j] - h
					if err := l.SetLearnable(name, pert); err != nil {
						t.Fatal(err)
					}
					down := loss()
					if err := l.SetLearnable(name, vals); err != nil {
						t.Fatal(err)
					}
					// h in float32 is not exactly the intended step; divide by what was applied.
					fd := (up - down) / float64((vals[j]+h)-(vals[j]-h))
					bpP, fdP = append(bpP, float64(g.Params[name][j])), append(fdP, fd)
					if math.Abs(fd) < 1e-5 {
						t.Errorf("dL/d%s[%d] is %g: the case does not exercise it", name, j, fd)
					}
				}
				check("dL/d"+name, bpP, fdP)
			}
		})
	}
}

// TestSparseLIFGradientWindow checks that SparseLIF's gradient is exactly
// zero where the membrane stays outside (BV_th, 2·V_th - BV_th).
func TestSparseLIFGradientWindow(t *testing.T) {
	l, err := New("SparseLIF", 2, nil) // window (0.8, 1.2)
	if err != nil {
		t.Fatal(err)
	}
	// Element 0 stays far below the window, element 1 sits in it at t=1.
	x := [][]float32{{0.1, 0.5}, {0.1, 0.55}, {0.1, 0}}
	dS := [][]float32{{1, 1}, {1, 1}, {1, 1}}
	g, err := l.Backward(x, dS)
	if err != nil {
		t.Fatal(err)
	}
	for ti := range x {
		if g.X[ti][0] != 0 {
			t.Errorf("dL/dX[%d][0] = %g outside the window, want 0", ti, g.X[ti][0])
		}
	}
	if g.X[1][1] == 0 || g.X[0][1] == 0 {
		t.Errorf("element 1 enters the window at t=1 but its input gradients are %v", []float32{g.X[0][1], g.X[1][1]})
	}
	// The unmasked surrogate would not be zero for element 0.
	if l.Surrogate().Grad(float64(0.1-l.vth)) == 0 {
		t.Fatal("test is vacuous: the surrogate itself is zero there")
	}
}

func TestBackwardShapeErrors(t *testing.T) {
	l, err := New("SNNLIF", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Backward([][]float32{{1, 2}}, [][]float32{{1, 2}, {3, 4}}); err == nil {
		t.Error("Backward accepted 1 input step with 2 gradient steps")
	}
	if _, err := l.Backward([][]float32{{1, 2, 3}}, [][]float32{{1, 2, 3}}); err == nil {
		t.Error("Backward accepted rows of 3 for a layer of 2")
	}
}
