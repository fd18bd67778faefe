// Package protocol is the APU's link format: the frames the host and the
// chip exchange over SPI (or a stream socket), their payloads and error
// codes. firmware/README.md ("Frame protocol") gives the layout byte by
// byte; the golden tables in the tests hold a frame of every type.
//
// A frame is sync (0xA5 0x5A), version, type, sequence number, payload
// length, payload and a CRC-32C of everything after the sync, all
// little-endian. The host sends requests (HELLO, IMAGE_BEGIN/CHUNK/
// COMMIT, RUN, READ, SET, RESET, STATUS); the chip answers each with one
// response that echoes its sequence number (HELLO_OK, RUN_OK, READ_OK,
// STATUS_OK, ACK, or NAK with a Code). A request repeated with the same
// sequence number is answered from the chip's last response, never
// executed twice, so the host may resend after a CRC error or a timeout.
//
// Nothing is read from a frame whose CRC was not checked: a Frame has
// unexported fields and only Decode and Reader.Next make one, after
// checking sync, version, length and CRC; the payload types' Unmarshal
// takes a Frame, not bytes. Encoding appends to the caller's buffer and
// decoding reuses the payload's slices, so a loop that keeps its buffers
// allocates nothing.
//
// This package is part of the firmware: it imports only the standard
// library's portable parts (and firmware packages) and has no maps, fmt,
// reflection or goroutines, so that it ports to a microcontroller.
package protocol
