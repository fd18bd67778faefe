package recording

import (
	"bytes"
	"errors"
	"io"
)

// For the external tests (golden_test.go, fuzz_test.go), which run the
// daemon, an importer of this package.

// AppendChunk, ChunkHead and ChunkMagic are the chunk framing.
var AppendChunk = appendChunk

const (
	ChunkHead  = chunkHead
	ChunkMagic = chunkMagic
)

// ReadChunks splits a whole recording into its chunks.
func ReadChunks(rec []byte) (kinds []byte, payloads [][]byte, err error) {
	cr := newChunkReader(bytes.NewReader(rec))
	for {
		kind, payload, err := cr.next()
		if errors.Is(err, io.EOF) {
			return kinds, payloads, nil
		}
		if err != nil {
			return nil, nil, err
		}
		kinds = append(kinds, kind)
		payloads = append(payloads, append([]byte(nil), payload...))
	}
}
