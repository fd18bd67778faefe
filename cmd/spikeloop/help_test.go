package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/daemon"
)

// TestHelp: -h, --help and help on every command and subcommand print
// its usage on stdout, with its arguments and its flags written --flag,
// and exit 0.
func TestHelp(t *testing.T) {
	singleDash := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, c := range []struct {
		cmd  []string
		want []string // in the usage
	}{
		{[]string{"run"}, []string{"usage: spikeloop run", "--config FILE", "--duration", "--record FILE", "--no-telemetry", "arguments: none"}},
		{[]string{"sim"}, []string{"usage: spikeloop sim FILE --out DIR", "--replay REC", "FILE    the network file", "--input NAME=FILE", "--out DIR", "--duration", "removes"}},
		{[]string{"check"}, []string{"usage: spikeloop check FILE", "spikeloop check --config FILE", "FILE    the network file", "--config FILE"}},
		{[]string{"bench"}, []string{"usage: spikeloop bench loop", "bench loop --help"}},
		{[]string{"bench", "loop"}, []string{"usage: spikeloop bench loop", "--rate HZ", "--spin", "--cpu N", "--priority P", "--no-telemetry", "arguments: none"}},
		{[]string{"models"}, []string{"usage: spikeloop models [CLASS]", "CLASS   a class name"}},
		{[]string{"version"}, []string{"usage: spikeloop version", "spikeloop --version"}},
	} {
		for _, h := range []string{"-h", "--help", "-help", "help"} {
			forms := [][]string{append(append([]string{}, c.cmd...), h)}
			if h == "help" {
				forms = append(forms, append([]string{"help"}, c.cmd...))
			}
			for _, args := range forms {
				code, out, errs := runCmd(t, args...)
				if code != 0 || errs != "" {
					t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", args, code, errs)
					continue
				}
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("%v: usage lacks %q:\n%s", args, w, out)
					}
				}
				if singleDash.MatchString(out) {
					t.Errorf("%v: a flag is written -flag, not --flag:\n%s", args, out)
				}
			}
		}
	}
	// --help wins wherever it is, after a FILE and other flags too.
	for _, args := range [][]string{
		{"sim", "net.yaml", "--out", "d", "--help"},
		{"check", "net.yaml", "-h"},
		{"models", "LIF", "--help"},
		{"bench", "loop", "--rate", "2000", "-h"},
	} {
		if code, out, errs := runCmd(t, args...); code != 0 || !strings.HasPrefix(out, "usage: spikeloop "+args[0]) || errs != "" {
			t.Errorf("%v: exit %d, stdout %.40q, stderr %q", args, code, out, errs)
		}
	}
	// The top level.
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "--help"}} {
		code, out, _ := runCmd(t, args...)
		if code != 0 || !strings.Contains(out, "check --config FILE") || !strings.Contains(out, `"spikeloop COMMAND --help"`) {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	if code, _, errs := runCmd(t, "help", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, stderr %q", code, errs)
	}
}

func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		code, out, errs := runCmd(t, args...)
		if code != 0 || !strings.HasPrefix(out, "spikeloop ") || strings.Count(out, "\n") != 1 || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, _, errs := runCmd(t, "version", "extra"); code != 2 || !strings.Contains(errs, `unexpected argument "extra"`) {
		t.Errorf("version extra: exit %d, stderr %q", code, errs)
	}
}

// TestFlagErrorsOnce: a bad flag is one line naming it as --flag and a
// hint to --help, exit 2, and no flag list.
func TestFlagErrorsOnce(t *testing.T) {
	for _, c := range []struct {
		args []string
		cmd  string
		msg  string
	}{
		{[]string{"sim", "net.yaml", "--out", "d", "--duration", "50"}, "sim", `--duration: must have a unit, e.g. 50ms or 50s, got "50"`},
		{[]string{"sim", "net.yaml", "--out", "d", "--duration", "soon"}, "sim", `--duration: must be a number and a unit, e.g. 500ms, 1.5s or 2m, got "soon"`},
		{[]string{"sim", "net.yaml", "--bogus"}, "sim", "unknown flag --bogus"},
		{[]string{"sim", "net.yaml", "--out"}, "sim", "--out needs a value"},
		{[]string{"sim", "net.yaml", "--out", "d", "--segment", "two"}, "sim", `--segment: must be a whole number, got "two"`},
		{[]string{"sim", "net.yaml", "--out", "d", "--quiet=maybe"}, "sim", `--quiet: must be true or false (a switch: --quiet alone turns it on), got "maybe"`},
		{[]string{"run", "--duration", "5"}, "run", `--duration: must have a unit, e.g. 5ms or 5s, got "5"`},
		{[]string{"run", "-x"}, "run", "unknown flag --x"},
		{[]string{"run", "demo.yaml"}, "run", `unexpected argument "demo.yaml" (the config is --config FILE)`},
		{[]string{"check", "--verbose", "net.yaml"}, "check", "unknown flag --verbose"},
		{[]string{"check", "--config"}, "check", "--config needs a value"},
		{[]string{"models", "--all"}, "models", "unknown flag --all"},
		{[]string{"version", "--short"}, "version", "unknown flag --short"},
		{[]string{"bench", "loop", "--rate", "fast"}, "bench loop", `--rate: must be a number, got "fast"`},
		{[]string{"bench", "loop", "--duration", "60"}, "bench loop", `--duration: must have a unit, e.g. 60ms or 60s, got "60"`},
		{[]string{"bench", "--rate", "1000"}, "bench", `subcommand: must be "bench loop" or "bench engine", got "--rate"`},
		{[]string{"bench", "engine", "--threads", "0"}, "bench engine", `--threads: must be 1..64, got 0`},
	} {
		code, out, errs := runCmd(t, c.args...)
		want := "spikeloop " + c.cmd + ": " + c.msg
		hint := `see "spikeloop ` + c.cmd + ` --help"` + "\n"
		if code != 2 || out != "" || !strings.HasPrefix(errs, want) || !strings.HasSuffix(errs, hint) || strings.Count(errs, "\n") != 2 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", c.args, code, out, errs, want+hint)
		}
	}
	for _, args := range [][]string{{"--bogus"}, {"frobnicate"}} {
		code, _, errs := runCmd(t, args...)
		if code != 2 || strings.Count(errs, "\n") != 2 || !strings.HasSuffix(errs, "see \"spikeloop --help\"\n") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// "--" ends the flags: a file named like a flag can be given after it.
func TestDoubleDash(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "-net.yaml")
	starter, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(net, starter, 0o644)
	t.Chdir(dir)
	if code, out, errs := runCmd(t, "check", "--", "-net.yaml"); code != 0 || !strings.Contains(out, "valid network file") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestFormatVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "b93d58c12345aaaabbbbccccddddeeeeffff0000"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "b93d58c12345aaaabbbbccccddddeeeeffff0000"}, {Key: "vcs.modified", Value: "true"}}
	for _, c := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		// go build in a checkout: the pseudo-version carries the commit.
		{"v0.0.0-20261204201954-b93d58c12345", rev, "v0.0.0-20261204201954-b93d58c12345"},
		{"v0.0.0-20261204201954-b93d58c12345+dirty", dirty, "v0.0.0-20261204201954-b93d58c12345+dirty"},
		// A version without the commit gets it once.
		{"(devel)", rev, "(devel) b93d58c12345"},
		{"(devel)", dirty, "(devel) b93d58c12345+dirty"},
		{"v1.2.0", rev, "v1.2.0 b93d58c12345"},
		// No VCS stamp (go run, go test, -buildvcs=false).
		{"(devel)", nil, "(devel)"},
		{"v1.2.0", nil, "v1.2.0"},
		{"", nil, "(devel)"},
	} {
		if got := formatVersion(c.main, c.settings); got != c.want {
			t.Errorf("formatVersion(%q, %v) = %q, want %q", c.main, c.settings, got, c.want)
		}
		if got := formatVersion(c.main, c.settings); strings.Count(got, "b93d58c12345") > 1 {
			t.Errorf("formatVersion(%q) = %q: the commit twice", c.main, got)
		}
	}
}

// TestCheckConfig: check --config validates a daemon config: the
// shipped demo is valid (exit 0), a bad one is exit 1 with FILE:LINE.
func TestCheckConfig(t *testing.T) {
	demo := filepath.Join("..", "..", "examples", "demo", "spikeloop.yaml")
	code, out, errs := runCmd(t, "check", "--config", demo)
	if code != 0 || !strings.Contains(out, "spikeloop.yaml") {
		t.Errorf("demo config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// The config given as a network file: the error says to use --config.
	code, _, errs = runCmd(t, "check", demo)
	if want := `"spikeloop check --config ` + demo + `" checks it`; code != 1 || !strings.Contains(errs, want) {
		t.Errorf("check CONFIG: exit %d, stderr %q; want 1 and %q", code, errs, want)
	}
	dir := t.TempDir()
	conf, network := daemon.DemoFiles()
	bad := filepath.Join(dir, "bad.yaml")
	conf = append(conf, "tick_rate: 1000\n"...)
	if err := os.WriteFile(bad, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "braitenberg.yaml"), network, 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(conf), "\n")
	code, out, errs = runCmd(t, "check", "--config", bad)
	if want := bad + ":" + strconv.Itoa(line) + ":"; code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "tick_rate") {
		t.Errorf("bad config: exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errs, want)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"check", "--config", ""}, "--config needs a FILE"},
		{[]string{"check", "--config", demo, "net.yaml"}, `give a network FILE or --config FILE, not both (got "net.yaml")`},
		{[]string{"check", "a.yaml", "b.yaml"}, "want exactly one network FILE"},
	} {
		if code, _, errs := runCmd(t, c.args...); code != 2 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.msg)
		}
	}
	if code, _, errs := runCmd(t, "check", "--config", filepath.Join(dir, "none.yaml")); code != 1 || !strings.Contains(errs, "none.yaml") {
		t.Errorf("missing config: exit %d, stderr %q", code, errs)
	}
}
