package protocol

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// frameOf is a checked frame of type t carrying payload p.
func frameOf(t *testing.T, ty Type, p []byte) Frame {
	t.Helper()
	raw, err := AppendFrame(nil, ty, 1, p)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestPayloadErrors: each malformed payload is refused with CodePayload
// and a message naming the field and its value.
func TestPayloadErrors(t *testing.T) {
	cases := []struct {
		name string
		ty   Type
		p    []byte
		want string // the message after "protocol: "
	}{
		{"hello with bytes", TypeHello, []byte{1}, "HELLO payload: length: malformed payload: 1 bytes after the last field"},
		{"begin size 0", TypeImageBegin, make([]byte, 36), "IMAGE_BEGIN payload: size: malformed payload: an image has at least one byte"},
		{"begin short hash", TypeImageBegin, cat(le32(9), make([]byte, 31)), "IMAGE_BEGIN payload: sha256: malformed payload: truncated: 32 bytes needed, 31 left"},
		{"chunk no data", TypeImageChunk, le32(0), "IMAGE_CHUNK payload: data: malformed payload: a chunk carries at least one byte"},
		{"run steps 0", TypeRun, cat(le16(0), le16(0)), "RUN payload: steps: malformed payload: a run has at least one step"},
		{"run feeds beyond bytes", TypeRun, cat(le16(1), le16(65535)), "RUN payload: feeds: malformed payload: count 65535 of 7-byte items, 0 bytes left"},
		{"run size 0", TypeRun, cat(le16(1), le16(1), le16(0), []byte{0}, le32(0)), "RUN payload: feeds.size: malformed payload: feed 0 has no units"},
		// 65535 steps of 2^32-1 units: a count no int32 slice may be made for.
		{"run huge feed", TypeRun, cat(le16(65535), le16(1), le16(0), []byte{0}, le32(1<<32-1), make([]byte, 8)),
			"RUN payload: feeds.values: malformed payload: count 281470681677825 of 4-byte items, 8 bytes left"},
		{"run values short", TypeRun, cat(le16(2), le16(1), le16(0), []byte{0}, le32(1), make([]byte, 4)),
			"RUN payload: feeds.values: malformed payload: count 2 of 4-byte items, 4 bytes left"},
		{"run held short", TypeRun, cat(le16(10), le16(1), le16(0), []byte{1}, le32(2), make([]byte, 4)),
			"RUN payload: feeds.values: malformed payload: count 2 of 4-byte items, 4 bytes left"},
		{"run hold 2", TypeRun, cat(le16(1), le16(1), le16(0), []byte{2}, le32(1), make([]byte, 4)),
			"RUN payload: feeds.hold: malformed payload: feed 0: want 0 or 1"},
		{"run trailing", TypeRun, cat(le16(1), le16(0), []byte{0}), "RUN payload: length: malformed payload: 1 bytes after the last field"},
		{"read what 0", TypeRead, make([]byte, 13), "READ payload: what: malformed payload: want 1 (spikes), 2 (counters), 3 (trace) or 4 (state)"},
		{"read what 5", TypeRead, cat([]byte{5}, make([]byte, 12)), "READ payload: what: malformed payload: want 1 (spikes), 2 (counters), 3 (trace) or 4 (state)"},
		{"read short", TypeRead, []byte{1, 0, 0}, "READ payload: index: malformed payload: truncated: 2 bytes needed, 0 left"},
		{"set op 3", TypeSet, cat(le16(0), []byte{3, 0}, le32(0), le32(0), le32(1), le32(0)), "SET payload: op: malformed payload: want 1 (unit) or 2 (rows)"},
		{"set unit width", TypeSet, cat(le16(0), []byte{1, 0}, le32(2), le32(0), le32(1), le32(0)), "SET payload: width: malformed payload: a unit setting has width 0"},
		{"set unit no values", TypeSet, cat(le16(0), []byte{1, 0}, le32(0), le32(0), le32(0)), "SET payload: n: malformed payload: a unit setting has at least one value"},
		{"set rows width 0", TypeSet, cat(le16(0), []byte{2, 0}, le32(0), le32(0), le32(0)), "SET payload: width: malformed payload: rows have at least one value"},
		{"set rows ragged", TypeSet, cat(le16(0), []byte{2, 0}, le32(2), le32(0), le32(3), make([]byte, 12)), "SET payload: n: malformed payload: not a multiple of the width 2"},
		{"set rows row", TypeSet, cat(le16(0), []byte{2, 1}, le32(1), le32(0), le32(0)), "SET payload: row: malformed payload: a rows setting has row 0"},
		{"set n beyond", TypeSet, cat(le16(0), []byte{1, 0}, le32(0), le32(0), le32(1<<30)), "SET payload: n: malformed payload: count 1073741824 of 4-byte items, 0 bytes left"},
		{"run_ok spikes beyond", TypeRunOK, cat(make([]byte, 16), make([]byte, 8), le16(3), make([]byte, 16)), "RUN_OK payload: spikes.n: malformed payload: count 3 of 8-byte items, 16 bytes left"},
		{"read_ok what 9", TypeReadOK, cat([]byte{9}, make([]byte, 12)), "READ_OK payload: what: malformed payload: want 1 (spikes), 2 (counters), 3 (trace) or 4 (state)"},
		{"read_ok trace rows", TypeReadOK, cat([]byte{3}, make([]byte, 12), le32(1<<32-1), le32(2), make([]byte, 16)),
			"READ_OK payload: rows: malformed payload: count 2 of 17179869188-byte rows, 16 bytes left"},
		{"read_ok counters beyond", TypeReadOK, cat([]byte{2}, make([]byte, 12), le32(2), make([]byte, 15)), "READ_OK payload: n: malformed payload: count 2 of 8-byte items, 15 bytes left"},
		{"status_ok image 3", TypeStatusOK, cat(make([]byte, 12), []byte{3}, make([]byte, 30)), "STATUS_OK payload: image: malformed payload: want 0 (none), 1 (receiving) or 2 (loaded)"},
		{"nak code 0", TypeNak, make([]byte, 11), "NAK payload: code: malformed payload: a NAK has a nonzero code"},
		{"nak text beyond", TypeNak, cat([]byte{1, 5}, make([]byte, 8), []byte{4, 'a'}), "NAK payload: text_length: malformed payload: count 4 of 1-byte items, 1 bytes left"},
		{"ack short", TypeAck, make([]byte, 7), "ACK payload: value: malformed payload: truncated: 8 bytes needed, 7 left"},
		{"hello_ok long", TypeHelloOK, make([]byte, 26), "HELLO_OK payload: length: malformed payload: 1 bytes after the last field"},
	}
	for _, c := range cases {
		f := frameOf(t, c.ty, c.p)
		m := newPayload(c.ty)
		err := m.Unmarshal(f)
		if !errors.Is(err, CodePayload) || err.Error() != "protocol: "+c.want {
			t.Errorf("%s: %v\nwant protocol: %s", c.name, err, c.want)
		}
		// A declared count never allocates more than the payload holds:
		// decoding the bad payload costs at most its error.
		if a := testing.AllocsPerRun(10, func() { _ = newPayload(c.ty).Unmarshal(f) }); a > 8 {
			t.Errorf("%s: %v allocations", c.name, a)
		}
	}
}

// TestCodeNames: every code has its own name; unknown ones their number.
func TestCodeNames(t *testing.T) {
	seen := map[string]Code{}
	for c := Code(1); c <= CodeInternal; c++ {
		s := c.String()
		if strings.HasPrefix(s, "error code") {
			t.Errorf("code %d has no name", c)
		}
		if o, dup := seen[s]; dup {
			t.Errorf("codes %d and %d both %q", o, c, s)
		}
		seen[s] = c
	}
	if Code(200).String() != "error code 200" || CodeCRC.Error() != "protocol: crc mismatch" {
		t.Errorf("%q %q", Code(200).String(), CodeCRC.Error())
	}
	types := map[string]bool{}
	for _, ty := range allTypes {
		types[ty.String()] = true
	}
	if len(types) != len(allTypes) || Type(0).Known() || Type(0x10).Known() {
		t.Errorf("type names %v", types)
	}
	for _, ty := range allTypes {
		if ty.IsRequest() != (ty < 0x80) {
			t.Errorf("%v: IsRequest %v", ty, ty.IsRequest())
		}
	}
}

// TestNakErr: a NAK becomes an error that names the request, the code
// and the chip's text, survives the frame buffer's reuse, and matches
// its code with errors.Is.
func TestNakErr(t *testing.T) {
	raw, _ := Append(nil, 4, &Nak{Code: CodeImageInvalid, Request: TypeImageCommit, Text: []byte("pops[3].size: 0")})
	f, _, err := Decode(raw)
	var n Nak
	if err != nil || n.Unmarshal(f) != nil {
		t.Fatal(err)
	}
	e := n.Err()
	clear(raw) // the frame's buffer is reused
	if e.Error() != "chip refused IMAGE_COMMIT: image invalid: pops[3].size: 0" || !errors.Is(e, CodeImageInvalid) || errors.Is(e, CodeCRC) {
		t.Errorf("%v", e)
	}
	long := &Nak{Code: CodeInternal, Request: TypeRun, Text: []byte(strings.Repeat("x", 300))}
	raw, _ = Append(nil, 1, long)
	f, _, _ = Decode(raw)
	if err := n.Unmarshal(f); err != nil || len(n.Text) != MaxNakText {
		t.Errorf("long text: %d bytes, %v", len(n.Text), err)
	}
}

// TestHelloSupports: the kinds bitmask.
func TestHelloSupports(t *testing.T) {
	h := HelloOK{Kinds: KindBit(1) | KindBit(21)}
	if !h.Supports(1) || !h.Supports(21) || h.Supports(2) || h.Supports(70) || KindBit(64) != 0 {
		t.Errorf("kinds %#x", h.Kinds)
	}
}
