package apu

import "testing"

// The test's backends are registered once per test binary: the registry
// outlives a test, and with -count=2 a second registration would panic.
func init() {
	open := func(Options) (Backend, error) { return nil, nil }
	Register("test-chip", open)
	Register("test-engine", open)
	RegisterStandIn("test-chip", "test-engine")
}

// A backend that needs hardware names its in-process stand-in; others
// stand for themselves; a stand-in for an unregistered name panics.
func TestStandIn(t *testing.T) {
	if got := StandIn("test-chip"); got != "test-engine" {
		t.Errorf("StandIn(test-chip) = %q, want test-engine", got)
	}
	if got := StandIn("test-engine"); got != "test-engine" {
		t.Errorf("StandIn(test-engine) = %q, want itself", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a stand-in for an unregistered backend did not panic")
		}
	}()
	RegisterStandIn("test-nothing", "test-engine")
}
