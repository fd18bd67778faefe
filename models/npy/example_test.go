package npy_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spikeloop/spikeloop/models/npy"
)

// Trained weights are a pre x post matrix saved with numpy.save.
func Example() {
	dir, err := os.MkdirTemp("", "npy")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "w.npy")

	// 2 presynaptic units, 3 postsynaptic units, row-major.
	if err := npy.WriteFile(path, []int{2, 3}, []float32{0.1, 0.2, 0.3, -1, -2, -3}); err != nil {
		fmt.Println(err)
		return
	}
	w, err := npy.ReadMatrix(path, 2, 3)
	fmt.Println(w, err)

	_, err = npy.ReadMatrix(path, 3, 2)
	fmt.Println(err != nil)
	// Output:
	// [0.1 0.2 0.3 -1 -2 -3] <nil>
	// true
}
