package telemetry

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// recorder is a Controls that records each command and answers at
// once, with err.
type recorder struct {
	calls []string
	err   error
}

var _ Controls = (*recorder)(nil)

func (r *recorder) Submit(act Action, done func(error)) {
	r.calls = append(r.calls, describe(act))
	done(r.err)
}

// describe names an action as the tests expect it: "dc bias [150]",
// "pause".
func describe(act Action) string {
	switch act.Kind {
	case KindDCAmplitude:
		return fmt.Sprintf("dc %s %v", act.Target, act.Values)
	case KindPoissonRate:
		return fmt.Sprintf("rate %s %v", act.Target, act.Values)
	case KindBernoulliProb:
		return fmt.Sprintf("prob %s %v", act.Target, act.Values)
	case KindSnapshot:
		return "snapshot"
	}
	return string(act.Kind)
}

// handle checks a payload, submits it to ctl (which answers at once) and
// returns the completed reply, as the publisher does.
func handle(v *Validator, name string, payload []byte, ctl Controls) Reply {
	act, r, ok := v.Check(name, payload)
	if !ok {
		return r
	}
	answered := false
	ctl.Submit(act, func(err error) { r.SetOutcome(err); answered = true })
	if !answered {
		panic("the test Controls did not answer at once")
	}
	return r
}

// testAllow is the allow-list of the validator tests.
func testAllow() map[string]Allowed {
	return map[string]Allowed{
		"drive":  {Kind: KindDCAmplitude, Target: "bias", Size: 2, Min: -500, Max: 500},
		"noise":  {Kind: KindPoissonRate, Target: "noise", Size: 3, Min: 0, Max: 5000},
		"coin":   {Kind: KindBernoulliProb, Target: "coin", Size: 1, Min: 0, Max: 1},
		"pause":  {Kind: KindPause},
		"resume": {Kind: KindResume},
		"snap":   {Kind: KindSnapshot},
	}
}

// cmd encodes a version-1 command with the given raw value.
func cmd(name, target string, value msgp.Raw) []byte {
	b, err := (&Command{Version: 1, ID: "t1", Name: name, Target: target, Value: value}).MarshalMsg(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func floats(xs ...float64) msgp.Raw {
	b := msgp.AppendArrayHeader(nil, uint32(len(xs)))
	for _, x := range xs {
		b = msgp.AppendFloat64(b, x)
	}
	return b
}

func TestValidatorHandle(t *testing.T) {
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string // test name
		topic   string // <name> of cmd/<name>
		payload []byte
		call    string // the recorded call, when accepted
		errIs   error  // the sentinel, when refused
		errHas  string // a part of the reply's error
	}{
		{name: "dc scalar", topic: "drive", payload: cmd("drive", "bias", f64(150)), call: "dc bias [150]"},
		{name: "dc scalar no target", topic: "drive", payload: cmd("", "", f64(-500)), call: "dc bias [-500]"},
		{name: "dc list", topic: "drive", payload: cmd("", "", floats(1, 2)), call: "dc bias [1 2]"},
		{name: "dc int value", topic: "drive", payload: cmd("", "", msgp.AppendInt(nil, 7)), call: "dc bias [7]"},
		{name: "dc uint value", topic: "drive", payload: cmd("", "", msgp.AppendUint64(nil, 300)), call: "dc bias [300]"},
		{name: "dc float32 value", topic: "drive", payload: cmd("", "", msgp.AppendFloat32(nil, 0.5)), call: "dc bias [0.5]"},
		{name: "rate list", topic: "noise", payload: cmd("", "noise", floats(0, 10, 5000)), call: "rate noise [0 10 5000]"},
		{name: "prob scalar", topic: "coin", payload: cmd("", "", f64(0.25)), call: "prob coin [0.25]"},
		{name: "pause", topic: "pause", payload: cmd("pause", "", nil), call: "pause"},
		{name: "resume", topic: "resume", payload: cmd("", "", nil), call: "resume"},
		{name: "snapshot", topic: "snap", payload: cmd("", "", nil), call: "snapshot"},

		{name: "unknown name", topic: "warp", payload: cmd("", "", f64(1)), errIs: ErrUnknownCommand,
			errHas: `cmd "warp": unknown command (allowed: coin, drive, noise, pause, resume, snap)`},
		{name: "known kind not allowed", topic: "reload", payload: cmd("", "", nil), errIs: ErrNotAllowed,
			errHas: `cmd "reload": not in the allow-list`},
		{name: "name mismatch", topic: "drive", payload: cmd("noise", "", f64(1)), errIs: ErrBadPayload,
			errHas: `cmd "drive": bad payload: name: must be "drive" (the topic's) or left out, got "noise"`},
		{name: "other target", topic: "drive", payload: cmd("", "exc", f64(1)), errIs: ErrBadTarget,
			errHas: `bad target: target: must be "bias" (the only population this command sets) or left out, got "exc"`},
		{name: "NaN", topic: "drive", payload: cmd("", "", f64(math.NaN())), errIs: ErrBadValue,
			errHas: `cmd "drive": bad value: value: must be a finite number, got NaN`},
		{name: "Inf in list", topic: "noise", payload: cmd("", "", floats(1, math.Inf(1), 2)), errIs: ErrBadValue,
			errHas: `bad value: value[1]: must be a finite number, got +Inf`},
		{name: "NaN golden", topic: "noise", payload: cmd("", "", floats(1, math.NaN(), 2)), errIs: ErrBadValue,
			errHas: `cmd "noise": bad value: value[1]: must be a finite number, got NaN`},
		{name: "above max", topic: "drive", payload: cmd("", "", f64(500.5)), errIs: ErrBadValue,
			errHas: `bad value: value: must be in [-500, 500], got 500.5`},
		{name: "negative rate", topic: "noise", payload: cmd("", "", f64(-1)), errIs: ErrBadValue,
			errHas: `value: must be in [0, 5000], got -1`},
		{name: "prob above 1", topic: "coin", payload: cmd("", "", f64(1.5)), errIs: ErrBadValue,
			errHas: `value: must be in [0, 1], got 1.5`},
		{name: "wrong length", topic: "noise", payload: cmd("", "", floats(1, 2)), errIs: ErrBadValue,
			errHas: `bad value: value: must be one number for all or 3 (the population's size), got 2 values`},
		{name: "empty list", topic: "drive", payload: cmd("", "", floats()), errIs: ErrBadValue,
			errHas: `value: must be one number for all or 2 (the population's size), got 0 values`},
		{name: "string value", topic: "drive", payload: cmd("", "", msgp.AppendString(nil, "150")), errIs: ErrBadValue,
			errHas: `bad value: value: must be a number, got a msgpack str`},
		{name: "bool value", topic: "drive", payload: cmd("", "", msgp.AppendBool(nil, true)), errIs: ErrBadValue,
			errHas: `value: must be a number, got a msgpack bool`},
		{name: "string in list", topic: "drive", payload: cmd("", "", msgp.AppendString(msgp.AppendFloat64(msgp.AppendArrayHeader(nil, 2), 1), "x")),
			errIs: ErrBadValue, errHas: `bad value: value[1]: must be a number, got a msgpack str`},
		{name: "map value", topic: "drive", payload: cmd("", "", msgp.AppendMapHeader(nil, 0)), errIs: ErrBadValue,
			errHas: `value: must be a number, got a msgpack map`},
		{name: "missing value", topic: "drive", payload: cmd("", "", nil), errIs: ErrBadValue,
			errHas: `bad value: value: must be a number or a list of 2 numbers, got nothing`},
		{name: "value for pause", topic: "pause", payload: cmd("", "", f64(1)), errIs: ErrBadValue,
			errHas: `bad value: value: must be left out (pause takes no value), got a msgpack float64`},
		{name: "target for pause", topic: "pause", payload: cmd("", "bias", nil), errIs: ErrBadTarget,
			errHas: `bad target: target: must be left out (pause takes no target), got "bias"`},
		{name: "truncated", topic: "drive", payload: cmd("", "", f64(1))[:20], errIs: ErrBadPayload,
			errHas: `cmd "drive": bad payload: not a msgpack command map`},
		{name: "garbage", topic: "drive", payload: []byte("hello"), errIs: ErrBadPayload,
			errHas: `bad payload: not a msgpack command map`},
		{name: "empty payload", topic: "drive", payload: nil, errIs: ErrBadPayload,
			errHas: `bad payload: not a msgpack command map`},
		{name: "trailing bytes", topic: "drive", payload: append(cmd("", "", f64(1)), 0xc0), errIs: ErrBadPayload,
			errHas: `bad payload: 1 bytes after the command map`},
		{name: "version 0", topic: "drive",
			payload: msgp.AppendFloat64(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "value"), 1), errIs: ErrBadPayload,
			errHas: `version: bad payload: got 0, this daemon reads 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			reply := handle(v, tt.topic, tt.payload, &r)
			if reply.Version != SchemaVersion || reply.Name != tt.topic {
				t.Errorf("reply version %d name %q", reply.Version, reply.Name)
			}
			if tt.errHas == "" {
				if !reply.OK || reply.Error != "" {
					t.Fatalf("refused: %s", reply.Error)
				}
				if reply.ID != "t1" {
					t.Errorf("reply id %q, want the command's", reply.ID)
				}
				if len(r.calls) != 1 || r.calls[0] != tt.call {
					t.Errorf("calls %q, want [%q]", r.calls, tt.call)
				}
				return
			}
			if reply.OK {
				t.Fatalf("accepted, calls %q", r.calls)
			}
			if !strings.Contains(reply.Error, tt.errHas) {
				t.Errorf("error %q\ndoes not contain %q", reply.Error, tt.errHas)
			}
			if len(r.calls) != 0 {
				t.Errorf("a refused command changed something: %q", r.calls)
			}
			// The sentinel is visible through Validate where the payload decodes.
			if c, err := DecodeCommand(tt.payload); err == nil {
				if _, err := v.Validate(tt.topic, c); !errors.Is(err, tt.errIs) {
					t.Errorf("Validate error %v, want errors.Is %v", err, tt.errIs)
				}
			} else if !errors.Is(err, tt.errIs) {
				t.Errorf("DecodeCommand error %v, want errors.Is %v", err, tt.errIs)
			}
		})
	}
}

// TestPythonCommand: a command as Python's msgpack.packb({"version": 1,
// "id": "7", "value": 250.0}) writes it (no name, no target) is accepted.
func TestPythonCommand(t *testing.T) {
	payload, err := hex.DecodeString("83a776657273696f6e01a26964a137a576616c7565cb406f400000000000")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	reply := handle(v, "drive", payload, &r)
	if !reply.OK || reply.ID != "7" || len(r.calls) != 1 || r.calls[0] != "dc bias [250]" {
		t.Errorf("reply %+v, calls %q", reply, r.calls)
	}
}

func TestValidatorApplyError(t *testing.T) {
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	r := recorder{err: errors.New("network is reloading")}
	reply := handle(v, "pause", cmd("", "", nil), &r)
	if reply.OK || reply.Error != `cmd "pause": network is reloading` {
		t.Errorf("reply %+v", reply)
	}
}

func TestValidatorCommandsOff(t *testing.T) {
	v, err := NewValidator(nil)
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	reply := handle(v, "pause", cmd("", "", nil), &r)
	if reply.OK || !strings.Contains(reply.Error, "commands are off on this board") || len(r.calls) != 0 {
		t.Errorf("reply %+v, calls %q", reply, r.calls)
	}
}

func TestNewValidatorRejects(t *testing.T) {
	tests := []struct {
		name  string
		allow map[string]Allowed
		want  string
	}{
		{"empty name", map[string]Allowed{"": {Kind: KindPause}}, `commands: "": empty name`},
		{"slash", map[string]Allowed{"a/b": {Kind: KindPause}}, `"a/b": name contains '/'`},
		{"wildcard", map[string]Allowed{"a+": {Kind: KindPause}}, `name contains`},
		{"bad kind", map[string]Allowed{"x": {Kind: "warp"}}, `commands: "x": kind: must be one of dc_amplitude, poisson_rate, bernoulli_prob, pause, resume, reload, snapshot, reset, got "warp"`},
		{"pause with target", map[string]Allowed{"p": {Kind: KindPause, Target: "a"}}, `target, size, min, max: must be left out (kind "pause" takes none), got target "a", size 0, bounds [0, 0]`},
		{"setter without target", map[string]Allowed{"d": {Kind: KindDCAmplitude, Size: 1, Max: 1}}, `"d": target: must be the population a dc_amplitude command sets, got nothing`},
		{"size 0", map[string]Allowed{"d": {Kind: KindDCAmplitude, Target: "b", Max: 1}}, `size: must be the size of population "b" (>= 1), got 0`},
		{"min > max", map[string]Allowed{"d": {Kind: KindDCAmplitude, Target: "b", Size: 1, Min: 2, Max: 1}}, `bounds: must be finite min <= max, got [2, 1]`},
		{"inf bound", map[string]Allowed{"d": {Kind: KindDCAmplitude, Target: "b", Size: 1, Max: math.Inf(1)}}, `bounds: must be finite min <= max, got [0, +Inf]`},
		{"negative rate", map[string]Allowed{"r": {Kind: KindPoissonRate, Target: "b", Size: 1, Min: -1, Max: 1}}, `min: must be >= 0 Hz (a rate), got -1`},
		{"prob above 1", map[string]Allowed{"c": {Kind: KindBernoulliProb, Target: "b", Size: 1, Max: 2}}, `bounds: must be in [0, 1] (a probability), got [0, 2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewValidator(tt.allow)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
