package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoFloat parses every non-test Go file of the package and fails on
// any floating-point type (float32, float64, complex64, complex128), any
// float or imaginary literal, a call of the complex/real/imag builtins,
// and an import of "math" (math/bits is fine). The chip's code must run
// on cores without an FPU and must round the same way everywhere; a
// float that slipped in would compile and pass every other test on the
// host while giving different bits on the chip. Scanning the source was
// chosen over the compiled symbols (which differ per GOARCH and would
// catch runtime helpers we did not write) and over a build tag (which
// cannot forbid a type): the rule is about the code we write, and the
// parser sees exactly that. Arithmetic on untyped integer constants is
// integer in Go, so nothing escapes through constants.
func TestNoFloat(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range floatUses(t, name, src) {
			t.Errorf("%s", bad)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("scanned %d files; expected the engine's sources", checked)
	}
}

// floatUses lists the float constructs in one file, as "file:line: what".
func floatUses(t *testing.T, name string, src []byte) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	report := func(n ast.Node, what string) {
		bad = append(bad, fset.Position(n.Pos()).String()+": "+what)
	}
	for _, im := range f.Imports {
		if p, _ := strconv.Unquote(im.Path.Value); p == "math" || p == "math/cmplx" || p == "strconv" || p == "fmt" {
			report(im, "imports "+p)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			switch x.Name {
			case "float32", "float64", "complex64", "complex128", "complex", "real", "imag":
				report(x, "uses "+x.Name)
			}
		case *ast.BasicLit:
			if x.Kind == token.FLOAT || x.Kind == token.IMAG {
				report(x, "float literal "+x.Value)
			}
		}
		return true
	})
	return bad
}

// TestNoFloatCatches proves the scan sees what it is meant to see.
func TestNoFloatCatches(t *testing.T) {
	for _, src := range []string{
		"package x\nvar a float64",
		"package x\nfunc f() { _ = 1.5 }",
		"package x\nfunc f(x int32) int32 { return int32(float32(x)) }",
		"package x\nimport \"math\"\nvar a = math.MaxInt32",
		"package x\nvar c = 2i",
	} {
		if len(floatUses(t, "x.go", []byte(src))) == 0 {
			t.Errorf("not caught: %q", src)
		}
	}
	if bad := floatUses(t, "x.go", []byte("package x\nimport \"math/bits\"\nvar a = bits.Len(3) >> 1")); len(bad) != 0 {
		t.Errorf("integer code flagged: %v", bad)
	}
}
