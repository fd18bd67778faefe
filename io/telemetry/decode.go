package telemetry

import "fmt"

// DecodeCommand reads one Command from a cmd/<name> payload. It refuses
// trailing bytes and a version other than SchemaVersion, so that a
// truncated, padded or future payload is answered with an error rather
// than half understood. It never panics, whatever the bytes (fuzzed).
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	rest, err := c.UnmarshalMsg(b)
	if err != nil {
		return Command{}, fmt.Errorf("%w: not a msgpack command map: %v", ErrBadPayload, err)
	}
	if len(rest) != 0 {
		return Command{}, fmt.Errorf("%w: %d bytes after the command map", ErrBadPayload, len(rest))
	}
	if c.Version != SchemaVersion {
		return Command{}, fmt.Errorf("version: %w: got %d, this daemon reads %d", ErrBadPayload, c.Version, SchemaVersion)
	}
	return c, nil
}
