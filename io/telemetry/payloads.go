package telemetry

//go:generate go run github.com/tinylib/msgp@v1.6.5 -file payloads.go

import "github.com/tinylib/msgp/msgp"

// SchemaVersion is the version field of every payload this package
// writes. It changes when a key is removed or changes meaning; adding a
// key does not change it (readers must ignore keys they do not know).
const SchemaVersion = 1

// Status states carried in Status.State.
const (
	StateOnline  = "online"
	StateOffline = "offline"
)

// Status is the retained payload on <prefix>status. The client publishes
// it with State "online" right after each connect (the birth message), and
// registers the same struct with State "offline" as its Last Will, so the
// broker publishes that when the daemon vanishes without a goodbye.
type Status struct {
	Version     int    `msg:"version"`      // SchemaVersion
	Board       string `msg:"board"`        // board id, also in the topic
	Run         string `msg:"run"`          // run id: NewRunID, once per daemon process
	State       string `msg:"state"`        // StateOnline or StateOffline
	Software    string `msg:"software"`     // daemon version string
	ConfigHash  string `msg:"config_hash"`  // hex digest of the daemon config
	NetworkHash string `msg:"network_hash"` // hex digest of the network file
	StartUnixMs int64  `msg:"start_unix_ms"`
}

// Loop holds the loop's health figures over one telemetry interval.
type Loop struct {
	LatenessP50us  float64 `msg:"lateness_p50_us"`  // median wake-up lateness, µs
	LatenessP99us  float64 `msg:"lateness_p99_us"`  // 99th percentile, µs
	LatenessP999us float64 `msg:"lateness_p999_us"` // 99.9th percentile, µs
	Overruns       uint64  `msg:"overruns"`         // ticks that missed their deadline, since start
	StaleInputs    uint64  `msg:"stale_inputs"`     // inputs stale at the sampled tick
}

// Telemetry is the periodic payload on <prefix>telemetry.
//
// Run is the run id of the daemon process that took the sample (the
// same as its Status birth's). Seq counts published samples from 0 at
// the start of the run, so a reader sees a gap when a sample was lost;
// it restarts only with a new Run (a reload keeps both). Dropped counts
// the samples the hand-off queue dropped since start (a gap with Dropped
// unchanged was lost elsewhere).
type Telemetry struct {
	Version   int     `msg:"version"`   // SchemaVersion
	Board     string  `msg:"board"`     // board id
	Run       string  `msg:"run"`       // run id (set by the Publisher from Status.Run)
	Seq       uint64  `msg:"seq"`       // sample number in the run (set by Queue.Push)
	Tick      uint64  `msg:"tick"`      // loop tick of the sample
	TimeMs    float64 `msg:"time_ms"`   // network time, ms
	Rates     Floats  `msg:"rates"`     // population -> Hz over the interval
	Counts    Counts  `msg:"counts"`    // population -> spikes over the interval
	States    Series  `msg:"states"`    // "population.state" -> sampled values
	Sensors   Floats  `msg:"sensors"`   // sensor name -> value
	Actuators Floats  `msg:"actuators"` // actuator name -> value
	Loop      Loop    `msg:"loop"`
	Dropped   uint64  `msg:"dropped"`        // samples dropped by the queue since start
	Plant     Floats  `msg:"plant,omitzero"` // emulated board only (else left out): the plant's state
	Link      Link    `msg:"link,omitzero"`  // a network on a chip (backend apu) only: its link
}

// Link holds the figures of the link to the chip a network runs on
// (backend apu): counts since start, and the time on the link per tick
// over the interval. Left out of a sample while all are zero (a network
// on the host's CPU).
type Link struct {
	Frames     uint64 `msg:"frames"`      // frames both ways, resends included
	Bytes      uint64 `msg:"bytes"`       // bytes both ways
	CRCErrors  uint64 `msg:"crc_errors"`  // frames that failed their CRC or frame checks
	Retries    uint64 `msg:"retries"`     // requests resent
	Timeouts   uint64 `msg:"timeouts"`    // responses that did not come in time
	ChipResets uint64 `msg:"chip_resets"` // chip resets seen (boot counter changes)
	Faults     uint64 `msg:"faults"`      // ticks whose network step failed on the link (outputs safe)
	Reloads    uint64 `msg:"reloads"`     // chip reloads after a fault (on_fault: reload): the network restarted from t = 0
	// TransferUs is the mean time on the link per tick over the
	// interval, µs.
	TransferUs float64 `msg:"transfer_us"`
}

// SpikeTrain is the spikes of one population in a SpikeBatch, as two
// parallel arrays (structure of arrays keeps the payload small).
type SpikeTrain struct {
	Population string    `msg:"population"`
	Neuron     []uint32  `msg:"neuron"`   // neuron index within the population
	StampMs    []float64 `msg:"stamp_ms"` // spike stamp t_{k+1}, ms
}

// SpikeBatch is the optional payload on <prefix>spikes: the spikes of the
// chosen populations since the previous batch.
type SpikeBatch struct {
	Version int          `msg:"version"` // SchemaVersion
	Board   string       `msg:"board"`
	Run     string       `msg:"run"`     // run id, as in Telemetry
	Seq     uint64       `msg:"seq"`     // batch number in the run (set by SpikeQueue.Push)
	Dropped uint64       `msg:"dropped"` // batches dropped by the queue since start
	Trains  []SpikeTrain `msg:"trains"`
}

// Command is the payload on <prefix>cmd/<name>.
//
// Value is kept raw so that the Validator can say what type it got
// ("want a number or a list of numbers, got str") rather than fail the
// whole decode.
type Command struct {
	Version int      `msg:"version"` // SchemaVersion
	ID      string   `msg:"id"`      // chosen by the sender, echoed in the Reply
	Name    string   `msg:"name"`    // empty or the <name> of the topic
	Target  string   `msg:"target"`  // population; empty means the allow-list's
	Value   msgp.Raw `msg:"value"`   // number, list of numbers, or nil
}

// Reply is the payload on <prefix>cmd/<name>/reply: OK, or the reason the
// command was refused (and then nothing was changed). Every command that
// reaches the daemon gets exactly one reply, in the order the commands
// arrived. Busy and Queue are left out unless the command was refused
// because the queue to the loop was full.
type Reply struct {
	Version int    `msg:"version"`         // SchemaVersion
	ID      string `msg:"id"`              // the Command's ID
	Name    string `msg:"name"`            // the command name
	OK      bool   `msg:"ok"`              // applied
	Error   string `msg:"error"`           // empty when OK
	Busy    bool   `msg:"busy,omitempty"`  // refused: the queue was full; try again
	Queue   int    `msg:"queue,omitempty"` // busy: the queue's length (commands waiting)
}

// IsZero says whether l is all zeros (the sample leaves it out).
func (l Link) IsZero() bool { return l == Link{} }
