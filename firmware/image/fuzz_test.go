package image

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzImage: Decode never panics, rejects with an *Error, and whatever
// it accepts is valid and encodes back to the very same bytes (every
// byte of the format is read into a field or checked to be zero), which
// decode to the same Image. Each input is tried as given and with its
// CRC rewritten, so the fuzzer gets past the checksum into the body.
//
// Seeds: the committed corpus in testdata/fuzz/FuzzImage and the test
// images. Run it (not part of go test ./...):
//
//	go test -run '^$' -fuzz FuzzImage -fuzztime 10m ./firmware/image/
func FuzzImage(f *testing.F) {
	f.Add(Encode(fullImage()))
	for _, img := range smallImages() {
		f.Add(Encode(img))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fixed := fixCRC(append([]byte(nil), b...))
		for _, in := range [][]byte{b, fixed} {
			img, err := Decode(in)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Field == "" || e.Reason == "" {
					t.Fatalf("Decode error %T %q is not an *Error with field and reason", err, err)
				}
				continue
			}
			if err := Validate(img); err != nil {
				t.Fatalf("Decode accepted an image Validate rejects: %v", err)
			}
			out := Encode(img)
			if !bytes.Equal(out, in) {
				t.Fatalf("Encode(Decode(b)) differs from b (%d bytes, want %d)", len(out), len(in))
			}
			img2, err := Decode(out)
			if err != nil {
				t.Fatalf("Decode(Encode(Decode(b))): %v", err)
			}
			if !reflect.DeepEqual(img, img2) {
				t.Fatal("Decode(Encode(Decode(b))) differs from Decode(b)")
			}
		}
	})
}
