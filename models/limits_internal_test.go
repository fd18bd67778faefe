package models

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The count before parsing is a lower bound of the parsed count on every
// example and test network, so it never refuses a file within MaxNodes.
func TestNodesAtLeastIsALowerBound(t *testing.T) {
	var files []string
	for _, pat := range []string{"../examples/*.yaml", "../examples/*/*.yaml", "testdata/*.yaml"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	texts := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = data
	}
	texts["quotes and comments"] = []byte("a: 'x, [y' # , [ , -\nb: \"q\\\" ,\"\n- c: [1, 2,]\n- []\nd: it's, [1]\n")
	for name, data := range texts {
		var doc yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
			continue
		}
		if lo, n := nodesAtLeast(data), countNodes(&doc, 1<<40); lo > n {
			t.Errorf("%s: %d nodes counted before parsing, %d parsed", name, lo, n)
		}
	}
	if len(texts) < 5 {
		t.Errorf("only %d files", len(texts))
	}
}
