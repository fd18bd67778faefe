package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A command's flags are parsed by a flag.FlagSet that prints nothing:
// run prints a flag error once, as "spikeloop CMD: ...", with a hint to
// "spikeloop CMD --help", and -h/--help prints the command's usage (doc
// plus its flags, written --flag) on stdout with exit status 0.

// usageError is bad usage: exit status 2, with a hint to --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// helpRequest is -h or --help: run prints text on stdout, exit status 0.
type helpRequest struct{ text string }

func (helpRequest) Error() string { return "help requested" }

// cmdDoc is what a command's --help says before its flags.
type cmdDoc struct {
	// usage lines, each after "spikeloop ".
	usage []string
	// text: what the command does, its arguments; ends with a newline.
	text string
}

// newFlags returns a silent flag set for the command name.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args into fs and returns the positional arguments.
// Flags may come before or after them (the README writes `spikeloop sim
// FILE --out DIR`); "--" ends the flags. -h, -help and --help anywhere
// return a helpRequest with doc's text; a bad flag a usageError naming
// it as --flag.
func parseFlags(fs *flag.FlagSet, doc cmdDoc, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequest{helpText(fs, doc)}
			}
			return nil, usageError{flagError(fs, err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first positional argument or after
		// "--"; after "--" every argument is positional.
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

var (
	reUnknown  = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	reNeedsArg = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	reBadBool  = regexp.MustCompile(`^invalid boolean value (".*") for -+([^:\s]+): (.*)$`)
	reBadValue = regexp.MustCompile(`^invalid value (".*") for flag -+([^:\s]+): (.*)$`)
)

// flagError rewrites an error of the flag package in the words of the
// usage: --flag, and the value's own message when it names the value.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if m := reUnknown.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown flag --%s", m[1])
	}
	if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s needs a value", m[1])
	}
	if m := reBadBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s: must be true or false (a switch: --%s alone turns it on), got %s", m[2], m[2], m[1])
	}
	if m := reBadValue.FindStringSubmatch(msg); m != nil {
		value, name, cause := m[1], m[2], m[3]
		if strings.Contains(cause, value) {
			return fmt.Sprintf("--%s: %s", name, cause)
		}
		if cause == "parse error" || cause == "value out of range" {
			want := "a number"
			if f := fs.Lookup(name); f != nil && strings.Contains(fmt.Sprintf("%T", f.Value), "int") {
				want = "a whole number"
			}
			return fmt.Sprintf("--%s: must be %s, got %s", name, want, value)
		}
		return fmt.Sprintf("--%s: %s: %s", name, value, cause)
	}
	return msg
}

// helpText is a command's --help: usage lines, doc text and the flags.
func helpText(fs *flag.FlagSet, doc cmdDoc) string {
	var b strings.Builder
	for i, u := range doc.usage {
		if i == 0 {
			b.WriteString("usage: spikeloop ")
		} else {
			b.WriteString("       spikeloop ")
		}
		b.WriteString(u)
		b.WriteByte('\n')
	}
	if doc.text != "" {
		b.WriteByte('\n')
		b.WriteString(doc.text)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return b.String()
	}
	b.WriteString("\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if a, ok := f.Value.(interface{ argName() string }); ok && arg == "value" {
			arg = a.argName()
		}
		fmt.Fprintf(&b, "  --%s", f.Name)
		if arg != "" {
			b.WriteString(" " + arg)
		}
		b.WriteString("\n        ")
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n        "))
		if showDefault(f, usage) {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

func showDefault(f *flag.Flag, usage string) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return false
	}
	return !strings.Contains(usage, "default")
}

// durationValue is a duration flag whose error says what is wrong: a
// number without a unit is the common mistake.
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) argName() string { return "duration" }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return fmt.Errorf("must have a unit, e.g. %sms or %ss, got %q", s, s, s)
		}
		return fmt.Errorf("must be a number and a unit, e.g. 500ms, 1.5s or 2m, got %q", s)
	}
	*d = durationValue(v)
	return nil
}

// durationFlag defines a duration flag with durationValue's errors.
func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = def
	fs.Var((*durationValue)(p), name, usage)
	return p
}
