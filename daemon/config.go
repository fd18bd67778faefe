package daemon

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/models"
)

// Config is the daemon's YAML config. README.md ("The daemon config")
// documents every field. Parse and LoadConfig check it completely,
// including the network file and the board's part names, before
// anything is opened: a config that passes never fails at wiring time
// for a reason that could have been seen in the file.
type Config struct {
	// Board is hal's board section (hal/CONFIG.md).
	Board hal.Config `yaml:"board"`
	// Plant is the simulated world around a "sim" board; ignored (and
	// refused) with driver "periph".
	Plant PlantConfig `yaml:"plant"`
	// Network is the network file, relative to the config file's folder.
	Network string `yaml:"network"`
	// Backend is where the network runs: a registered name (apu.Open;
	// absent: "cpu", the in-process engine), or a mapping with the kind
	// and a chip's link (link.go).
	Backend BackendConfig `yaml:"backend"`
	// Tick is the control period, e.g. "1ms": sensors are read and
	// actuators written once per tick. It must be a whole number of
	// network steps (dt).
	Tick string `yaml:"tick"`
	// StaleTicks is how many ticks in a row an input may fail before the
	// outputs go to their safe values (0: the first failed read).
	StaleTicks int            `yaml:"stale_ticks"`
	Inputs     []InputConfig  `yaml:"inputs"`
	Outputs    []OutputConfig `yaml:"outputs"`
	Logging    LoggingConfig  `yaml:"logging"`
	Realtime   RealtimeConfig `yaml:"realtime"`
	// Telemetry is MQTT telemetry, commands and metrics; absent: none.
	Telemetry *TelemetryConfig `yaml:"telemetry"`

	// Filled by Parse: where the config came from, its YAML tree (for
	// line numbers), and the loaded network.
	file string
	root *yaml.Node
	// netData, when set, is the network file's content (the embedded
	// demo); otherwise Network is read from disk.
	netData []byte
	data    []byte // the config file's content, for Clone
	net     *models.Network
	tick    time.Duration
	steps   int // network steps per tick
	used    bool
	// carried is what the previous run's plant handed this run across a
	// reload (plantKind.carry); nil for a first run.
	carried any
	// pinNote says why the board's names were not looked up on this
	// host (driver periph on a machine without GPIO); "" when they were.
	pinNote string
	// files are the file inputs' contents, kept (as netData) so that
	// Clone gives the same rows, and where the first of them with
	// at_end stop ends (input_file.go).
	files inputFiles
}

// InputConfig is one input: a board part read every tick and encoded
// into a population, or (encoder file) the rows of an input file fed to
// an InputTransmitter, one per network step.
type InputConfig struct {
	Name string `yaml:"name"`
	// Part is an ADC channel (its voltage is the value) or a digital
	// input (0 or 1) of the board section; none for encoder file.
	Part string `yaml:"part"`
	// Population is an InputTransmitter (current, rate, delta, file), a
	// DCGenerator (dc) or a CustomGenerator (custom) of the network.
	Population string `yaml:"population"`
	// Encoder is "current", "rate", "delta", "dc", "custom" or "file"
	// (input_file.go: no part, the values of File).
	Encoder string `yaml:"encoder"`
	// Gain and Offset scale the value: current and dc use
	// gain*value+offset clamped to [min, max]; rate fires at gain*value Hz.
	Gain   float64 `yaml:"gain"`
	Offset float64 `yaml:"offset"`
	Min    float64 `yaml:"min"`
	Max    float64 `yaml:"max"`
	// MaxHz caps the rate encoder (default and upper bound 1/dt).
	MaxHz float64 `yaml:"max_hz"`
	// Step is the delta encoder's change per spike, > 0.
	Step float64 `yaml:"step"`
	// Seed fixes the rate encoder's spikes; 0 derives one from the
	// network's seed and the input's index.
	Seed uint64 `yaml:"seed"`
	// Safe is the value used when a read fails.
	Safe float64 `yaml:"safe"`
	// File is the file encoder's .npy or .csv file (relative to the
	// config's folder), read as `spikeloop sim --input` reads it: row k
	// feeds the InputTransmitter in network step k.
	File string `yaml:"file"`
	// AtEnd is what the file encoder does after the last row: "stop"
	// (default: the loop stops), "repeat" (from row 0 again) or "zeros"
	// (no input; the loop runs on).
	AtEnd string `yaml:"at_end"`
	// BatchIndex picks the batch element a batched file feeds (from 0);
	// a file with a batch of more than one needs it.
	BatchIndex *int `yaml:"batch_index"`

	// rows are the file encoder's rows (one batch element), set by the
	// check (or read from a recording).
	rows [][]float64
}

// OutputConfig is one actuator: the spikes of a population decoded into
// a board part every tick.
type OutputConfig struct {
	Name string `yaml:"name"`
	// Part is a digital output (pulse), a PWM output (rate) or a DAC
	// channel (vector) of the board section.
	Part       string `yaml:"part"`
	Population string `yaml:"population"`
	// Decoder is "pulse", "rate" or "vector".
	Decoder string `yaml:"decoder"`
	// Width is the pulse length, a whole number of ticks (default one
	// tick).
	Width string `yaml:"width"`
	// Window is the sliding window of rate and vector, a whole number of
	// ticks (default one tick).
	Window string `yaml:"window"`
	// Gain (duty per Hz), Min and Max (duty, 0..1) shape the rate
	// decoder; Min and Max default to 0 and 1.
	Gain float64  `yaml:"gain"`
	Min  *float64 `yaml:"min"`
	Max  *float64 `yaml:"max"`
	// From and To are the vector decoder's preferred values (volts) of
	// the first and last unit.
	From float64 `yaml:"from"`
	To   float64 `yaml:"to"`
	// Safe is the duty (rate) or volts (vector) written on stop, fault
	// and stale input. A pulse output's safe level is the board
	// output's own safe level.
	Safe float64 `yaml:"safe"`
}

// LoggingConfig sets the log.
type LoggingConfig struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
	// Format is "auto" (default: console on a terminal, JSON
	// otherwise), "console" or "json".
	Format string `yaml:"format"`
}

// RealtimeConfig asks for real-time scheduling of the loop's thread.
// Both are best effort: when the system refuses (no CAP_SYS_NICE, no
// such CPU) the daemon logs why and runs anyway.
type RealtimeConfig struct {
	// CPU pins the loop's thread to this CPU; absent: no pinning.
	CPU *int `yaml:"cpu"`
	// Priority 1..99 runs the loop's thread under SCHED_FIFO at that
	// priority; 0 (default) keeps the normal scheduler.
	Priority int `yaml:"priority"`
	// Spin, e.g. "200us", ends each sleep that much before the deadline
	// and waits out the rest busy, so that the wake-up lateness of the
	// OS timer (tens of µs, more on a virtual machine) does not reach
	// the tick. It costs up to Spin of CPU per tick; meant for a core
	// given to the loop (cpu, priority). 0 (default): sleep only.
	Spin time.Duration `yaml:"spin"`
	// Threads, when above 1, runs each network step on that many threads
	// (the loop's and Threads-1 workers, pinned to the CPUs other than
	// cpu when cpu is set), with the same results as one thread. 0 or 1
	// (default): the loop's thread alone.
	Threads int `yaml:"threads"`
}

// workerCPUs are the CPUs the engine's extra threads are pinned to: all
// but the loop's, when the loop is pinned; nil otherwise.
func (r RealtimeConfig) workerCPUs() []int {
	if r.CPU == nil {
		return nil
	}
	var cpus []int
	for c := range runtime.NumCPU() {
		if c != *r.CPU {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// check reports each realtime field out of range through add (the
// config's checker, or BenchLoop's, which sets the section itself); tick
// 0 means not known (its own error is reported).
func (r RealtimeConfig) check(tick time.Duration, add func(field string, sentinel error, format string, args ...any)) {
	if p := r.CPU; p != nil && (*p < 0 || *p >= 1024) {
		add("realtime.cpu", ErrRange, "must be a CPU number 0..1023, got %d", *p)
	}
	if sp := r.Spin; sp < 0 || (tick > 0 && sp >= tick) {
		add("realtime.spin", ErrRange, "must be 0 <= spin < tick (%v), got %v", tick, sp)
	}
	if p := r.Priority; p < 0 || p > 99 {
		add("realtime.priority", ErrRange, "must be 1..99 for SCHED_FIFO, or 0, got %d", p)
	}
	if n := r.Threads; n < 0 || n > 64 {
		add("realtime.threads", ErrRange, "must be 0..64 (0 or 1: one thread), got %d", n)
	}
}

// FieldError is one config problem: the field's path in the YAML, the
// line it is on (0 if the field is absent and has no parent line) and
// the cause. Its text is "FILE:LINE: field.path: what is wrong;
// expected ...", the form of the network file's errors.
type FieldError struct {
	File  string
	Line  int
	Field string // "" for the file as a whole
	Err   error
}

func (e *FieldError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Sentinel errors of the config; every FieldError wraps one (errors.Is).
// The first four are hal's own values, not copies, so that one test
// classifies a problem whichever layer found it: errors.Is(err,
// daemon.ErrRange) holds for a board pin out of range as for a tick
// period out of range. The sentinel classifies; it is not repeated in
// the message.
var (
	ErrRequired = hal.ErrRequired
	ErrInvalid  = hal.ErrInvalid
	ErrRange    = hal.ErrRange
	ErrNotFound = hal.ErrNotFound
	ErrMismatch = errors.New("does not fit")
	// ErrUnknown: a field the config does not have (a typo, or a field
	// of another section).
	ErrUnknown = errors.New("unknown field")
	// ErrType: a value of the wrong type (a word where a number goes, a
	// list where a mapping goes) or a YAML syntax error.
	ErrType = errors.New("wrong type")
)

// problem is a FieldError's cause: msg says what is wrong and what is
// expected; kind is the sentinel it wraps for errors.Is.
type problem struct {
	msg  string
	kind error
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.kind }

// LoadConfig reads and checks the config file at path.
func LoadConfig(path string) (*Config, error) {
	data, tooBig, err := readAtMost(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("daemon: config: %w", err)
	}
	if tooBig {
		return nil, configTooLarge(path)
	}
	return Parse(data, path, nil)
}

// MaxConfigBytes bounds a config file's size, checked before it is read
// (LoadConfig) or parsed (Parse): the shipped configs are 3-4 kB, and
// the parsed YAML costs about 350 bytes per node, so a reload of a huge
// file must be refused before it takes the running daemon's memory.
const MaxConfigBytes = 1 << 20

func configTooLarge(path string) error {
	return fmt.Errorf("daemon: config %s: more than %d bytes (MaxConfigBytes); a config is a few kB", path, MaxConfigBytes)
}

// topFields lists the config's top-level fields for the message of an
// empty or malformed file.
var topFields = strings.Join(yamlFields(reflect.TypeFor[Config]()).names, ", ")

// Parse decodes data and checks every field, reporting every problem at
// once (errors.Join of *FieldError): unknown fields (with the valid
// names), values of the wrong type, values out of range, the network
// file's own errors, and the board's pins and SPI ports looked up on the
// host by name (driving nothing). file names the config in messages and
// is the base of a relative network path; netData, if not nil, is the
// network file's content (then Network only names it).
func Parse(data []byte, file string, netData []byte) (*Config, error) {
	if len(data) > MaxConfigBytes {
		return nil, configTooLarge(file)
	}
	return parseWith(data, file, netData, nil)
}

// parseWith is Parse with the file inputs' contents by path (nil: read them).
func parseWith(data []byte, file string, netData []byte, inputData map[string][]byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlSyntaxError(file, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || (root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Tag == "!!null") {
		return nil, &FieldError{File: file, Err: &problem{"the config: must be a mapping with " + topFields + ", got an empty file", ErrRequired}}
	}
	if top := root.Content[0]; top.Kind != yaml.MappingNode {
		return nil, &FieldError{File: file, Line: top.Line, Err: &problem{"the config: must be a mapping with " + topFields + ", got " + describeNode(top), ErrType}}
	}
	c := &Config{}
	c.file, c.root, c.netData, c.data = file, &root, netData, data
	c.files.data = inputData
	k := &checker{c: c}
	// The walk reports unknown fields itself, so that one typo does not
	// hide the rest of the file (yaml's KnownFields stops at the first);
	// yaml's own type errors are collected, not fatal, and mapped to
	// their field by the nodes the walk saw.
	k.schema(root.Content[0], reflect.TypeFor[Config](), "")
	if err := root.Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, m := range te.Errors {
			k.typeError(m)
		}
	}
	c.check(k)
	if err := joinCapped(k.errs, maxListed); err != nil {
		return nil, err
	}
	return c, nil
}

// maxListed is how many problems a config error lists: a generated
// config with 200,000 bad entries made an 18 MB message otherwise.
const maxListed = 20

// joinCapped joins the first n of errs and says how many more there are.
func joinCapped(errs []error, n int) error {
	if len(errs) <= n {
		return errors.Join(errs...)
	}
	shown := append(errs[:n:n], fmt.Errorf("... and %d more problems (the first %d are listed)", len(errs)-n, n))
	return errors.Join(shown...)
}

// Clone parses the same config and network content again, giving a
// fresh Config (with a fresh network state) for another run; it does
// not read the files again.
func (c *Config) Clone() (*Config, error) {
	return parseWith(c.data, c.file, c.netData, c.files.data)
}

// readNetwork reads the network file unless it is longer than
// models.DefaultLimits.MaxFileBytes (tooBig), which the loader would
// refuse: a reload of a huge file must not take the running daemon's
// memory on the way.
func readNetwork(path string) (data []byte, tooBig bool, err error) {
	return readAtMost(path, models.DefaultLimits.MaxFileBytes)
}

// readAtMost reads path unless it is longer than limit (tooBig). The
// size is taken before reading, and the read stops one byte past the
// limit (a file that grows meanwhile, a pipe).
func readAtMost(path string, limit int64) (data []byte, tooBig bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, true, nil
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return nil, true, nil
	}
	return data, false, nil
}

// outputPops are the output populations, in config order.
func (c *Config) outputPops() []string {
	var pops []string
	for _, o := range c.Outputs {
		pops = append(pops, o.Population)
	}
	return pops
}

// LoadedNetwork is the loaded network (set by Parse).
func (c *Config) LoadedNetwork() *models.Network { return c.net }

// TickDuration is the parsed tick.
func (c *Config) TickDuration() time.Duration { return c.tick }

// StepsPerTick is tick/dt.
func (c *Config) StepsPerTick() int { return c.steps }

// checker collects FieldErrors with their lines.
type checker struct {
	c    *Config
	errs []error
	// nodes are the value nodes the schema walk saw, with their field
	// path and Go type, to name the field of a yaml type error.
	nodes []fieldNode
	// bad are fields whose value could not be decoded: the checks skip
	// them (and what is below them), as their zero value would only give
	// a second, misleading error.
	bad map[string]bool
}

type fieldNode struct {
	n    *yaml.Node
	path string
	t    reflect.Type
}

// add reports "field: format" (format reads "must be X, got V"), classified by
// sentinel. An empty format gives the sentinel's text.
func (k *checker) add(field string, sentinel error, format string, args ...any) {
	k.addAt(lineOf(k.c.root, field), field, sentinel, format, args...)
}

func (k *checker) addAt(line int, field string, sentinel error, format string, args ...any) {
	if k.skip(field) {
		return
	}
	var err error = sentinel
	if format != "" {
		err = &problem{fmt.Sprintf(format, args...), sentinel}
	}
	k.errs = append(k.errs, &FieldError{File: k.c.file, Line: line, Field: field, Err: err})
}

// skip tells whether field is at or below a field that failed to decode
// or was reported already by an earlier pass (hal's checks).
func (k *checker) skip(field string) bool {
	for b := range k.bad {
		if field == b || strings.HasPrefix(field, b+".") || strings.HasPrefix(field, b+"[") {
			return true
		}
	}
	return false
}

func (k *checker) markBad(field string) {
	if k.bad == nil {
		k.bad = map[string]bool{}
	}
	k.bad[field] = true
}

// halError reports one of hal's board errors with its line; hal's
// FieldError reads "field: detail" ("must be X, got V"); the detail is
// shown here after FILE:LINE: field.
func (k *checker) halError(e error) {
	var fe *hal.FieldError
	if !errors.As(e, &fe) {
		k.errs = append(k.errs, fmt.Errorf("%s: %w", k.c.file, e))
		return
	}
	if k.skip(fe.Field) {
		return
	}
	err := fe.Err
	var d interface{ Detail() string }
	if errors.As(err, &d) && d.Detail() != "" {
		err = &problem{d.Detail(), err}
	}
	k.errs = append(k.errs, &FieldError{File: k.c.file, Line: lineOf(k.c.root, fe.Field), Field: fe.Field, Err: err})
}

// schema walks the YAML tree n against the Go type t: every mapping key
// must be a field of the struct (by its yaml tag); an unknown one is
// reported with the valid names and the closest one.
func (k *checker) schema(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	k.nodes = append(k.nodes, fieldNode{n, path, t})
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fs := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			f := joinPath(path, key.Value)
			ft, ok := fs.types[key.Value]
			if !ok {
				msg := "unknown field; "
				if s := closest(key.Value, fs.names); s != "" {
					msg += fmt.Sprintf("did you mean %q? ", s)
				}
				where := "the config"
				if path != "" {
					where = path
				}
				k.addAt(key.Line, f, ErrUnknown, "%sfields of %s: %s", msg, where, strings.Join(fs.names, ", "))
				continue
			}
			k.schema(val, ft, f)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, it := range n.Content {
			k.schema(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k.schema(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value))
		}
	}
}

// structFields are a struct's yaml field names, in declaration order,
// and their types.
type structFields struct {
	names []string
	types map[string]reflect.Type
}

func yamlFields(t reflect.Type) structFields {
	fs := structFields{types: map[string]reflect.Type{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			in := yamlFields(f.Type)
			fs.names = append(fs.names, in.names...)
			maps.Copy(fs.types, in.types)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs.names = append(fs.names, name)
		fs.types[name] = f.Type
	}
	return fs
}

// typeErrRE splits yaml's "line 3: cannot unmarshal !!str `abc` into
// int" into the line, the YAML tag and the value.
var (
	typeErrRE = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	lineErrRE = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// typeError reports one of yaml's decoding errors at its field: the
// node on that line with that value, found in the schema walk.
func (k *checker) typeError(msg string) {
	m := typeErrRE.FindStringSubmatch(msg)
	if m == nil {
		line := 0
		if lm := lineErrRE.FindStringSubmatch(msg); lm != nil {
			line, _ = strconv.Atoi(lm[1])
			msg = lm[2]
		}
		k.errs = append(k.errs, &FieldError{File: k.c.file, Line: line, Err: &problem{msg, ErrType}})
		return
	}
	line, _ := strconv.Atoi(m[1])
	var hit *fieldNode
	for i := range k.nodes {
		fn := &k.nodes[i]
		if fn.n.Line == line && fn.n.Tag == m[2] && (m[3] == "" || fn.n.Value == m[3] || strings.HasPrefix(fn.n.Value, strings.TrimSuffix(m[3], "..."))) {
			hit = fn // the deepest such node: the walk visits parents first
		}
	}
	if hit == nil {
		k.errs = append(k.errs, &FieldError{File: k.c.file, Line: line, Err: &problem{msg, ErrType}})
		return
	}
	k.addAt(line, hit.path, ErrType, "must be %s, got %s", expectedOf(hit.t), describeNode(hit.n))
	k.markBad(hit.path)
}

// expectedOf names what a value of Go type t looks like in YAML.
func expectedOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Duration]() {
		return `a duration such as "200us"`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number >= 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Array:
		return fmt.Sprintf("a list of %d %s", t.Len(), strings.TrimPrefix(expectedOf(t.Elem()), "a "))
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "a mapping with " + strings.Join(yamlFields(t).names, ", ")
	case reflect.Map:
		return "a mapping"
	}
	return t.String()
}

// describeNode shows a YAML value in a message, as the network file's
// errors do.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return strconv.Quote(n.Value)
		case "!!null":
			return "nothing"
		}
		return n.Value
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "an alias"
}

// yamlSyntaxError turns "yaml: line 3: did not find ..." into a
// FieldError on that line.
func yamlSyntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineErrRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &FieldError{File: file, Line: line, Err: &problem{"not valid YAML: " + msg, ErrType}}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// closest is the name in names nearest to s, or "" if none is near:
// within an edit distance of a third of its length (at least 2); else
// an abbreviation (freq_hz for frequency_hz: same first letter, the
// letters of s in order); else the nearest of the names that share s's
// first word (light_middle -> light_left, tick_rate -> tick).
func closest(s string, names []string) string {
	s = strings.ToLower(s)
	best, bestD := "", max(2, len(s)/3)+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return best
	}
	for _, n := range names {
		if len(s) >= 3 && len(s) < len(n) && s[0] == n[0] && subsequence(s, n) {
			return n
		}
	}
	word, _, _ := strings.Cut(s, "_")
	bestD = math.MaxInt
	for _, n := range names {
		if w, _, _ := strings.Cut(n, "_"); w == word {
			if d := editDistance(s, n); d < bestD {
				best, bestD = n, d
			}
		}
	}
	return best
}

// subsequence tells whether the bytes of s appear in t in order.
func subsequence(s, t string) bool {
	i := 0
	for j := 0; i < len(s) && j < len(t); j++ {
		if s[i] == t[j] {
			i++
		}
	}
	return i == len(s)
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Kinds of board parts, for matching inputs and outputs to parts.
const (
	partADC = "adc channel"
	partIn  = "digital input"
	partOut = "digital output"
	partPWM = "pwm output"
	partDAC = "dac channel"
)

func partKinds(b hal.Config) map[string]string {
	m := map[string]string{}
	for _, a := range b.ADCs {
		for _, ch := range a.Channels {
			m[ch.Name] = partADC
		}
	}
	for _, in := range b.Inputs {
		m[in.Name] = partIn
	}
	for _, o := range b.Outputs {
		m[o.Name] = partOut
	}
	for _, p := range b.PWM {
		m[p.Name] = partPWM
	}
	for _, d := range b.DACs {
		for _, ch := range d.Channels {
			m[ch.Name] = partDAC
		}
	}
	return m
}

// check validates every field and loads the network, adding every
// problem to k.
func (c *Config) check(k *checker) {
	c.checkBoard(k)
	c.checkPlant(k, c.Board.Driver == hal.DriverSim)

	// The tick and the network.
	if c.Tick == "" {
		k.add("tick", ErrRequired, `must be a duration such as "1ms", got nothing`)
	} else if d, err := time.ParseDuration(c.Tick); err != nil || d <= 0 {
		k.add("tick", ErrInvalid, `must be a positive duration such as "1ms", got %q`, c.Tick)
	} else {
		c.tick = d
	}
	if c.StaleTicks < 0 {
		k.add("stale_ticks", ErrRange, "must be >= 0, got %d", c.StaleTicks)
	}
	if name := c.backendName(); !apu.Known(name) {
		field := "backend"
		if c.backendIsMapping() {
			field = "backend.kind"
		}
		k.add(field, ErrInvalid, "%q: %v", name, apu.UnknownBackend(name))
	}
	c.checkBackend(k)
	if c.Network == "" {
		k.add("network", ErrRequired, "must be the path of a network file, got nothing")
	} else {
		// The network's bytes are kept, so that Clone rebuilds the same
		// network even if the file changes on disk later.
		if c.netData == nil {
			data, tooBig, err := readNetwork(c.networkPath())
			switch {
			case err != nil:
				k.add("network", ErrNotFound, "%q: %s (looked for %s)", c.Network, fileProblem(err), c.networkPath())
			case tooBig:
				k.add("network", ErrRange, "%q: more than %d bytes, the limit (MaxFileBytes); refused before reading it", c.Network, models.DefaultLimits.MaxFileBytes)
			}
			c.netData = data
		}
		if c.netData != nil {
			net, err := models.Load(c.netData, c.networkPath(), models.NewRegistry(), models.DefaultLimits)
			if err != nil {
				// The network file's own errors carry its name and line.
				k.add("network", ErrInvalid, "%v", err)
			}
			c.net = net
		}
	}
	if c.net != nil && c.tick > 0 {
		steps := float64(c.tick) / float64(time.Millisecond) / c.net.Dt
		n := math.Round(steps)
		if n < 1 || math.Abs(steps-n) > 1e-9*n {
			k.add("tick", ErrMismatch, "must be a whole number >= 1 of network steps (dt %g ms), got %s (%.6g steps)", c.net.Dt, c.tick, steps)
		} else if n > math.MaxInt32 {
			// Bounded in float64, before the conversion: int is 32
			// bits on arm, where a larger count would not convert.
			k.add("tick", ErrRange, "must be at most %d network steps (dt %g ms), got %s (%.6g steps)", math.MaxInt32, c.net.Dt, c.tick, steps)
		} else {
			c.steps = int(n)
		}
	}

	parts := partKinds(c.Board)
	names := map[string]string{}
	name := func(f, n string) {
		if n == "" {
			k.add(f+".name", ErrRequired, "")
			return
		}
		if prev, ok := names[n]; ok {
			k.add(f+".name", ErrInvalid, "%q is already used by %s", n, prev)
			return
		}
		names[n] = f
	}
	part := func(f, p string, want ...string) {
		if p == "" {
			k.add(f+".part", ErrRequired, "must be the name of a board part, got nothing")
			return
		}
		kind, ok := parts[p]
		if !ok {
			k.add(f+".part", ErrNotFound, "must be a part of the board section, got %q%s", p, suggest(p, slices.Sorted(maps.Keys(parts))))
			return
		}
		for _, w := range want {
			if kind == w {
				return
			}
		}
		k.add(f+".part", ErrMismatch, "must be %s, got %q (%s)", article(strings.Join(want, " or ")), p, article(kind))
	}
	pop := func(f, p string) *models.PopulationSpec {
		if p == "" {
			k.add(f+".population", ErrRequired, "")
			return nil
		}
		if c.net == nil {
			return nil // the network error is reported already
		}
		for _, ps := range c.net.Populations {
			if ps.Name == p {
				return ps
			}
		}
		k.add(f+".population", ErrNotFound, "must be a population of %s, got %q%s", c.Network, p, suggest(p, popNames(c.net)))
		return nil
	}

	used := map[string]string{} // input population -> field
	for i, in := range c.Inputs {
		f := "inputs[" + strconv.Itoa(i) + "]"
		name(f, in.Name)
		if in.Encoder != "file" {
			part(f, in.Part, partADC, partIn)
		}
		ps := pop(f, in.Population)
		if ps != nil {
			if prev, ok := used[ps.Name]; ok {
				k.add(f+".population", ErrInvalid, "%q is already fed by %s", ps.Name, prev)
			}
			used[ps.Name] = f
		}
		c.checkFinite(k, f, "gain", in.Gain)
		c.checkFinite(k, f, "offset", in.Offset)
		c.checkFinite(k, f, "safe", in.Safe)
		c.checkFileInput(k, i, ps)
		if enc, ok := encoders[in.Encoder]; ok {
			enc.check(c, k, f, in, ps)
		} else if in.Encoder == "" {
			k.add(f+".encoder", ErrRequired, "must be %s, got nothing", oneOf(encoderNames))
		} else {
			k.add(f+".encoder", ErrInvalid, "must be %s, got %q", oneOf(encoderNames), in.Encoder)
		}
	}

	for i, o := range c.Outputs {
		f := "outputs[" + strconv.Itoa(i) + "]"
		name(f, o.Name)
		ps := pop(f, o.Population)
		if ps != nil && !spikes(ps) {
			k.add(f+".population", ErrMismatch, "must be a population that emits spikes, got %q (it emits currents)", ps.Name)
		}
		c.checkFinite(k, f, "gain", o.Gain)
		c.checkFinite(k, f, "from", o.From)
		c.checkFinite(k, f, "to", o.To)
		c.checkFinite(k, f, "safe", o.Safe)
		if dec, ok := decoders[o.Decoder]; ok {
			part(f, o.Part, dec.parts...)
			dec.check(c, k, f, o)
		} else {
			part(f, o.Part, partOut, partPWM, partDAC)
			if o.Decoder == "" {
				k.add(f+".decoder", ErrRequired, "must be %s, got nothing", oneOf(decoderNames))
			} else {
				k.add(f+".decoder", ErrInvalid, "must be %s, got %q", oneOf(decoderNames), o.Decoder)
			}
		}
	}

	c.checkTelemetry(k)

	c.Realtime.check(c.tick, k.add)

	switch c.Logging.Level {
	case "", "debug", "info", "warn", "error":
	default:
		k.add("logging.level", ErrInvalid, `must be "debug", "info", "warn" or "error", got %q`, c.Logging.Level)
	}
	switch c.Logging.Format {
	case "", "auto", "console", "json":
	default:
		k.add("logging.format", ErrInvalid, `must be "auto", "console" or "json", got %q`, c.Logging.Format)
	}
}

func (c *Config) checkClamp(k *checker, f string, in InputConfig) {
	if !finite(in.Min) || !finite(in.Max) || in.Min > in.Max {
		k.add(f+".min", ErrRange, "must be finite and <= max (%v), got %v", in.Max, in.Min)
	}
}

// checkFinite reports field f.name whose value x is NaN or infinite.
func (c *Config) checkFinite(k *checker, f, name string, x float64) {
	if !finite(x) {
		k.add(f+"."+name, ErrRange, "must be a finite number, got %v", x)
	}
}

// ticksOf parses a duration field that must be a whole number of ticks;
// empty means one tick.
func (c *Config) ticksOf(k *checker, field, s string) int {
	if s == "" {
		return 1
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		k.add(field, ErrInvalid, `must be a positive duration such as "50ms", got %q`, s)
		return 0
	}
	if c.tick <= 0 {
		return 0 // the tick's own error is reported
	}
	if d%c.tick != 0 {
		k.add(field, ErrMismatch, "must be a whole number of ticks of %s, got %s", c.tick, d)
		return 0
	}
	// d/c.tick is an int64; int is 32 bits on arm.
	if n := d / c.tick; n > math.MaxInt32 {
		k.add(field, ErrRange, "must be at most %d ticks of %s, got %s (%d ticks)", math.MaxInt32, c.tick, d, n)
		return 0
	}
	return int(d / c.tick)
}

func (c *Config) networkPath() string {
	if filepath.IsAbs(c.Network) || c.file == "" {
		return c.Network
	}
	return filepath.Join(filepath.Dir(c.file), c.Network)
}

// modelOf returns the population's model as a T.
func modelOf[T models.Population](ps *models.PopulationSpec) (T, bool) {
	var zero T
	if ps == nil {
		return zero, false
	}
	m, ok := ps.Model.(T)
	return m, ok
}

// checkBoard runs hal's validation of the board section and then looks
// its pins and SPI ports up on the host by name, driving nothing: the
// emulated board's names for driver sim, periph's registries (after
// host.Init) for driver periph. So a config with a pin the host does
// not have fails here, with its line, and not when the board opens (a
// reload with such a config is refused while the running loop goes on).
func (c *Config) checkBoard(k *checker) {
	verr := c.Board.Validate()
	for _, e := range unjoin(verr) {
		if e != nil {
			k.halError(e)
		}
	}
	// Fields hal rejected are not looked up again (a duplicate pin would
	// be reported twice).
	for _, e := range k.errs {
		var fe *FieldError
		if errors.As(e, &fe) && strings.HasPrefix(fe.Field, hal.Root+".") {
			k.markBad(fe.Field)
		}
	}
	c.pinNote = ""
	var rerr error
	switch c.Board.Driver {
	case hal.DriverSim:
		rerr = c.Board.Resolve(sim.New(c.Board))
	case hal.DriverPeriph:
		if len(c.Board.Outputs)+len(c.Board.Inputs)+len(c.Board.PWM)+len(c.Board.ADCs)+len(c.Board.DACs) == 0 {
			return // nothing to look up: no need to start periph's drivers
		}
		rep, checked, err := hal.ResolvePeriph(c.Board)
		switch {
		case err != nil && !checked:
			c.pinNote = fmt.Sprintf("pins and SPI ports not checked: %v", err)
		case !checked:
			c.pinNote = "pins and SPI ports not checked: this host has no GPIO pins" + driverSummary(rep)
		default:
			rerr = err
		}
	}
	for _, e := range unjoin(rerr) {
		if e != nil {
			k.halError(e)
		}
	}
}

// driverSummary lists the periph drivers that loaded and failed, for the
// note on a host where pins could not be looked up.
func driverSummary(r *hal.DriverReport) string {
	if r == nil {
		return ""
	}
	s := fmt.Sprintf(" (periph drivers loaded: %s", strings.Join(r.Loaded, ", "))
	if len(r.Loaded) == 0 {
		s = " (periph drivers loaded: none"
	}
	if len(r.Failed) > 0 {
		s += "; failed: " + strings.Join(r.Failed, "; ")
	}
	return s + ")"
}

// fileProblem is the reason of a failed read, without the path that
// the message gives already.
func fileProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// suggest ends a "not found" message: the closest name, and the names
// there are.
func suggest(name string, names []string) string {
	if len(names) == 0 {
		return "; there are none"
	}
	s := "; "
	if c := closest(name, names); c != "" {
		s += fmt.Sprintf("did you mean %q? ", c)
	}
	return s + "have " + strings.Join(names, ", ")
}

// popNames are the network's population names, in file order.
func popNames(net *models.Network) []string {
	if net == nil {
		return nil
	}
	names := make([]string, len(net.Populations))
	for i, ps := range net.Populations {
		names[i] = ps.Name
	}
	return names
}

// article puts "a" or "an" before a part kind.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// lineOf finds the line of a field path such as "inputs[2].gain" in the
// YAML tree; for a field that is absent it gives the line of the
// deepest parent present.
func lineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0 // a top-level field that is absent has no line
	for _, seg := range strings.Split(path, ".") {
		key, idx := seg, -1
		if i := strings.IndexByte(seg, '['); i >= 0 && strings.HasSuffix(seg, "]") {
			key = seg[:i]
			idx, _ = strconv.Atoi(seg[i+1 : len(seg)-1])
		}
		next := (*yaml.Node)(nil)
		if n.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == key {
					line = n.Content[j].Line
					next = n.Content[j+1]
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
