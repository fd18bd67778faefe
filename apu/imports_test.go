package apu_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The cpu engine is one backend among others: outside apu/ (where the
// backends live) and cmd/ (which registers them), no package imports it;
// they open a backend by name (apu.Open). Tests may (they run on it).
// The check parses the module's files, so it needs no network or go
// command.
func TestOnlyApuAndCmdImportCPU(t *testing.T) {
	const cpuPath = "github.com/spikeloop/spikeloop/apu/cpu"
	root := filepath.Join("..")
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "apu" || rel == "cmd" || strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == cpuPath {
				t.Errorf("%s imports %s: outside apu/ and cmd/, open a backend by name (apu.Open)", rel, cpuPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d files: the walk did not find the module's packages", checked)
	}
}
