package telemetry_test

import (
	"context"
	"fmt"
	"time"

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
	// refused: cmd "drive": bad value: value: must be in [-500, 500], got 900
	// refused: cmd "warp": unknown command (allowed: drive)
}

// How the daemon wires the package: the embedded broker when no broker is
// configured, the loop's queue, commands, the publisher on its own
// goroutine. (Compiled, not run: it would listen on 1883.)
func Example_wiring() {
	ctx := context.Background()
	const board = "demo"
	prefix := "spikeloop/" + board + "/"

	broker, err := telemetry.StartBroker(telemetry.BrokerConfig{
		Listen: telemetry.DefaultBrokerListen, // 127.0.0.1:1883
		Prefix: prefix,
		// Users from the config (bcrypt hashes) or telemetry.ReadPasswordFile.
	})
	if err != nil {
		panic(err)
	}
	defer broker.Close()

	q, _ := telemetry.NewQueue(128) // ~13 s of samples at 100 ms
	v, err := telemetry.NewValidator(map[string]telemetry.Allowed{
		"drive": {Kind: telemetry.KindDCAmplitude, Target: "bias", Size: 2, Min: -500, Max: 500},
		"pause": {Kind: telemetry.KindPause},
	})
	if err != nil {
		panic(err)
	}
	var controls telemetry.Controls // the daemon's implementation
	pub, err := telemetry.NewPublisher(telemetry.PublisherConfig{
		Broker: broker.URL(), Board: board, Prefix: prefix,
		Username: telemetry.DaemonUser, Password: broker.DaemonPassword(),
		StoreDir:  "/var/lib/spikeloop/mqtt",
		Status:    telemetry.Status{Software: "0.3.0", ConfigHash: "…", NetworkHash: "…", StartUnixMs: time.Now().UnixMilli()},
		Validator: v, Controls: controls,
	}, q)
	if err != nil {
		panic(err)
	}
	go pub.Run(ctx)

	// In the loop, once per telemetry interval: fill a reused sample and
	// push it (never blocks, no allocation).
	var sample telemetry.Telemetry
	sample.Rates = telemetry.Floats{"left": 0, "right": 0}
	q.Push(&sample)
}
