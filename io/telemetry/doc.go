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
//
// # Pieces
//
//   - Queue and SpikeQueue: the loop's hand-off. Push never blocks, takes
//     no lock and allocates nothing in steady state; when full, the oldest
//     item is dropped and counted.
//   - Validator: checks a Command against the config's allow-list; the
//     publisher submits what passes to Controls (implemented by the
//     daemon: a bounded queue to the loop, busy when full) and answers
//     every command once, in arrival order; a refused command changes
//     nothing and is answered with what was wrong.
//   - Publisher: paho client, QoS 1, persistent file store, ordered
//     resend after outages and restarts, birth and Last Will on status.
//   - Broker: the embedded mochi-mqtt broker with bcrypt users and an ACL
//     (anonymous loopback clients read status, telemetry, spikes only).
//   - Metrics: a Prometheus /metrics endpoint with the same figures.
//
// README.md beside this file documents each schema and how to read it
// from Python and mosquitto_sub.
package telemetry
