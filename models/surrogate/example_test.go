package surrogate_test

import (
	"fmt"

	"github.com/spikeloop/spikeloop/models/surrogate"
)

// A neuron fires with the step; training uses the surrogate derivative.
func Example() {
	f, err := surrogate.New("ATan", map[string]any{"alpha": 2.0})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, x := range []float32{-0.5, 0, 0.5} {
		fmt.Printf("x=%+.1f spike=%g grad=%.4f\n", x, f.Forward(x), f.Grad(float64(x)))
	}
	_, err = surrogate.New("Sigmoid", map[string]any{"alpha": 0.0})
	fmt.Println(err)
	// Output:
	// x=-0.5 spike=0 grad=0.2884
	// x=+0.0 spike=1 grad=1.0000
	// x=+0.5 spike=1 grad=0.2884
	// surrogate Sigmoid: alpha: must be > 0, got 0
}
