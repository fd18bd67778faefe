package telemetry

import (
	"bytes"
	"testing"
)

// FuzzDecodeCommand checks that no payload makes the command decoder or
// the validator panic, that a refused payload changes nothing, and that
// what the decoder accepts encodes back to a payload it accepts
// with the same meaning. Seeds: every golden table, and truncations of
// the command tables.
//
//	go test ./io/telemetry -run XXX -fuzz FuzzDecodeCommand -fuzztime 5m
func FuzzDecodeCommand(f *testing.F) {
	for name, raw := range goldenRaw() {
		f.Add(raw)
		if bytes.HasPrefix([]byte(name), []byte("cmd_")) {
			f.Add(raw[:len(raw)/2])
			f.Add(append(append([]byte{}, raw...), 0xc0))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}) // map32 claiming 4G entries
	v, err := NewValidator(testAllow())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, name := range []string{"drive", "noise", "pause"} {
			var r recorder
			reply := handle(v, name, b, &r)
			if !reply.OK && len(r.calls) != 0 {
				t.Fatalf("refused command changed something: %q (%s)", r.calls, reply.Error)
			}
			if reply.OK != (len(r.calls) == 1) {
				t.Fatalf("reply ok %v after calls %q", reply.OK, r.calls)
			}
		}
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		again, err := c.MarshalMsg(nil)
		if err != nil {
			t.Fatalf("accepted command does not encode: %v", err)
		}
		c2, err := DecodeCommand(again)
		if err != nil {
			t.Fatalf("re-encoded command refused: %v\n% x", err, again)
		}
		if c2.ID != c.ID || c2.Name != c.Name || c2.Target != c.Target || !bytes.Equal(c2.Value, c.Value) {
			t.Fatalf("round trip changed the command: %+v -> %+v", c, c2)
		}
	})
}
