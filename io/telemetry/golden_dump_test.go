package telemetry

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// TestGoldenDump rewrites the golden byte tables from goldenValues after
// a deliberate format change, so the diff shows what changed:
//
//	SPIKELOOP_GOLDEN_DUMP=/tmp/g.go go test ./io/telemetry -run TestGoldenDump
//
// then paste the function into golden_raw_test.go and run gofmt.
func TestGoldenDump(t *testing.T) {
	path := os.Getenv("SPIKELOOP_GOLDEN_DUMP")
	if path == "" {
		t.Skip("set SPIKELOOP_GOLDEN_DUMP=FILE to write the golden tables")
	}
	var sb strings.Builder
	sb.WriteString("func goldenRaw() map[string][]byte {\n\treturn map[string][]byte{\n")
	for _, c := range goldenValues() {
		b, _ := c.want.MarshalMsg(nil)
		fmt.Fprintf(&sb, "\t\t%q: {\n", c.name)
		rest, err := annotate(&sb, b, 3)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: cannot annotate (%v, %d bytes left)", c.name, err, len(rest))
		}
		sb.WriteString("\t\t},\n")
	}
	sb.WriteString("\t}\n}\n")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hexb(b []byte) string {
	s := make([]string, len(b))
	for i, x := range b {
		s[i] = fmt.Sprintf("0x%02x", x)
	}
	return strings.Join(s, ", ") + ","
}

// annotate writes one line per msgpack token of b: its bytes, then a
// comment with the token, indented by nesting depth.
func annotate(sb *strings.Builder, b []byte, depth int) ([]byte, error) {
	ind := strings.Repeat("  ", depth-3)
	line := func(rest []byte, comment string) {
		fmt.Fprintf(sb, "\t\t\t%s // %s%s\n", hexb(b[:len(b)-len(rest)]), ind, comment)
	}
	var (
		rest []byte
		err  error
	)
	switch typ := msgp.NextType(b); typ {
	case msgp.MapType, msgp.ArrayType:
		var n uint32
		what, items := "map", uint32(2)
		if typ == msgp.MapType {
			n, rest, err = msgp.ReadMapHeaderBytes(b)
		} else {
			n, rest, err = msgp.ReadArrayHeaderBytes(b)
			what, items = "array", 1
		}
		if err != nil {
			return b, err
		}
		line(rest, fmt.Sprintf("%s, %d", what, n))
		for range n * items {
			if rest, err = annotate(sb, rest, depth+1); err != nil {
				return rest, err
			}
		}
		return rest, nil
	case msgp.StrType:
		var s string
		s, rest, err = msgp.ReadStringBytes(b)
		line(rest, fmt.Sprintf("%q", s))
	case msgp.Float64Type:
		var f float64
		f, rest, err = msgp.ReadFloat64Bytes(b)
		line(rest, fmt.Sprintf("float64 %g", f))
	case msgp.IntType:
		var i int64
		i, rest, err = msgp.ReadInt64Bytes(b)
		line(rest, fmt.Sprintf("int %d", i))
	case msgp.UintType:
		var u uint64
		u, rest, err = msgp.ReadUint64Bytes(b)
		line(rest, fmt.Sprintf("uint %d", u))
	case msgp.BoolType:
		var v bool
		v, rest, err = msgp.ReadBoolBytes(b)
		line(rest, fmt.Sprint(v))
	case msgp.NilType:
		rest = b[1:]
		line(rest, "nil")
	default:
		return b, fmt.Errorf("no annotation for msgpack type %v", typ)
	}
	return rest, err
}
