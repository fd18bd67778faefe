package daemon

import (
	"slices"
	"testing"
)

// TestCodecTables: the lists the messages give are the tables the
// config and the loop use, every entry complete, so that an encoder or
// decoder added to one is in the other.
func TestCodecTables(t *testing.T) {
	if len(encoderNames) != len(encoders) {
		t.Errorf("encoderNames %v, %d encoders", encoderNames, len(encoders))
	}
	for _, n := range encoderNames {
		e, ok := encoders[n]
		if !ok || e.check == nil || e.build == nil || e.settings == nil {
			t.Errorf("encoder %q: in the table %v, complete %v", n, ok, e.check != nil && e.build != nil && e.settings != nil)
		}
	}
	if len(decoderNames) != len(decoders) {
		t.Errorf("decoderNames %v, %d decoders", decoderNames, len(decoders))
	}
	for _, n := range decoderNames {
		d, ok := decoders[n]
		if !ok || d.check == nil || d.build == nil || d.settings == nil || len(d.parts) == 0 ||
			!slices.Contains([]string{partOut, partPWM, partDAC}, d.parts[0]) {
			t.Errorf("decoder %q: in the table %v, %+v", n, ok, d.parts)
		}
	}
	if got := oneOf(decoderNames); got != `"pulse", "rate" or "vector"` {
		t.Errorf("oneOf(decoderNames) = %s", got)
	}
}
