// Package firmware holds the APU's side of spikeloop: the code that runs
// on the spiking co-processor (and, bit for bit the same, in-process as
// the fixed backend and inside the emulated chip). Its packages:
//
//   - image: the program image, a compiled and quantized network
//     (versioned, hashed, validated field by field before it runs);
//   - engine: the fixed-point engine that runs an image step by step;
//   - protocol: the frames the host and the chip exchange;
//   - chip: the firmware's main logic, request frames in, engine,
//     response frames out;
//   - emulator: the chip on an emulated bus.
//
// The rules every package under firmware/ keeps, so that it ports to a
// microcontroller (and TinyGo could build it): it imports no host
// package (models, apu, hal, io, daemon), only the standard library's
// encoding/binary, hash/crc32, math/bits, errors, crypto/sha256 and
// math; its non-test code has no maps, no fmt or reflection and no
// goroutines. imports_test.go enforces the imports with go list and the
// rest with a parse of the sources. firmware/README.md documents the
// formats.
package firmware
