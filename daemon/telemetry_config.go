package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// TelemetryConfig is the config's telemetry section: MQTT telemetry,
// commands and Prometheus metrics. Without the section the daemon
// publishes nothing and takes no commands. README.md ("Telemetry")
// documents every field; io/telemetry/README.md the payloads.
type TelemetryConfig struct {
	// Board is the board id, a topic level: in the default prefix, the
	// MQTT client id and every payload. Default: the host name.
	Board string `yaml:"board"`
	// Prefix of every topic; default "spikeloop/<board>/".
	Prefix string `yaml:"prefix"`
	// Every is the telemetry interval, a whole number of ticks; default
	// 100ms.
	Every string `yaml:"every"`
	// Queue is the hand-off's capacity in samples (default 128, about
	// 13 s at 10 Hz): what waits while a connection attempt runs.
	Queue int `yaml:"queue"`
	// StoreDir keeps QoS 1 messages not yet acknowledged, across broker
	// outages and daemon restarts. Default: $STATE_DIRECTORY/mqtt (set by
	// systemd's StateDirectory=), else the user's cache folder
	// (~/.cache/spikeloop/mqtt-<board>).
	StoreDir string `yaml:"store_dir"`
	// States are the sampled states sent in every sample.
	States []StateSample `yaml:"states"`
	// Spikes are the populations whose spikes go out on the spikes topic
	// (one batch per interval); none: no spikes topic.
	Spikes []string `yaml:"spikes"`
	// Broker is an external broker; absent: the embedded one.
	Broker *ExternalBroker `yaml:"broker"`
	// Embedded configures the embedded broker (ignored with Broker).
	Embedded EmbeddedBroker `yaml:"embedded"`
	// Commands is the allow-list: command name -> what it does.
	Commands map[string]CommandConfig `yaml:"commands"`
	// CommandQueue is how many commands may wait for the loop (default
	// 64); one more is refused as busy, with this length in its reply.
	// The loop applies every waiting command at the start of a tick, so
	// this also bounds that work.
	CommandQueue int `yaml:"command_queue"`
	// Metrics serves Prometheus /metrics; absent listen: off.
	Metrics MetricsConfig `yaml:"metrics"`

	// Filled by the check.
	every     int // ticks per sample
	allowed   map[string]telemetry.Allowed
	users     []telemetry.User
	password  string // external broker's, from password_file
	statePops []stateRef
	spikePops []int
	limits    telemetry.BrokerConfig // the embedded broker's limits, checked
}

// StateSample picks a state of a population for the telemetry samples.
type StateSample struct {
	Population string `yaml:"population"`
	State      string `yaml:"state"`
	// Neurons are the units sampled; none: every unit (at most
	// maxSampledUnits).
	Neurons []int `yaml:"neurons"`
}

type stateRef struct {
	key     string // "population.state"
	pop     string
	state   string
	neurons []int
}

// maxSampledUnits bounds a state sample without a neurons list, so that
// a sample stays a few kB.
const maxSampledUnits = 256

// ExternalBroker is a broker the daemon connects to.
type ExternalBroker struct {
	// URL is tcp://host:port or ssl://host:port.
	URL string `yaml:"url"`
	// Username and PasswordFile log in (the password stays out of the
	// config); empty: anonymous.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// ClientID defaults to "spikeloop-<board>"; it must stay the same
	// across restarts (the session and stored messages belong to it).
	ClientID string `yaml:"client_id"`
	// TLS files for ssl:// URLs; server name verification is always on.
	TLS *TLSFiles `yaml:"tls"`
}

// TLSFiles name the files of a TLS connection.
type TLSFiles struct {
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// EmbeddedBroker configures the broker the daemon runs itself.
type EmbeddedBroker struct {
	// Listen is host:port, default 127.0.0.1:1883.
	Listen string `yaml:"listen"`
	// AllowNonLoopback must be true for Listen to name an address other
	// than loopback.
	AllowNonLoopback bool `yaml:"allow_non_loopback"`
	// Users who may log in (bcrypt hashes); UsersFile adds users from a
	// file of name:hash:read|command lines. No users: commands are off.
	Users     []BrokerUser `yaml:"users"`
	UsersFile string       `yaml:"users_file"`

	// The limits that keep any local client from taking the loop's
	// memory or CPU (io/telemetry.BrokerConfig says what each does);
	// 0 or absent: the default.
	MaxPacketBytes   int    `yaml:"max_packet_bytes"`
	MaxClients       int    `yaml:"max_clients"`
	MaxSessions      int    `yaml:"max_sessions"`
	SessionExpiry    string `yaml:"session_expiry"`
	MaxInflight      int    `yaml:"max_inflight"`
	MaxWritesPending int    `yaml:"max_writes_pending"`
	AuthFailures     int    `yaml:"auth_failures"`
	AuthBackoff      string `yaml:"auth_backoff"`
	AuthBackoffMax   string `yaml:"auth_backoff_max"`
	// AuthCPUs are the CPUs of the password checks; absent: every CPU
	// but realtime.cpu.
	AuthCPUs []int `yaml:"auth_cpus"`
	// WebSocketListen is host:port of the broker's MQTT-over-WebSocket
	// listener, for the live page (daemon/live.go); empty: none.
	WebSocketListen string `yaml:"websocket_listen"`
}

// BrokerUser is one account of the embedded broker.
type BrokerUser struct {
	Name string `yaml:"name"`
	// Hash is a bcrypt hash, e.g. from `htpasswd -nbB name password`.
	Hash string `yaml:"hash"`
	// Command lets the user send commands; without it the user reads.
	Command bool `yaml:"command"`
}

// CommandConfig is one allow-list entry.
type CommandConfig struct {
	// Kind: dc_amplitude, poisson_rate, bernoulli_prob, pause, resume,
	// reload or snapshot.
	Kind string `yaml:"kind"`
	// Target is the generator population a setter changes.
	Target string `yaml:"target"`
	// Min and Max bound a setter's values (inclusive); defaults: the
	// kind's own limits (amplitude: required).
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
}

// MetricsConfig configures the Prometheus endpoint.
type MetricsConfig struct {
	// Listen is host:port (e.g. 127.0.0.1:9464); empty: no endpoint.
	Listen           string `yaml:"listen"`
	AllowNonLoopback bool   `yaml:"allow_non_loopback"`
}

// defaultTelemetryEvery is the telemetry interval when none is given.
const defaultTelemetryEvery = 100 * time.Millisecond

// The queue of commands waiting for the loop: 64 by default (a burst of
// 64 ms at one command per tick of 1 ms waits, not refused); at most
// 1024, as the loop applies them all at its next tick, and each holds
// its values (up to max_packet_bytes) until then.
const (
	defaultCommandQueue = 64
	maxCommandQueue     = 1024
)

// commandQueue is the length of the loop's command queue for cfg.
func (c *Config) commandQueue() int {
	if c.Telemetry == nil || c.Telemetry.CommandQueue < 1 {
		return defaultCommandQueue
	}
	return c.Telemetry.CommandQueue
}

// checkTelemetry validates the telemetry section, reading the files it
// names, so that nothing about it fails once the daemon starts but the
// network itself (ports in use, a broker away).
func (c *Config) checkTelemetry(k *checker) {
	t := c.Telemetry
	if t == nil {
		return
	}
	const f = "telemetry"
	if t.Board == "" {
		t.Board = defaultBoardID()
	}
	if err := telemetry.CheckTopicLevel(t.Board); err != nil {
		k.add(f+".board", ErrInvalid, "%q: %v", t.Board, err)
	}
	if t.Prefix != "" {
		if err := telemetry.CheckPrefix(t.Prefix); err != nil {
			// The field is named already: "prefix: must be ..." reads as "must be ...".
			k.add(f+".prefix", ErrInvalid, "%s", strings.TrimPrefix(err.Error(), "prefix: "))
		}
	}
	if t.Every == "" {
		if c.tick > 0 {
			t.every = max(1, int(defaultTelemetryEvery/c.tick))
		}
	} else {
		t.every = c.ticksOf(k, f+".every", t.Every)
	}
	if t.Queue == 0 {
		t.Queue = 128
	}
	if t.Queue < 1 || t.Queue > 1_000_000 {
		k.add(f+".queue", ErrRange, "must be 1..1000000 samples, got %d", t.Queue)
	}

	// Sampled states and spike populations.
	seen := map[string]bool{}
	t.statePops = nil
	for i, s := range t.States {
		sf := f + ".states[" + strconv.Itoa(i) + "]"
		ps := c.telemetryPop(k, sf+".population", s.Population)
		if ps == nil {
			continue
		}
		if !slices.Contains(ps.Model.StateNames(), s.State) {
			k.add(sf+".state", ErrNotFound, "must be a state of %s %q (%s), got %q", ps.Class.Name, ps.Name, quoteList(ps.Model.StateNames()), s.State)
			continue
		}
		key := ps.Name + "." + s.State
		if seen[key] {
			k.add(sf, ErrInvalid, "%s is sampled twice", key)
			continue
		}
		seen[key] = true
		neurons := s.Neurons
		if len(neurons) == 0 {
			if ps.Size > maxSampledUnits {
				k.add(sf+".neurons", ErrRequired, "must be given (at most %d units) for %q of %d units, got nothing", maxSampledUnits, ps.Name, ps.Size)
				continue
			}
			neurons = make([]int, ps.Size)
			for j := range neurons {
				neurons[j] = j
			}
		}
		bad := false
		for _, n := range neurons {
			if n < 0 || n >= ps.Size {
				k.add(sf+".neurons", ErrRange, "must be units 0..%d of %q, got %d", ps.Size-1, ps.Name, n)
				bad = true
				break
			}
		}
		if !bad {
			t.statePops = append(t.statePops, stateRef{key: key, pop: ps.Name, state: s.State, neurons: neurons})
		}
	}
	t.spikePops = nil
	for i, name := range t.Spikes {
		sf := f + ".spikes[" + strconv.Itoa(i) + "]"
		ps := c.telemetryPop(k, sf, name)
		if ps == nil {
			continue
		}
		if !spikes(ps) {
			k.add(sf, ErrMismatch, "must be a population that emits spikes, got %q (it emits currents)", ps.Name)
			continue
		}
		idx := popIndex(c.net, ps.Name)
		if slices.Contains(t.spikePops, idx) {
			k.add(sf, ErrInvalid, "%q is listed twice", ps.Name)
			continue
		}
		t.spikePops = append(t.spikePops, idx)
	}

	// The broker.
	t.users, t.password = nil, ""
	if b := t.Broker; b != nil {
		bf := f + ".broker"
		checkBrokerURL(k, bf+".url", b.URL)
		if b.PasswordFile != "" {
			if b.Username == "" {
				k.add(bf+".username", ErrRequired, "must be given with a password_file, got nothing")
			}
			pw, err := telemetry.ReadSecretFile(c.relPath(b.PasswordFile))
			if err != nil {
				k.add(bf+".password_file", ErrInvalid, "%v", err)
			}
			t.password = pw
		}
		if b.ClientID != "" {
			if err := telemetry.CheckTopicLevel(b.ClientID); err != nil {
				k.add(bf+".client_id", ErrInvalid, "%q: %v", b.ClientID, err)
			}
		}
		if b.TLS != nil {
			if !strings.HasPrefix(b.URL, "ssl://") {
				k.add(bf+".tls", ErrMismatch, "must go with an ssl:// url, got %q", b.URL)
			}
			if _, err := telemetry.TLSConfig(c.tlsFiles(b.TLS)); err != nil {
				k.add(bf+".tls", ErrInvalid, "%v", err)
			}
		}
	} else {
		ef := f + ".embedded"
		e := t.Embedded
		listen := e.Listen
		if listen == "" {
			listen = telemetry.DefaultBrokerListen
		}
		checkListen(k, ef+".listen", listen, e.AllowNonLoopback)
		if e.WebSocketListen != "" {
			checkListen(k, ef+".websocket_listen", e.WebSocketListen, e.AllowNonLoopback)
		}
		names := map[string]bool{}
		for i, u := range e.Users {
			uf := ef + ".users[" + strconv.Itoa(i) + "]"
			switch {
			case u.Name == "" || u.Name == telemetry.DaemonUser:
				k.add(uf+".name", ErrInvalid, "must be a name neither empty nor reserved (%q), got %q", telemetry.DaemonUser, u.Name)
			case names[u.Name]:
				k.add(uf+".name", ErrInvalid, "must be given once, got %q twice", u.Name)
			}
			names[u.Name] = true
			if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
				k.add(uf+".hash", ErrInvalid, "not a bcrypt hash (%v); make one with `htpasswd -nbB name password`", err)
			}
			t.users = append(t.users, telemetry.User{Name: u.Name, Hash: u.Hash, Command: u.Command})
		}
		if e.UsersFile != "" {
			us, err := telemetry.ReadPasswordFile(c.relPath(e.UsersFile))
			if err != nil {
				k.add(ef+".users_file", ErrInvalid, "%v", err)
			}
			for _, u := range us {
				if names[u.Name] || u.Name == telemetry.DaemonUser {
					k.add(ef+".users_file", ErrInvalid, "user %q is reserved or given twice", u.Name)
				}
				if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
					k.add(ef+".users_file", ErrInvalid, "user %q: not a bcrypt hash (%v)", u.Name, err)
				}
				names[u.Name] = true
			}
			t.users = append(t.users, us...)
		}
	}

	// The allow-list and the queue of commands waiting for the loop.
	if t.CommandQueue == 0 {
		t.CommandQueue = defaultCommandQueue
	}
	if t.CommandQueue < 1 || t.CommandQueue > maxCommandQueue {
		k.add(f+".command_queue", ErrRange, "must be 1..%d commands, got %d", maxCommandQueue, t.CommandQueue)
	}
	t.allowed = map[string]telemetry.Allowed{}
	for _, name := range slices.Sorted(maps.Keys(t.Commands)) {
		cc := t.Commands[name]
		cf := f + ".commands." + name
		a, ok := c.allowed(k, cf, name, cc)
		if !ok {
			continue
		}
		if _, err := telemetry.NewValidator(map[string]telemetry.Allowed{name: a}); err != nil {
			k.add(cf, ErrInvalid, "%v", err)
			continue
		}
		t.allowed[name] = a
	}
	if len(t.allowed) > 0 && t.Broker == nil && !slices.ContainsFunc(t.users, func(u telemetry.User) bool { return u.Command }) {
		k.add(f+".commands", ErrMismatch, "commands are listed but no embedded broker user has the command right, so nobody could send them")
	}

	if t.Broker == nil {
		c.brokerLimits(k, f+".embedded")
	}

	if m := t.Metrics; m.Listen != "" {
		checkListen(k, f+".metrics.listen", m.Listen, m.AllowNonLoopback)
	}
}

// brokerLimits checks the embedded broker's limits and keeps them in
// t.limits: each as io/telemetry will, and the packet limit against the
// largest command of the allow-list, which must get through.
func (c *Config) brokerLimits(k *checker, ef string) {
	t, e := c.Telemetry, c.Telemetry.Embedded
	l := telemetry.BrokerConfig{
		MaxPacketBytes: e.MaxPacketBytes, MaxClients: e.MaxClients, MaxSessions: e.MaxSessions,
		MaxInflight: e.MaxInflight, MaxWritesPending: e.MaxWritesPending, AuthFailures: e.AuthFailures,
		AuthCPUs: e.AuthCPUs,
	}
	for _, d := range []struct {
		field, s string
		v        *time.Duration
	}{{"session_expiry", e.SessionExpiry, &l.SessionExpiry}, {"auth_backoff", e.AuthBackoff, &l.AuthBackoff}, {"auth_backoff_max", e.AuthBackoffMax, &l.AuthBackoffMax}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v <= 0 {
			k.add(ef+"."+d.field, ErrInvalid, `must be a positive duration such as "1h" or "30s", got %q`, d.s)
			return
		}
		*d.v = v
	}
	if l.AuthCPUs == nil && c.Realtime.CPU != nil && runtime.NumCPU() > 1 {
		// Password checks are the broker's heaviest work: keep them
		// off the loop's CPU.
		for cpu := range runtime.NumCPU() {
			if cpu != *c.Realtime.CPU {
				l.AuthCPUs = append(l.AuthCPUs, cpu)
			}
		}
	}
	if err := l.CheckLimits(); err != nil {
		field, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			field, msg = "", err.Error()
		}
		k.add(ef+"."+field, ErrInvalid, "%s", msg)
		return
	}
	packet := l.MaxPacketBytes
	if packet == 0 {
		packet = telemetry.DefaultMaxPacketBytes
	}
	if need := telemetry.MaxCommandPacketBytes(t.prefix(), t.allowed); need > packet {
		k.add(ef+".max_packet_bytes", ErrRange, "must be at least %d (the largest command of telemetry.commands), got %d", need, packet)
	}
	t.limits = l
}

// allowed turns one allow-list entry into telemetry's form.
func (c *Config) allowed(k *checker, cf, name string, cc CommandConfig) (telemetry.Allowed, bool) {
	if err := telemetry.CheckTopicLevel(name); err != nil {
		k.add(cf, ErrInvalid, "command name %q: %v", name, err)
		return telemetry.Allowed{}, false
	}
	kind := telemetry.Kind(cc.Kind)
	a := telemetry.Allowed{Kind: kind}
	var class string
	lo, hi := math.Inf(-1), math.Inf(1)
	switch kind {
	case telemetry.KindPause, telemetry.KindResume, telemetry.KindReload, telemetry.KindSnapshot, telemetry.KindReset:
		if cc.Target != "" || cc.Min != nil || cc.Max != nil {
			var given []string
			if cc.Target != "" {
				given = append(given, "target "+strconv.Quote(cc.Target))
			}
			if cc.Min != nil {
				given = append(given, "min "+strconv.FormatFloat(*cc.Min, 'g', -1, 64))
			}
			if cc.Max != nil {
				given = append(given, "max "+strconv.FormatFloat(*cc.Max, 'g', -1, 64))
			}
			k.add(cf, ErrInvalid, "target, min, max: must be left out (kind %q takes none), got %s", cc.Kind, strings.Join(given, ", "))
			return a, false
		}
		return a, true
	case telemetry.KindDCAmplitude:
		class = "DCGenerator"
	case telemetry.KindPoissonRate:
		class = "PoissonGenerator"
		lo = 0
		if c.net != nil {
			hi = 700 * 1000 / c.net.Dt
		}
	case telemetry.KindBernoulliProb:
		class, lo, hi = "BernoulliGenerator", 0, 1
	case "":
		k.add(cf+".kind", ErrRequired, "must be dc_amplitude, poisson_rate, bernoulli_prob, pause, resume, reload, snapshot or reset, got nothing")
		return a, false
	default:
		k.add(cf+".kind", ErrInvalid, "must be dc_amplitude, poisson_rate, bernoulli_prob, pause, resume, reload, snapshot or reset, got %q", cc.Kind)
		return a, false
	}
	ps := c.telemetryPop(k, cf+".target", cc.Target)
	if ps == nil {
		return a, false
	}
	if ps.Class.Name != class {
		k.add(cf+".target", ErrMismatch, "must be a %s (what %s sets), got %q (class %s)", class, cc.Kind, ps.Name, ps.Class.Name)
		return a, false
	}
	if cc.Min != nil {
		lo = *cc.Min
	}
	if cc.Max != nil {
		hi = *cc.Max
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		k.add(cf+".min", ErrRequired, "must be finite, as must max (a %s command needs both bounds), got min %v, max %v", cc.Kind, lo, hi)
		return a, false
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		k.add(cf+".min", ErrRange, "must be <= max (%v), got %v", hi, lo)
		return a, false
	}
	a.Target, a.Size, a.Min, a.Max = ps.Name, ps.Size, lo, hi
	return a, true
}

func (c *Config) telemetryPop(k *checker, field, name string) *models.PopulationSpec {
	if name == "" {
		k.add(field, ErrRequired, "must be a population of the network, got nothing")
		return nil
	}
	if c.net == nil {
		return nil // the network's error is reported already
	}
	ps := population(c.net, name)
	if ps == nil {
		k.add(field, ErrNotFound, "must be a population of %s, got %q%s", c.Network, name, suggest(name, popNames(c.net)))
	}
	return ps
}

// checkListen accepts host:port on loopback, or anywhere when allowed;
// the port must be a number 0..65535 (0: any free port).
func checkListen(k *checker, field, listen string, allowNonLoopback bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		k.add(field, ErrInvalid, "must be host:port such as \"127.0.0.1:1883\", got %q", listen)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		k.add(field, ErrRange, "must have a port 0..65535, got %q (port %q)", listen, port)
	}
	if !allowNonLoopback && !telemetry.IsLoopbackHost(host) {
		k.add(field, ErrInvalid, "must be a loopback address (set allow_non_loopback: true to listen on a network), got %q", listen)
	}
}

// checkBrokerURL accepts tcp://host:port and ssl://host:port with a
// port 1..65535.
func checkBrokerURL(k *checker, field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl") {
		k.add(field, ErrInvalid, "must be tcp://host:port or ssl://host:port, got %q", raw)
		return
	}
	if u.Hostname() == "" {
		k.add(field, ErrInvalid, "must be %s://host:port, got %q (no host)", u.Scheme, raw)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		k.add(field, ErrRange, "must have a port 1..65535 (1883 for tcp, 8883 for ssl), got %q (port %q)", raw, u.Port())
	}
}

// defaultBoardID is the host name made a topic level.
func defaultBoardID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "spikeloop"
	}
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("/+#\x00", r) {
			return '_'
		}
		return r
	}, h)
}

func (c *Config) relPath(p string) string {
	if filepath.IsAbs(p) || c.file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.file), p)
}

func (c *Config) tlsFiles(t *TLSFiles) telemetry.TLSFiles {
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		return c.relPath(p)
	}
	return telemetry.TLSFiles{CAFile: rel(t.CAFile), CertFile: rel(t.CertFile), KeyFile: rel(t.KeyFile), ServerName: t.ServerName}
}

// storeDir is where the publisher keeps unsent messages.
func (t *TelemetryConfig) storeDir() (string, error) {
	if t.StoreDir != "" {
		return t.StoreDir, nil
	}
	if sd := os.Getenv("STATE_DIRECTORY"); sd != "" {
		first, _, _ := strings.Cut(sd, ":")
		return filepath.Join(first, "mqtt-"+t.Board), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "spikeloop", "mqtt-"+t.Board), nil
}

func (t *TelemetryConfig) prefix() string {
	if t.Prefix != "" {
		return t.Prefix
	}
	return "spikeloop/" + t.Board + "/"
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "no recordable states"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func hexDigest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// brokerKey sums up what a reload cannot change (the service's part of
// the section), to tell the user when a change waits for a restart.
func (t *TelemetryConfig) brokerKey() string {
	b, err := yaml.Marshal(struct {
		Board, Prefix, StoreDir string
		Queue                   int
		Spikes                  bool
		Broker                  *ExternalBroker
		Embedded                EmbeddedBroker
		Commands                map[string]CommandConfig
		Metrics                 MetricsConfig
	}{t.Board, t.Prefix, t.StoreDir, t.Queue, len(t.spikePops) > 0, t.Broker, t.Embedded, t.Commands, t.Metrics})
	if err != nil {
		return err.Error()
	}
	return string(b)
}
