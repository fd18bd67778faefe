// Package telemetry is spikeloop's MQTT side: the msgpack payloads the
// daemon publishes and accepts, the validation of commands, the loop's
// non-blocking hand-off of telemetry samples, the publisher, and the
// embedded broker used when no broker is configured.
//
// # Topics
//
// Under a prefix, by default "spikeloop/<board-id>/":
//
//	status             retained Status: birth ("online") on every connect,
//	                   Last Will ("offline")
//	telemetry          Telemetry, every interval (default 100 ms)
//	spikes             SpikeBatch, optional
//	cmd/<name>         Command, in
//	cmd/<name>/reply   Reply, out
//
// Every payload is a msgpack map written by code that msgp generates from
// payloads.go (go generate; the generated files are committed), with a
// "version" key (SchemaVersion). The name -> value maps are written with
// sorted keys, so one sample always gives the same bytes; golden_raw_test.go
// shows the bytes of each payload beside its decoded value.
package telemetry
