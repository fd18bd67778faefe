package telemetry_test

import (
	"fmt"

	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/tinylib/msgp/msgp"
)

// The loop pushes a sample per telemetry interval without blocking; the
// publisher pops them on its own goroutine.
func ExampleQueue() {
	q, err := telemetry.NewQueue(2)
	if err != nil {
		panic(err)
	}
	s := telemetry.Telemetry{Rates: telemetry.Floats{"left": 12.5}}
	for tick := range uint64(3) { // one more than fits: the oldest goes
		s.Tick = tick
		q.Push(&s)
	}
	var got telemetry.Telemetry
	for q.Pop(&got) {
		fmt.Printf("seq %d tick %d dropped %d\n", got.Seq, got.Tick, got.Dropped)
	}
	// Output:
	// seq 1 tick 1 dropped 1
	// seq 2 tick 2 dropped 1
}

// A command is validated against the allow-list before anything changes.
func ExampleValidator_Validate() {
	v, err := telemetry.NewValidator(map[string]telemetry.Allowed{
		"drive": {Kind: telemetry.KindDCAmplitude, Target: "bias", Size: 2, Min: -500, Max: 500},
	})
	if err != nil {
		panic(err)
	}
	for _, x := range []float64{150, 900} {
		c := telemetry.Command{Version: telemetry.SchemaVersion, ID: "1", Value: msgp.AppendFloat64(nil, x)}
		act, err := v.Validate("drive", c)
		if err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Println(act.Kind, act.Target, act.Values)
	}
	_, err = v.Validate("warp", telemetry.Command{Version: telemetry.SchemaVersion})
	fmt.Println("refused:", err)
	// Output:
	// dc_amplitude bias [150]
	// refused: cmd "drive": value: bad value: 900 is out of range [-500, 500]
	// refused: cmd "warp": unknown command (allowed: drive)
}
