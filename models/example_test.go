package models_test

import (
	"errors"
	"fmt"

	"github.com/spikeloop/spikeloop/models"
)

// Load validates a network file and builds its populations and
// connections; delays come out in whole steps of dt.
func ExampleLoad() {
	src := `version: 1
dt: 0.1
duration: 50
populations:
  drive:
    model: SpikeGenerator
    size: 2
    params: {spike_times: [10.0, 20.0]}
  cells:
    model: ExpLIF
    size: 3
    params: {tau_syn: [2.0, 5.0]}
    init: {V: -65.0}
synapses:
  - pre: drive
    post: cells
    conn: {rule: all_to_all}
    weight: 250.0
    delay: 1.5
    receptor: 1
monitors:
  - population: cells
    record: [spikes, V]
`
	net, err := models.Load([]byte(src), "example.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("dt %g ms, %d steps\n", net.Dt, net.Steps())
	for _, p := range net.Populations {
		fmt.Printf("population %s: %s x %d\n", p.Name, p.Class.Name, p.Size)
	}
	for _, s := range net.Synapses {
		fmt.Printf("synapse %s -> %s: %d connections, weight %g, delay %d steps, receptor %d\n",
			s.Pre.Name, s.Post.Name, len(s.Conns), s.Weights[0], s.Delays[0], s.Receptor)
	}
	fmt.Println("initial V:", net.Population("cells").Model.State("V"))
	// Output:
	// dt 0.1 ms, 500 steps
	// population drive: SpikeGenerator x 2
	// population cells: ExpLIF x 3
	// synapse drive -> cells: 6 connections, weight 250, delay 15 steps, receptor 1
	// initial V: [-65 -65 -65]
}

// A rejected file gives a *FileError with the line and the field.
func ExampleFileError() {
	src := `version: 1
populations:
  cells:
    model: LIF
    size: 2
    params:
      tau: -10.0
`
	_, err := models.Load([]byte(src), "net.yaml", models.NewRegistry(), models.DefaultLimits)
	var fe *models.FileError
	if errors.As(err, &fe) {
		fmt.Println("line:", fe.Line)
		fmt.Println("field:", fe.Field)
	}
	fmt.Println(err)
	// Output:
	// line: 7
	// field: populations.cells.params.tau
	// net.yaml:7: populations.cells.params.tau: must be > 0, got -10
}
