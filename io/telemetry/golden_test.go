package telemetry

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// payload is what msgp generates for each payload struct (pointer).
type payload interface {
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Encodable
	msgp.Decodable
}

// goldenCase is a decoded payload; goldenRaw (golden_raw_test.go) keeps
// its wire bytes under the same name (STYLE.md 9), so any change to the
// format is a visible diff there.
type goldenCase struct {
	name string
	want payload        // the decoded value
	zero func() payload // a fresh value to decode into
}

// f64 is a msgpack float64 (0xcb + 8 bytes big endian) as a raw value.
func f64(v float64) msgp.Raw { return msgp.AppendFloat64(nil, v) }

func goldenValues() []goldenCase {
	return []goldenCase{
		{name: "status_online", zero: func() payload { return new(Status) }, want: &Status{
			Version: 1, Board: "rover-7", Run: "5f3a9c0e12b47d68", State: StateOnline, Software: "0.3.0",
			ConfigHash: "c0ffee12", NetworkHash: "5eed0042", StartUnixMs: 1795740000000,
		}},
		{name: "status_offline_will", zero: func() payload { return new(Status) }, want: &Status{
			Version: 1, Board: "rover-7", Run: "5f3a9c0e12b47d68", State: StateOffline, Software: "0.3.0",
			ConfigHash: "c0ffee12", NetworkHash: "5eed0042", StartUnixMs: 1795740000000,
		}},
		{name: "telemetry_demo_vehicle", zero: func() payload { return new(Telemetry) }, want: &Telemetry{
			Version: 1, Board: "demo", Run: "5f3a9c0e12b47d68", Seq: 41, Tick: 4200, TimeMs: 4200,
			Rates:     Floats{"left": 12.5, "right": 40},
			Counts:    Counts{"left": 5, "right": 16},
			States:    Series{"motor.V": {-65, -52.5}},
			Sensors:   Floats{"light_l": 0.25, "light_r": 0.75},
			Actuators: Floats{"motor_l": 0.5, "motor_r": 0.125},
			Loop:      Loop{LatenessP50us: 12, LatenessP99us: 48, LatenessP999us: 95.5, Overruns: 0, StaleInputs: 0},
			Dropped:   3,
			Plant:     Floats{"x": 0.5, "y": -1.25, "heading": 1.5, "distance": 2.75},
		}},
		{name: "telemetry_board_no_plant", zero: func() payload { return new(Telemetry) }, want: &Telemetry{
			Version: 1, Board: "pi-3", Run: "0000000000000001", Seq: 0, Tick: 100, TimeMs: 100,
			Rates: Floats{}, Counts: Counts{}, States: Series{}, Sensors: Floats{}, Actuators: Floats{},
			Loop: Loop{LatenessP50us: 3.5, LatenessP99us: 20, LatenessP999us: 250, Overruns: 2, StaleInputs: 1},
		}},
		{name: "spikes", zero: func() payload { return new(SpikeBatch) }, want: &SpikeBatch{
			Version: 1, Board: "demo", Run: "5f3a9c0e12b47d68", Seq: 7,
			Trains: []SpikeTrain{
				{Population: "left", Neuron: []uint32{0, 3}, StampMs: []float64{700.5, 701}},
				{Population: "right", Neuron: []uint32{1}, StampMs: []float64{700.25}},
			},
		}},
		{name: "cmd_dc_amplitude_scalar", zero: func() payload { return new(Command) }, want: &Command{
			Version: 1, ID: "42", Name: "drive", Target: "bias", Value: f64(150),
		}},
		{name: "cmd_poisson_rate_list", zero: func() payload { return new(Command) }, want: &Command{
			Version: 1, ID: "43", Name: "noise", Target: "",
			Value: msgp.AppendFloat64(msgp.AppendFloat64(msgp.AppendArrayHeader(nil, 2), 10), 20),
		}},
		{name: "cmd_pause_nil_value", zero: func() payload { return new(Command) }, want: &Command{
			Version: 1, ID: "a1", Name: "pause", Value: nil, // written as msgpack nil
		}},
		{name: "reply_ok", zero: func() payload { return new(Reply) }, want: &Reply{
			Version: 1, ID: "42", Name: "drive", OK: true,
		}},
		{name: "reply_error", zero: func() payload { return new(Reply) }, want: &Reply{
			Version: 1, ID: "43", Name: "noise", OK: false, Error: `cmd "noise": bad value: value[1]: must be a finite number, got NaN`,
		}},
	}
}

// normalise makes an absent or nil Command value nil: msgp's Raw decodes
// msgpack nil to an empty slice, which may or may not be nil.
func normalise(p payload) {
	if c, ok := p.(*Command); ok && len(c.Value) == 0 {
		c.Value = nil
	}
}

func TestGolden(t *testing.T) {
	raws := goldenRaw()
	for _, c := range goldenValues() {
		t.Run(c.name, func(t *testing.T) {
			raw, ok := raws[c.name]
			if !ok {
				t.Fatalf("no golden bytes for %q", c.name)
			}
			got, err := c.want.MarshalMsg(nil)
			if err != nil {
				t.Fatalf("MarshalMsg: %v", err)
			}
			if !bytes.Equal(got, raw) {
				t.Errorf("MarshalMsg:\n got % x\nwant % x", got, raw)
			}
			var buf bytes.Buffer
			w := msgp.NewWriter(&buf)
			if err := c.want.EncodeMsg(w); err != nil {
				t.Fatalf("EncodeMsg: %v", err)
			}
			if err := w.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), raw) {
				t.Errorf("EncodeMsg:\n got % x\nwant % x", buf.Bytes(), raw)
			}
			dec := c.zero()
			left, err := dec.UnmarshalMsg(raw)
			if err != nil {
				t.Fatalf("UnmarshalMsg: %v", err)
			}
			if len(left) != 0 {
				t.Errorf("UnmarshalMsg left %d bytes", len(left))
			}
			normalise(dec)
			if !reflect.DeepEqual(dec, c.want) {
				t.Errorf("UnmarshalMsg:\n got %+v\nwant %+v", dec, c.want)
			}
			dec = c.zero()
			if err := dec.DecodeMsg(msgp.NewReader(bytes.NewReader(raw))); err != nil {
				t.Fatalf("DecodeMsg: %v", err)
			}
			normalise(dec)
			if !reflect.DeepEqual(dec, c.want) {
				t.Errorf("DecodeMsg:\n got %+v\nwant %+v", dec, c.want)
			}
		})
	}
	if len(raws) != len(goldenValues()) {
		t.Errorf("%d golden byte tables for %d values", len(raws), len(goldenValues()))
	}
}
