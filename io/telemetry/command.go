package telemetry

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tinylib/msgp/msgp"
)

// Kind is what a command does. The allow-list gives each command name
// one kind.
type Kind string

// The kinds of command the daemon knows.
const (
	KindDCAmplitude   Kind = "dc_amplitude"   // DCGenerator amplitude, pA (docs/models/generators.md)
	KindPoissonRate   Kind = "poisson_rate"   // PoissonGenerator rate, Hz (10.3, 10.8)
	KindBernoulliProb Kind = "bernoulli_prob" // BernoulliGenerator prob (10.4, 10.8)
	KindPause         Kind = "pause"          // stop the network, actuators to safe values
	KindResume        Kind = "resume"         // run again after pause
	KindReload        Kind = "reload"         // reload config and network
	KindSnapshot      Kind = "snapshot"       // publish a snapshot of the sampled states
	KindReset         Kind = "reset"          // network back to t = 0, as a fresh load with the same seed
)

// kinds lists every Kind, in the order error messages name them.
var kinds = []Kind{KindDCAmplitude, KindPoissonRate, KindBernoulliProb, KindPause, KindResume, KindReload, KindSnapshot, KindReset}

// takesValue reports whether commands of kind k carry a value (setters).
func (k Kind) takesValue() bool {
	return k == KindDCAmplitude || k == KindPoissonRate || k == KindBernoulliProb
}

// Controls is what an accepted command acts on; the daemon implements it.
//
// Submit gets each command that passed validation, one call at a time,
// in the order the commands arrived (Publisher.Command), so it must not
// block: it queues act for whatever applies it (the daemon's loop,
// between two network steps), or refuses it at once. It calls done
// exactly once with the outcome, either before it returns or later from
// another goroutine: nil, applied; a *BusyError (errors.Is ErrBusy),
// refused because the queue was full; any other error, refused with
// that reason. A refused command changed nothing. done does not block.
// Submit may keep act.Values.
type Controls interface {
	Submit(act Action, done func(error))
}

// BusyError refuses a command because Queue commands were already
// waiting to be applied: the queue was full. Nothing was changed; the
// sender may try again.
type BusyError struct {
	Queue int // the queue's length, all of it taken
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v: %d commands are waiting for the loop (the queue is full); nothing was changed, try again", ErrBusy, e.Queue)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Allowed is one entry of the command allow-list (daemon config,
// "commands:"), keyed by command name.
type Allowed struct {
	Kind Kind
	// Target is the generator population a setter acts on; a command may
	// name it or leave target empty, but never name another population.
	Target string
	// Size is the population's size: a list value must have this length.
	Size int
	// Min and Max bound every value, inclusive. They must lie inside the
	// kind's own limits: prob in [0, 1], rate >= 0, all finite. The
	// PoissonGenerator limit rate*dt/1000 <= 700 depends on dt: the daemon
	// gives Max no larger than 700000/dt.
	Min, Max float64
}

// Action is a validated command, ready to apply.
type Action struct {
	Name   string    // command name (allow-list key)
	Kind   Kind      // what it does
	Target string    // population, setters only
	Values []float64 // setters only: one value, or one per unit
}

// Validator checks commands against the allow-list. It holds no mutable
// state, so one Validator may check commands from several goroutines.
type Validator struct {
	allowed map[string]Allowed
	names   []string // sorted, for error messages
}

// Errors a command can be refused with, matched with errors.Is; the
// message adds the command name and what was wrong.
var (
	ErrUnknownCommand = errors.New("unknown command")
	ErrNotAllowed     = errors.New("not in the allow-list")
	ErrBadValue       = errors.New("bad value")
	ErrBadTarget      = errors.New("bad target")
	ErrBadPayload     = errors.New("bad payload")
	// ErrBusy: the command was valid, but its queue was full (BusyError).
	ErrBusy = errors.New("busy")
)

// NewValidator checks the allow-list and returns a Validator for it. An
// empty allow-list is valid: every command is then refused.
func NewValidator(allow map[string]Allowed) (*Validator, error) {
	v := &Validator{allowed: make(map[string]Allowed, len(allow))}
	for name, a := range allow {
		if err := checkAllowed(name, a); err != nil {
			return nil, err
		}
		v.allowed[name] = a
		v.names = append(v.names, name)
	}
	slices.Sort(v.names)
	return v, nil
}

// checkAllowed validates one allow-list entry.
func checkAllowed(name string, a Allowed) error {
	if err := CheckTopicLevel(name); err != nil {
		return fmt.Errorf("commands: %q: %w", name, err)
	}
	if !slices.Contains(kinds, a.Kind) {
		return fmt.Errorf("commands: %q: kind: must be one of %s, got %q", name, kindList(), a.Kind)
	}
	if !a.Kind.takesValue() {
		if a.Target != "" || a.Size != 0 || a.Min != 0 || a.Max != 0 {
			return fmt.Errorf("commands: %q: target, size, min, max: must be left out (kind %q takes none), got target %q, size %d, bounds [%g, %g]", name, a.Kind, a.Target, a.Size, a.Min, a.Max)
		}
		return nil
	}
	if a.Target == "" {
		return fmt.Errorf("commands: %q: target: must be the population a %s command sets, got nothing", name, a.Kind)
	}
	if a.Size < 1 {
		return fmt.Errorf("commands: %q: size: must be the size of population %q (>= 1), got %d", name, a.Target, a.Size)
	}
	if !isFinite(a.Min) || !isFinite(a.Max) || a.Min > a.Max {
		return fmt.Errorf("commands: %q: bounds: must be finite min <= max, got [%g, %g]", name, a.Min, a.Max)
	}
	switch a.Kind {
	case KindPoissonRate:
		if a.Min < 0 {
			return fmt.Errorf("commands: %q: min: must be >= 0 Hz (a rate), got %g", name, a.Min)
		}
	case KindBernoulliProb:
		if a.Min < 0 || a.Max > 1 {
			return fmt.Errorf("commands: %q: bounds: must be in [0, 1] (a probability), got [%g, %g]", name, a.Min, a.Max)
		}
	}
	return nil
}

// CheckTopicLevel accepts a name usable as one MQTT topic level.
func CheckTopicLevel(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.ContainsAny(name, "/+#\x00") {
		return errors.New("name contains '/', '+', '#' or NUL (it is one MQTT topic level)")
	}
	return nil
}

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate checks the command c that arrived on cmd/<name> and returns
// the action it asks for, or an error that says what was wrong.
func (v *Validator) Validate(name string, c Command) (Action, error) {
	a, ok := v.allowed[name]
	if !ok {
		if len(v.names) == 0 {
			return Action{}, fmt.Errorf("cmd %q: %w: commands are off on this board (empty allow-list)", name, ErrNotAllowed)
		}
		if slices.Contains(kinds, Kind(name)) {
			return Action{}, fmt.Errorf("cmd %q: %w (allowed: %s)", name, ErrNotAllowed, strings.Join(v.names, ", "))
		}
		return Action{}, fmt.Errorf("cmd %q: %w (allowed: %s)", name, ErrUnknownCommand, strings.Join(v.names, ", "))
	}
	if c.Name != "" && c.Name != name {
		return Action{}, fmt.Errorf("cmd %q: %w: name: must be %q (the topic's) or left out, got %q", name, ErrBadPayload, name, c.Name)
	}
	act := Action{Name: name, Kind: a.Kind}
	if !a.Kind.takesValue() {
		if len(c.Value) != 0 {
			return Action{}, fmt.Errorf("cmd %q: %w: value: must be left out (%s takes no value), got a msgpack %s", name, ErrBadValue, a.Kind, msgp.NextType(c.Value))
		}
		if c.Target != "" {
			return Action{}, fmt.Errorf("cmd %q: %w: target: must be left out (%s takes no target), got %q", name, ErrBadTarget, a.Kind, c.Target)
		}
		return act, nil
	}
	if c.Target != "" && c.Target != a.Target {
		return Action{}, fmt.Errorf("cmd %q: %w: target: must be %q (the only population this command sets) or left out, got %q", name, ErrBadTarget, a.Target, c.Target)
	}
	vals, err := readValues(c.Value, a.Size)
	if err != nil {
		return Action{}, fmt.Errorf("cmd %q: %w", name, err)
	}
	for i, x := range vals {
		field := "value"
		if len(vals) > 1 || msgp.NextType(c.Value) == msgp.ArrayType {
			field = fmt.Sprintf("value[%d]", i)
		}
		if !isFinite(x) {
			return Action{}, fmt.Errorf("cmd %q: %w: %s: must be a finite number, got %g", name, ErrBadValue, field, x)
		}
		if x < a.Min || x > a.Max {
			return Action{}, fmt.Errorf("cmd %q: %w: %s: must be in [%g, %g], got %g", name, ErrBadValue, field, a.Min, a.Max, x)
		}
	}
	act.Target = a.Target
	act.Values = vals
	return act, nil
}

// readValues reads a setter's value: one number, or an array of size
// numbers. Integers are accepted (other encoders write 2.0 as 2).
func readValues(raw msgp.Raw, size int) ([]float64, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: value: must be a number or a list of %d numbers, got nothing", ErrBadValue, size)
	}
	if msgp.NextType(raw) != msgp.ArrayType {
		x, rest, err := readNumber(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: value: %v", ErrBadValue, err)
		}
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: value: must be one number, got %d bytes after it", ErrBadValue, len(rest))
		}
		return []float64{x}, nil
	}
	n, rest, err := msgp.ReadArrayHeaderBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("value: %w: %v", ErrBadValue, err)
	}
	if int64(n) != int64(size) {
		return nil, fmt.Errorf("%w: value: must be one number for all or %d (the population's size), got %d values", ErrBadValue, size, n)
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i], rest, err = readNumber(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: value[%d]: %v", ErrBadValue, i, err)
		}
	}
	return vals, nil
}

// readNumber reads one msgpack number of any width as a float64.
func readNumber(b []byte) (float64, []byte, error) {
	switch t := msgp.NextType(b); t {
	case msgp.Float64Type:
		return msgp.ReadFloat64Bytes(b)
	case msgp.Float32Type:
		f, rest, err := msgp.ReadFloat32Bytes(b)
		return float64(f), rest, err
	case msgp.IntType:
		i, rest, err := msgp.ReadInt64Bytes(b)
		return float64(i), rest, err
	case msgp.UintType:
		u, rest, err := msgp.ReadUint64Bytes(b)
		return float64(u), rest, err
	case msgp.InvalidType:
		return 0, b, errors.New("must be a number, got invalid or truncated msgpack")
	default:
		return 0, b, fmt.Errorf("must be a number, got a msgpack %s", t)
	}
}

// Check decodes and validates the payload that arrived on cmd/<name>.
// ok false: the command is refused and r says why (it changes nothing).
// Otherwise act is the command to hand to Controls.Submit, and r its
// reply, which SetOutcome completes with Submit's outcome.
func (v *Validator) Check(name string, payload []byte) (act Action, r Reply, ok bool) {
	r = Reply{Version: SchemaVersion, Name: name}
	c, err := DecodeCommand(payload)
	if err != nil {
		r.Error = fmt.Sprintf("cmd %q: %v", name, err)
		return Action{}, r, false
	}
	r.ID = c.ID
	act, err = v.Validate(name, c)
	if err != nil {
		r.Error = err.Error()
		return Action{}, r, false
	}
	return act, r, true
}

// SetOutcome completes the reply of a submitted command with the error
// Controls.Submit reported (nil: applied). A busy refusal also sets Busy
// and Queue, so that a sender can tell it from a bad command.
func (r *Reply) SetOutcome(err error) {
	if err == nil {
		r.OK, r.Error = true, ""
		return
	}
	r.OK, r.Error = false, fmt.Sprintf("cmd %q: %v", r.Name, err)
	var busy *BusyError
	if errors.As(err, &busy) {
		r.Busy, r.Queue = true, busy.Queue
	}
}
