package firmware_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/spikeloop/spikeloop/firmware"

// exempt is the one package under firmware/ that is not chip code:
// firmware/emulator is host-side test equipment (the chip on hal/sim's
// SPI bus, a stream server, fault injection) and imports hal/sim, periph
// and the standard library freely. Nothing in the firmware may import
// it (TestImportAllowlist checks that too).
const exempt = module + "/emulator"

// allowed is what a firmware package's non-test code may import from
// the standard library: portable parts only.
var allowed = []string{"encoding/binary", "hash/crc32", "math/bits", "errors", "crypto/sha256", "math"}

func isAllowed(path string) bool {
	if path == module || strings.HasPrefix(path, module+"/") {
		return true
	}
	for _, a := range allowed {
		if path == a {
			return true
		}
	}
	return false
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run go list: ", err)
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = "."
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestImportAllowlist: every firmware package imports only the allowed
// standard packages and firmware's own, and nothing outside the
// standard library and firmware/ is among its dependencies.
func TestImportAllowlist(t *testing.T) {
	lines := goList(t, "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...")
	pkgs := 0
	var chipPkgs []string
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, ":")
		if pkg == exempt {
			continue
		}
		pkgs++
		chipPkgs = append(chipPkgs, pkg)
		for _, imp := range strings.Fields(imports) {
			if imp == exempt {
				t.Errorf("%s imports %s, which is host-side test equipment", pkg, imp)
			}
			if !isAllowed(imp) {
				t.Errorf("%s imports %s; firmware may import only %v and its own packages", pkg, imp, allowed)
			}
		}
	}
	if pkgs < 2 {
		t.Fatalf("go list found %d firmware packages: %q", pkgs, lines)
	}
	for _, line := range goList(t, append([]string{"-deps", "-f", `{{.ImportPath}} {{.Standard}}`}, chipPkgs...)...) {
		path, std, _ := strings.Cut(line, " ")
		if std != "true" && path != module && !strings.HasPrefix(path, module+"/") {
			t.Errorf("firmware depends on %s, which is neither the standard library nor firmware", path)
		}
	}
}

// TestChipCode: the firmware's non-test code declares no map types and
// starts no goroutines (and, with the allowlist, uses no fmt or
// reflect): a microcontroller port has none of them.
func TestChipCode(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "." || path == "emulator" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.MapType:
				t.Errorf("%s: a map type; the firmware uses slices", fset.Position(n.Pos()))
			case *ast.GoStmt:
				t.Errorf("%s: a go statement; the firmware runs on one thread", fset.Position(n.Pos()))
			case *ast.ImportSpec:
				if p := strings.Trim(n.Path.Value, `"`); !isAllowed(p) {
					t.Errorf("%s: imports %s", fset.Position(n.Pos()), p)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Fatalf("scanned %d files: the walk did not find the firmware's sources", files)
	}
}
