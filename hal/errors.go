package hal

import "errors"

// Sentinel errors. Every config problem is a *FieldError that wraps one
// of the first group, so callers can test with errors.Is and still print
// the config field; the second group comes from parts at run time and
// is returned as is, so that the tick loop's error path does not
// allocate either.
var (
	// ErrRequired: a required field is empty.
	ErrRequired = errors.New("required")
	// ErrInvalid: a value is not one of the accepted ones.
	ErrInvalid = errors.New("invalid value")
	// ErrRange: a number is outside its allowed range (also at run time:
	// a voltage outside an AnalogOut's range).
	ErrRange = errors.New("out of range")
	// ErrDuplicate: a name, pin, port or channel is used twice.
	ErrDuplicate = errors.New("already used")
	// ErrNotFound: the host has no pin or SPI port by that name.
	ErrNotFound = errors.New("not found")

	// ErrClosed: the board was closed; parts refuse further I/O.
	ErrClosed = errors.New("hal: board closed")
	// ErrDuty: a PWM duty outside [0, gpio.DutyMax] (or [0, 1]).
	ErrDuty = errors.New("hal: duty outside [0, 1]")
	// ErrNoEdge: WaitForEdge on an input configured with edge "none".
	ErrNoEdge = errors.New("hal: edge detection not configured")
	// ErrUnknownPart: no part of that kind and name on the board.
	ErrUnknownPart = errors.New("hal: unknown part")
)

// FieldError is a config error tied to one field, named by its path in
// the daemon's YAML, e.g. board.outputs[2].pin. It reads "field: must be
// X, got V" (the module's one format for a bad value), or "field:
// required" when the sentinel alone says it.
type FieldError struct {
	Field string // e.g. "board.pwm[0].frequency_hz"
	Err   error  // wraps one of the sentinels above
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause, so errors.Is(err, ErrRange) works.
func (e *FieldError) Unwrap() error { return e.Err }
