package snn_test

import (
	"fmt"

	"github.com/spikeloop/spikeloop/models/snn"
)

// A library user steps a layer directly, one step per call.
func Example() {
	l, err := snn.New("SNNLIF", 2, map[string]any{"tau": 2.0, "record_v": true})
	if err != nil {
		fmt.Println(err)
		return
	}
	spikes, v := make([]float32, 2), make([]float32, 2)
	for _, x := range [][]float32{{1.5, 0.5}, {1.5, 0.5}, {1.5, 0.5}} {
		if err := l.Step(x, spikes, v); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(spikes, v)
	}
	// Output:
	// [0 0] [0.75 0.25]
	// [1 0] [0 0.375]
	// [0 0] [0.75 0.4375]
}

// MULTI mode runs a whole sequence from the initial state.
func ExampleLayer_Multi() {
	l, err := snn.New("SNNIF", 1, map[string]any{"V_reset": nil}) // soft reset
	if err != nil {
		fmt.Println(err)
		return
	}
	spikes, _, err := l.Multi([][]float32{{0.75}, {0.75}, {0.75}, {0.75}, {0.75}})
	fmt.Println(spikes, l.State("v"), err)
	// Output:
	// [[0] [1] [1] [1] [0]] [0.75] <nil>
}

// Errors name the class and the parameter.
func ExampleNew_error() {
	_, err := snn.New("SNNLIF", 4, map[string]any{"tau": 0.5})
	fmt.Println(err)
	_, err = snn.New("SNNLIF", 4, map[string]any{"tua": 2.0})
	fmt.Println(err != nil)
	// Output:
	// SNNLIF: tau: must be > 1, got 0.5
	// true
}

// Trained weights feed a layer; Backward gives the gradients for training.
func ExampleLayer_Backward() {
	w, err := snn.NewDense(3, 2, []float32{
		0.5, 1.0,
		0.5, 0.0,
		0.2, 0.8,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := snn.New("SNNParamtricLIF", 2, map[string]any{"init_tau": 2.0})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := [][]float32{{1, 1, 0}, {1, 0, 1}, {0, 1, 1}}
	x := make([][]float32, len(in))
	for t := range in {
		x[t] = make([]float32, 2)
		if err := w.Apply(in[t], x[t]); err != nil {
			fmt.Println(err)
			return
		}
	}
	spikes, _, _ := l.Multi(x)
	fmt.Println("spikes", spikes)
	// Loss = total spike count: dL/dS = 1 everywhere.
	ones := [][]float32{{1, 1}, {1, 1}, {1, 1}}
	g, err := l.Backward(x, ones)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("dL/dX[0] %.3f  dL/dw %.3f\n", g.X[0], g.Params["w"])
	// Output:
	// spikes [[0 0] [0 1] [0 0]]
	// dL/dX[0] [0.362 0.359]  dL/dw [0.721]
}
