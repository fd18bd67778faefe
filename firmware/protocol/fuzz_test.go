package protocol

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzFrame feeds arbitrary bytes to every decoder, three ways:
//
//  1. as a frame: Decode must not panic, and a frame it accepts must
//     re-encode to the same bytes; its payload, unmarshalled into its
//     type, must marshal back to the same payload.
//  2. as a payload: data[0] picks a frame type, data[1:] is wrapped in a
//     valid frame of that type (so the fuzzer reaches the payload
//     decoders past the CRC); Unmarshal must not panic, and a payload it
//     accepts must marshal back to the same bytes, also when decoded
//     into a value that held another payload.
//  3. as a stream: a Reader fed the bytes in pieces yields only frames
//     that Decode accepts, and its loop ends.
//
// Seeds: the golden frames, and each golden payload behind its type's
// index (testdata/fuzz/FuzzFrame, written by TestWriteFuzzSeeds).
// Run it with:
//
//	go test ./firmware/protocol -run '^$' -fuzz FuzzFrame -fuzztime 10m
func FuzzFrame(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(fuzzFrame)
}

func fuzzFrame(t *testing.T, data []byte) {
	// 1. A frame.
	if fr, n, err := Decode(data); err == nil {
		if n > len(data) || n != fr.Len() {
			t.Fatalf("n %d of %d bytes", n, len(data))
		}
		raw, err := AppendFrame(nil, fr.Type(), fr.Seq(), fr.Payload())
		if err != nil || !bytes.Equal(raw, data[:n]) {
			t.Fatalf("re-encoded % x, %v; was % x", raw, err, data[:n])
		}
		if p := newPayload(fr.Type()); p != nil && p.Unmarshal(fr) == nil {
			if got, _ := Append(nil, fr.Seq(), p); !bytes.Equal(got, data[:n]) {
				t.Fatalf("%v: round trip % x, was % x", fr.Type(), got, data[:n])
			}
		}
	} else if fr.Type() != 0 || fr.Payload() != nil {
		t.Fatalf("refused (%v) and returned a frame", err)
	}

	// 2. A payload of each type picked by the first byte.
	if len(data) > 0 {
		ty := allTypes[int(data[0])%len(allTypes)]
		payload := data[1:min(len(data), 1+MaxPayload)]
		raw, err := AppendFrame(nil, ty, 7, payload)
		if err != nil {
			t.Fatal(err)
		}
		fr, _, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		p := newPayload(ty)
		if p.Unmarshal(fr) == nil {
			if got := p.Marshal(nil); !bytes.Equal(got, payload) {
				t.Fatalf("%v: round trip % x, was % x", ty, got, payload)
			}
			// Decoding into a value that holds a golden payload of
			// the type reuses its slices and gives the same.
			for _, c := range goldenFrames() {
				if c.msg.Type() == ty {
					if err := c.msg.Unmarshal(fr); err != nil || !bytes.Equal(c.msg.Marshal(nil), payload) {
						t.Fatalf("%v over %s: %v", ty, c.name, err)
					}
				}
			}
		}
	}

	// 3. A stream, written in pieces of sizes taken from the data.
	var r Reader
	rest := data
	for step := 0; ; step++ {
		if step > 4*len(data)+8 {
			t.Fatal("the Reader's loop does not end")
		}
		piece := 1
		if len(data) > 0 {
			piece += int(data[step%len(data)])
		}
		rest = rest[r.Write(rest[:min(piece, len(rest))]):]
		fr, err := r.Next()
		if err == nil {
			raw, _ := AppendFrame(nil, fr.Type(), fr.Seq(), fr.Payload())
			if _, _, err := Decode(raw); err != nil {
				t.Fatalf("the Reader yielded a frame Decode refuses: %v", err)
			}
		}
		if err == ErrNeedMore && len(rest) == 0 {
			if r.Buffered() == 0 {
				break
			}
			r.Drop()
		}
	}
}

// fuzzSeeds are the golden frames and their payloads behind the index
// of their type in allTypes.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, c := range goldenFrames() {
		seeds = append(seeds, c.wire)
		for i, ty := range allTypes {
			if ty == c.msg.Type() {
				seeds = append(seeds, append([]byte{byte(i)}, c.msg.Marshal(nil)...))
			}
		}
	}
	return seeds
}

// TestWriteFuzzSeeds writes fuzzSeeds to testdata/fuzz/FuzzFrame (the
// committed seed corpus) when SPIKELOOP_WRITE_FUZZ_SEEDS=1, and else
// checks that the committed files hold them.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzFrame")
	write := os.Getenv("SPIKELOOP_WRITE_FUZZ_SEEDS") == "1"
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeeds() {
		name := filepath.Join(dir, "seed"+strconv.Itoa(i))
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		if write {
			if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != body {
			t.Errorf("%s differs from the golden seeds (%v): run SPIKELOOP_WRITE_FUZZ_SEEDS=1 go test ./firmware/protocol -run TestWriteFuzzSeeds", name, err)
		}
	}
}
