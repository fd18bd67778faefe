package daemon

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// The recording's chunk framing as package recording documents it, read
// and written here on its own so that tests can change a payload on
// purpose, re-cut a recording, or build a chunk by hand: "SLRC", the
// kind, the payload's length, CRC-32C of the kind and the length, CRC-32C
// of the payload (little-endian uint32s), the payload.
const (
	chunkMagic   = "SLRC"
	chunkHead    = 17
	chunkHeader  = 'H'
	chunkRows    = 'R'
	chunkEnd     = 'E'
	recordFormat = "spikeloop-record"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendChunk appends a chunk of kind holding payload to b.
func appendChunk(b []byte, kind byte, payload []byte) []byte {
	b = append(b, chunkMagic...)
	b = append(b, kind)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[len(b)-5:], castagnoli))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// chunks splits a whole recording into its chunks (kind and payload);
// an error for anything but whole chunks with the right checksums.
func chunks(rec []byte) (kinds []byte, payloads [][]byte, err error) {
	for off := 0; off < len(rec); {
		if len(rec)-off < chunkHead || string(rec[off:off+4]) != chunkMagic {
			return nil, nil, fmt.Errorf("no chunk at byte %d", off)
		}
		n := int(binary.LittleEndian.Uint32(rec[off+5:]))
		if n > len(rec)-off-chunkHead {
			return nil, nil, fmt.Errorf("chunk at byte %d: %w", off, io.ErrUnexpectedEOF)
		}
		payload := rec[off+chunkHead : off+chunkHead+n]
		if string(appendChunk(nil, rec[off+4], payload)[:chunkHead]) != string(rec[off:off+chunkHead]) {
			return nil, nil, fmt.Errorf("chunk at byte %d: checksum", off)
		}
		kinds, payloads = append(kinds, rec[off+4]), append(payloads, payload)
		off += chunkHead + n
	}
	return kinds, payloads, nil
}
