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

// TestPlantTable: the plant names messages give are the table's, every
// entry complete, and the demo config names its plant through it.
func TestPlantTable(t *testing.T) {
	if len(plantNames) != len(plants) {
		t.Errorf("plantNames %v, %d plants", plantNames, len(plants))
	}
	for _, n := range plantNames {
		p, ok := plants[n]
		if !ok || p.given == nil || p.check == nil || p.build == nil || p.summary == nil || p.carry == nil || p.live == nil {
			t.Errorf("plant %q: in the table %v, complete %v", n, ok, ok && p.check != nil && p.build != nil && p.summary != nil && p.carry != nil && p.live != nil)
		}
	}
	cfg, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, name, ok := cfg.plant(); !ok || name != "vehicle" {
		t.Errorf("the demo's plant: %q, %v; want vehicle", name, ok)
	}
	cfg.Plant = PlantConfig{}
	if _, name, ok := cfg.plant(); ok {
		t.Errorf("no plant: got %q", name)
	}
}
