package telemetry

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// DefaultBrokerListen is where the embedded broker listens unless the
// config says otherwise: loopback only.
const DefaultBrokerListen = "127.0.0.1:1883"

// DaemonUser is the user name the daemon's own publisher uses on the
// embedded broker; its password is random per start (Broker.DaemonPassword).
const DaemonUser = "spikeloop-daemon"

// BrokerConfig configures the embedded broker (used when the daemon's
// config names no broker).
type BrokerConfig struct {
	// Listen is host:port; empty means DefaultBrokerListen. Port 0 picks
	// a free port (tests).
	Listen string
	// AllowNonLoopback must be set for Listen to name a non-loopback
	// address: the broker never faces a network by accident.
	AllowNonLoopback bool
	// WebSocketListen is host:port of an MQTT-over-WebSocket listener
	// (path /mqtt) for browsers, under the same rules as Listen
	// (loopback unless AllowNonLoopback; same users, ACL and limits);
	// empty: none. Port 0 picks a free port (tests).
	WebSocketListen string
	// WebSocketOrigins are the Origin headers a browser's WebSocket
	// upgrade may carry (e.g. "http://127.0.0.1:9464", the live page's);
	// any other is refused, so that no other web page a user opens can
	// reach the broker. "http://*:PORT" allows any host on that port. Clients that send no Origin are not browsers and
	// are let through to the usual login.
	WebSocketOrigins []string
	// Prefix is the daemon's topic prefix ("spikeloop/<board>/"); the ACL
	// is written in terms of it.
	Prefix string
	// Users who may log in. None: commands are off (nobody may publish to
	// cmd/), and only anonymous loopback readers connect.
	Users []User
	// DaemonPassword is DaemonUser's password; empty means a random one
	// per start (the daemon starts broker and publisher together).
	DaemonPassword string
	// Logger gets the broker's warnings; the zero Logger discards them.
	// What clients send is never logged in full (packets by type, topic
	// and size, strings cut at 256 bytes), and each message at most once a
	// second (the rest counted in "suppressed"). mochi logs every client
	// connection at info: a daemon passes a logger at warn or above.
	Logger zerolog.Logger

	// The limits below keep any client, authenticated or not, from
	// taking the daemon's memory or CPU. Zero means the default; a
	// negative value is refused.

	// MaxPacketBytes is the largest packet (fixed header included) a
	// client may send; a larger one is refused as soon as its header
	// arrives (before a byte of it is buffered), logged by size, and its
	// connection closed. Default DefaultMaxPacketBytes; it must hold the
	// largest command (MaxCommandPacketBytes). The daemon's own publisher
	// may send up to 16 MiB (spikes batches).
	MaxPacketBytes int
	// MaxClients bounds the clients connected at once, the daemon's
	// publisher not counted (it always gets in); the next is refused with
	// "server unavailable". Default DefaultMaxClients.
	MaxClients int
	// MaxSessions bounds the sessions the broker keeps, connected or not
	// (a client with clean session false keeps one after it leaves);
	// a CONNECT that would start one more ends the session disconnected
	// longest, or is refused when every session is connected. Default
	// 4 * MaxClients.
	MaxSessions int
	// SessionExpiry is how long the session of a client that left is
	// kept (its subscriptions and up to MaxInflight undelivered QoS 1
	// messages), and the longest an undelivered message is kept. Whole
	// seconds, at least one. Default DefaultSessionExpiry.
	SessionExpiry time.Duration
	// MaxInflight bounds the QoS 1/2 messages in flight per client, each
	// way: sent and not yet acknowledged (more are dropped for that
	// client), and received and not yet completed (MQTT's receive
	// maximum). Default DefaultMaxInflight.
	MaxInflight int
	// MaxWritesPending bounds the messages queued for writing to one
	// client; a client that reads too slowly loses the newest. Default
	// DefaultMaxWritesPending.
	MaxWritesPending int
	// AuthFailures is how many failed logins from one address start its
	// back-off. Default DefaultAuthFailures.
	AuthFailures int
	// AuthBackoff is the first back-off window: logins from that address
	// are refused ("server unavailable") without a password check; each
	// failure after a window doubles it, up to AuthBackoffMax. Defaults
	// DefaultAuthBackoff, DefaultAuthBackoffMax.
	AuthBackoff, AuthBackoffMax time.Duration
	// AuthCPUs are the CPUs the password checks (bcrypt, one at a time)
	// may run on, e.g. every CPU but the loop's; empty means
	// any. Linux only.
	AuthCPUs []int
}

// The embedded broker's limits unless the config says otherwise.
const (
	// DefaultMaxPacketBytes is 64 KiB: a setter command with one value
	// per unit for a population of ~7,000 units (9 bytes a value), and
	// far above the largest command of the demo (~200 bytes).
	DefaultMaxPacketBytes = 64 << 10
	DefaultMaxClients     = 32
	DefaultSessionExpiry  = time.Hour
	DefaultMaxInflight    = 64
	// DefaultMaxWritesPending is 256 messages: ~13 s of telemetry and
	// spikes at 10 Hz for a client that stopped reading.
	DefaultMaxWritesPending = 256
	// DefaultAuthFailures is 5: a paho client tries MQTT 3.1.1, then 3.1,
	// so one wrong password is two failures.
	DefaultAuthFailures   = 5
	DefaultAuthBackoff    = time.Second
	DefaultAuthBackoffMax = time.Minute
)

// CheckLimits checks cfg's limits as StartBroker will, without starting
// anything, so that a config can be refused at load. An error starts
// with the config field's name (max_packet_bytes: ...).
func (cfg BrokerConfig) CheckLimits() error {
	_, err := cfg.withDefaults()
	return err
}

// withDefaults fills in the zero limits and checks the rest.
func (cfg BrokerConfig) withDefaults() (BrokerConfig, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max_packet_bytes", int64(cfg.MaxPacketBytes)}, {"max_clients", int64(cfg.MaxClients)},
		{"max_sessions", int64(cfg.MaxSessions)}, {"session_expiry", int64(cfg.SessionExpiry)},
		{"max_inflight", int64(cfg.MaxInflight)}, {"max_writes_pending", int64(cfg.MaxWritesPending)},
		{"auth_failures", int64(cfg.AuthFailures)}, {"auth_backoff", int64(cfg.AuthBackoff)},
		{"auth_backoff_max", int64(cfg.AuthBackoffMax)},
	} {
		if f.v < 0 {
			return cfg, fmt.Errorf("%s: must be >= 0 (0 means the default), got %d", f.name, f.v)
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxPacketBytes, DefaultMaxPacketBytes)
	def(&cfg.MaxClients, DefaultMaxClients)
	def(&cfg.MaxSessions, 4*cfg.MaxClients)
	def(&cfg.MaxInflight, DefaultMaxInflight)
	def(&cfg.MaxWritesPending, DefaultMaxWritesPending)
	def(&cfg.AuthFailures, DefaultAuthFailures)
	defd(&cfg.SessionExpiry, DefaultSessionExpiry)
	defd(&cfg.AuthBackoff, DefaultAuthBackoff)
	defd(&cfg.AuthBackoffMax, DefaultAuthBackoffMax)
	switch {
	case cfg.MaxPacketBytes < minPacketBytes || cfg.MaxPacketBytes > daemonMaxPacketBytes:
		return cfg, fmt.Errorf("max_packet_bytes: must be %d..%d (a CONNECT with a user name and password needs a few hundred bytes), got %d", minPacketBytes, daemonMaxPacketBytes, cfg.MaxPacketBytes)
	case cfg.MaxSessions < cfg.MaxClients:
		return cfg, fmt.Errorf("max_sessions: must be >= max_clients (%d; every connected client has a session), got %d", cfg.MaxClients, cfg.MaxSessions)
	case cfg.SessionExpiry%time.Second != 0 || cfg.SessionExpiry > math.MaxUint32*time.Second:
		return cfg, fmt.Errorf("session_expiry: must be whole seconds, e.g. 1h, got %v", cfg.SessionExpiry)
	case cfg.MaxInflight > math.MaxUint16:
		return cfg, fmt.Errorf("max_inflight: must be at most %d (MQTT's packet ids), got %d", math.MaxUint16, cfg.MaxInflight)
	case cfg.MaxWritesPending > 1<<20:
		return cfg, fmt.Errorf("max_writes_pending: must be at most %d, got %d", 1<<20, cfg.MaxWritesPending)
	case cfg.AuthBackoffMax < cfg.AuthBackoff:
		return cfg, fmt.Errorf("auth_backoff_max: must be >= auth_backoff (%v), got %v", cfg.AuthBackoff, cfg.AuthBackoffMax)
	}
	for _, c := range cfg.AuthCPUs {
		if c < 0 || c >= 1024 {
			return cfg, fmt.Errorf("auth_cpus: must be CPU numbers 0..1023, got %d", c)
		}
	}
	return cfg, nil
}

// minPacketBytes is the smallest MaxPacketBytes accepted.
const minPacketBytes = 1024

// User is one broker account.
type User struct {
	Name string
	// Hash is the bcrypt hash of the password ("$2a$..." / "$2b$..." /
	// "$2y$..."), e.g. from `htpasswd -nbB name password`.
	Hash string
	// Command lets the user publish to <prefix>cmd/<name> and read the
	// replies; without it the user may only read status, telemetry, spikes.
	Command bool
}

// Broker is the embedded MQTT broker (mochi-mqtt) with spikeloop's
// authentication and ACL:
//
//   - anonymous clients connect from loopback addresses only, and may only
//     subscribe to <prefix>status, telemetry and spikes;
//   - configured users (bcrypt passwords) may read the same, and with the
//     Command right publish to <prefix>cmd/<name> and read
//     <prefix>cmd/<name>/reply;
//   - the daemon's publisher (DaemonUser) writes status, telemetry, spikes
//     and replies and reads cmd/<name>.
//
// Nothing else is allowed: a wildcard '#' filter is refused to everyone
// but the daemon, and publishing anywhere else is refused to everyone.
//
// Every resource a client can make it spend is bounded (BrokerConfig's
// limits): packet size, clients, sessions, messages held per client,
// connections waiting for their CONNECT, and password checks (one at a
// time, backed off per address); the log never carries a payload.
type Broker struct {
	srv      *mqtt.Server
	ln       net.Listener
	ws       *wsListener // nil: no WebSocket listener
	acl      *access
	gate     *authGate
	hook     *authHook
	lln      *limitListener
	replies  *replyFlow // command replies to their subscribers (broker_commands.go)
	password string     // DaemonUser's, random per start
}

var _ ReplySink = (*Broker)(nil)

// BrokerStats counts what the broker's limits did since it started.
type BrokerStats struct {
	PasswordChecks int64 // bcrypt compares run
	LoginsFailed   int64 // wrong password or unknown user
	LoginsRefused  int64 // refused without a check: back-off, or the check queue full
	ClientsRefused int64 // refused by MaxClients or MaxSessions
	PacketsRefused int64 // refused by MaxPacketBytes
	// SilentClosed counts connections closed before their CONNECT to
	// make room: at most 64 wait for theirs, for up to 10 s.
	SilentClosed int64
}

// Stats returns the counts so far.
func (b *Broker) Stats() BrokerStats {
	return BrokerStats{
		PasswordChecks: b.gate.compares.Load(),
		LoginsFailed:   b.gate.failed.Load(),
		LoginsRefused:  b.gate.refused.Load(),
		ClientsRefused: b.hook.clientsRefused.Load(),
		PacketsRefused: b.hook.packetsRefused.Load(),
		SilentClosed:   b.lln.evicted.Load(),
	}
}

// StartBroker checks cfg, listens and serves until Close.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultBrokerListen
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: listen %q: %w", cfg.Listen, err)
	}
	if !cfg.AllowNonLoopback && !IsLoopbackHost(host) {
		return nil, fmt.Errorf("broker: listen: must be a loopback address (set allow_non_loopback to listen on a network), got %q", cfg.Listen)
	}
	if cfg.WebSocketListen != "" {
		wsHost, _, err := net.SplitHostPort(cfg.WebSocketListen)
		if err != nil {
			return nil, fmt.Errorf("broker: websocket_listen %q: %w", cfg.WebSocketListen, err)
		}
		if !cfg.AllowNonLoopback && !IsLoopbackHost(wsHost) {
			return nil, fmt.Errorf("broker: websocket_listen: must be a loopback address (set allow_non_loopback to listen on a network), got %q", cfg.WebSocketListen)
		}
	}
	if err := CheckPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	acl, err := newAccess(cfg.Prefix, cfg.Users)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	password := cfg.DaemonPassword
	if password == "" {
		var buf [16]byte
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, fmt.Errorf("broker: daemon password: %w", err)
		}
		password = hex.EncodeToString(buf[:])
	}
	acl.daemonPassword = []byte(password)

	// mochi takes a *slog.Logger: the one place the module uses slog. Its
	// lines and the broker's own pass through brokerLog (redaction, one
	// line a second per message) into the caller's zerolog logger.
	log := slog.New(newBrokerLog(zerolog.NewSlogHandler(cfg.Logger)))
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = daemonMaxPacketBytes // the daemon's; limitConn holds the others to MaxPacketBytes
	// mochi's own count includes the daemon's publisher (authHook
	// leaves it out), and a reconnecting publisher may briefly have two.
	caps.MaximumClients = int64(cfg.MaxClients) + 4
	caps.MaximumSessionExpiryInterval = uint32(cfg.SessionExpiry / time.Second)
	caps.MaximumMessageExpiryInterval = int64(cfg.SessionExpiry / time.Second)
	caps.ReceiveMaximum = uint16(cfg.MaxInflight)
	caps.MaximumInflight = uint16(cfg.MaxInflight)
	caps.MaximumClientWritesPending = int32(cfg.MaxWritesPending)
	caps.TopicAliasMaximum = 0 // no client needs them; each alias is state kept per client
	caps.SharedSubAvailable = 0
	// The inline client carries commands to the daemon's publisher
	// in-process (HandleCommands), so that no queue of the broker drops
	// them on the way.
	srv := mqtt.New(&mqtt.Options{Logger: log, InlineClient: true, Capabilities: caps})

	gate, err := newAuthGate(cfg.AuthFailures, cfg.AuthBackoff, cfg.AuthBackoffMax, cfg.AuthCPUs, nil)
	if err != nil {
		log.Warn("broker: password checks run at the default priority on any CPU", "error", err)
	}
	acl.gate = gate
	hook := &authHook{acl: acl, srv: srv, maxClients: int64(cfg.MaxClients), maxSessions: cfg.MaxSessions, log: log}
	if err := srv.AddHook(hook, nil); err != nil {
		gate.close()
		return nil, fmt.Errorf("broker: auth hook: %w", err)
	}
	replies := &replyFlow{srv: srv, log: log, prefix: cfg.Prefix + "cmd/", maxInflight: cfg.MaxInflight, maxPending: cfg.MaxWritesPending, clients: map[string]*replyClient{}}
	if err := srv.AddHook(replies, nil); err != nil {
		gate.close()
		return nil, fmt.Errorf("broker: replies hook: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		gate.close()
		return nil, fmt.Errorf("broker: listen %q: %w", cfg.Listen, err)
	}
	lln := &limitListener{Listener: ln, limit: int64(cfg.MaxPacketBytes), log: log, refused: &hook.packetsRefused}
	if err := srv.AddListener(listeners.NewNet("tcp", lln)); err != nil {
		ln.Close()
		gate.close()
		return nil, fmt.Errorf("broker: listener: %w", err)
	}
	var wsl *wsListener
	if cfg.WebSocketListen != "" {
		if wsl, err = listenWebSocket(cfg.WebSocketListen, cfg.WebSocketOrigins, int64(cfg.MaxPacketBytes)); err != nil {
			ln.Close()
			gate.close()
			return nil, fmt.Errorf("broker: websocket_listen %q: %w", cfg.WebSocketListen, err)
		}
		wlln := &limitListener{Listener: wsl, limit: int64(cfg.MaxPacketBytes), log: log, refused: &hook.packetsRefused}
		if err := srv.AddListener(listeners.NewNet("ws", wlln)); err != nil {
			ln.Close()
			wsl.Close()
			gate.close()
			return nil, fmt.Errorf("broker: websocket listener: %w", err)
		}
	}
	if err := srv.Serve(); err != nil {
		ln.Close()
		if wsl != nil {
			wsl.Close()
		}
		gate.close()
		return nil, fmt.Errorf("broker: serve: %w", err)
	}
	return &Broker{srv: srv, ln: ln, ws: wsl, acl: acl, gate: gate, hook: hook, lln: lln, replies: replies, password: password}, nil
}

// Addr is the address the broker listens on (host:port).
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// URL is the broker's address for a client ("tcp://host:port").
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// WebSocketAddr is the WebSocket listener's host:port ("" without one);
// clients connect to ws://WebSocketAddr/mqtt.
func (b *Broker) WebSocketAddr() string {
	if b.ws == nil {
		return ""
	}
	return b.ws.Addr().String()
}

// AllowWebSocketOrigins adds to BrokerConfig.WebSocketOrigins (the live
// page's origin is known once its listener is up); without a WebSocket
// listener it does nothing.
func (b *Broker) AllowWebSocketOrigins(origins ...string) {
	if b.ws != nil {
		b.ws.allow(origins)
	}
}

// DaemonPassword is the password of DaemonUser for this run.
func (b *Broker) DaemonPassword() string { return b.password }

// Close disconnects every client and stops listening.
func (b *Broker) Close() error {
	err := b.srv.Close()
	b.gate.close()
	return err
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// CheckPrefix accepts a topic prefix of non-empty levels ending in '/'.
func CheckPrefix(p string) error {
	if p == "" || !strings.HasSuffix(p, "/") {
		return fmt.Errorf("prefix: must be topic levels ending in '/', e.g. \"spikeloop/demo/\", got %q", p)
	}
	for _, l := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if err := CheckTopicLevel(l); err != nil {
			return fmt.Errorf("prefix %q: level %q: %w", p, l, err)
		}
	}
	return nil
}

// ReadPasswordFile reads broker users from a file of lines
// "name:bcrypt-hash:right", right being "read" or "command"; blank lines
// and lines starting with '#' are skipped.
func ReadPasswordFile(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	var users []User
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("password file %s:%d: line: must be name:bcrypt-hash:read|command (3 fields), got %d fields", path, n, len(parts))
		}
		u := User{Name: parts[0], Hash: parts[1]}
		switch parts[2] {
		case "read":
		case "command":
			u.Command = true
		default:
			return nil, fmt.Errorf("password file %s:%d: right: must be read or command, got %q", path, n, parts[2])
		}
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	return users, nil
}

// access decides who may connect and what they may read and write. It is
// not changed after newAccess (apart from daemonPassword, set once before
// the broker serves), so the broker's goroutines read it freely.
type access struct {
	users          map[string]User
	daemonPassword []byte
	gate           *authGate // nil: bcrypt at once, no limit (tests of the ACL)
	// topic patterns, split into levels; "+" matches one level
	public  [][]string // status, telemetry, spikes: anyone reads
	cmd     []string   // <prefix>cmd/+ : Command users write, daemon reads
	reply   []string   // <prefix>cmd/+/reply : daemon writes, Command users read
	daemonW [][]string // what the daemon writes
}

func newAccess(prefix string, users []User) (*access, error) {
	a := &access{users: make(map[string]User, len(users))}
	for i, u := range users {
		if u.Name == "" || u.Name == DaemonUser {
			return nil, fmt.Errorf("users[%d]: name: must be a name neither empty nor reserved (%q), got %q", i, DaemonUser, u.Name)
		}
		if _, dup := a.users[u.Name]; dup {
			return nil, fmt.Errorf("users[%d]: name: must be given once, got %q twice", i, u.Name)
		}
		cost, err := bcrypt.Cost([]byte(u.Hash))
		if err != nil {
			return nil, fmt.Errorf("users[%d] %q: hash: not a bcrypt hash (%v); make one with `htpasswd -nbB name password`", i, u.Name, err)
		}
		if cost > maxBcryptCost {
			return nil, fmt.Errorf("users[%d] %q: hash: bcrypt cost %d is over %d (each login would take seconds of CPU); make one with `htpasswd -nbB -C 10 name password`", i, u.Name, cost, maxBcryptCost)
		}
		a.users[u.Name] = u
	}
	split := func(s string) []string { return strings.Split(prefix+s, "/") }
	a.public = [][]string{split("status"), split("telemetry"), split("spikes")}
	a.cmd = split("cmd/+")
	a.reply = split("cmd/+/reply")
	a.daemonW = append(append([][]string{}, a.public...), a.reply)
	return a, nil
}

// authenticate decides a CONNECT: anonymous from loopback only, users by
// bcrypt, the daemon by its per-run password. With a gate, a user's
// CONNECT was admitted by it (authHook.OnConnect) and the compare runs on
// its worker.
func (a *access) authenticate(user string, password []byte, remote string) bool {
	if user == "" {
		host, _, err := net.SplitHostPort(remote)
		return err == nil && IsLoopbackHost(host)
	}
	if user == DaemonUser {
		return len(a.daemonPassword) > 0 && subtle.ConstantTimeCompare(password, a.daemonPassword) == 1
	}
	u, ok := a.users[user]
	switch {
	case a.gate == nil:
		return ok && bcrypt.CompareHashAndPassword([]byte(u.Hash), password) == nil
	case !ok:
		a.gate.fail(remote)
		return false
	}
	return a.gate.compare(remote, []byte(u.Hash), password)
}

// gated reports whether a CONNECT as user goes through the gate.
func gated(user string) bool { return user != "" && user != DaemonUser }

// allow decides a subscribe (write false, topic a filter), a delivery
// (write false, a topic) or a publish (write true, a topic).
func (a *access) allow(user, topic string, write bool) bool {
	levels := strings.Split(topic, "/")
	var pats [][]string
	switch {
	case user == DaemonUser && write:
		pats = a.daemonW
	case user == DaemonUser:
		pats = [][]string{a.cmd}
	case write:
		if u, ok := a.users[user]; ok && u.Command {
			pats = [][]string{a.cmd}
		}
	default:
		pats = a.public
		if u, ok := a.users[user]; ok && u.Command {
			pats = append(append([][]string{}, a.public...), a.reply)
		}
	}
	for _, p := range pats {
		if covers(p, levels, write) {
			return true
		}
	}
	return false
}

// covers reports whether every topic the filter f names lies within the
// pattern p. A '+' in f is accepted on any level but the last (so
// "spikeloop/+/telemetry" works, "spikeloop/demo/+" does not); '#' and
// wildcards in a published topic never are.
func covers(p, f []string, write bool) bool {
	if len(p) != len(f) {
		return false
	}
	for i, l := range f {
		switch {
		case l == "#":
			return false
		case l == "+":
			if write || (i == len(f)-1 && p[i] != "+") {
				return false
			}
		case l == "":
			return false
		case p[i] != "+" && p[i] != l:
			return false
		}
	}
	return true
}

// authHook plugs access and the client limits into mochi.
type authHook struct {
	mqtt.HookBase
	acl                            *access
	srv                            *mqtt.Server
	maxClients                     int64 // the daemon's publisher comes on top
	maxSessions                    int
	log                            *slog.Logger
	clientsRefused, packetsRefused atomic.Int64
	daemons                        atomic.Int64 // the daemon's connections
}

var _ mqtt.Hook = (*authHook)(nil)

func (h *authHook) ID() string { return "spikeloop-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mqtt.OnConnect || b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck ||
		b == mqtt.OnSessionEstablished || b == mqtt.OnDisconnect
}

// OnSessionEstablished and OnDisconnect count the daemon's connections,
// which MaxClients leaves out.
func (h *authHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	if string(cl.Properties.Username) == DaemonUser {
		h.daemons.Add(1)
	}
}

func (h *authHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	if string(cl.Properties.Username) == DaemonUser {
		h.daemons.Add(-1)
	}
}

// OnConnect refuses, before any password check, a client over
// MaxClients or MaxSessions and a user whose address is backing off
// (mochi then closes the connection). Mochi has checked its own
// MaximumClients (MaxClients + 4) already.
func (h *authHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	user := string(pk.Connect.Username)
	if user != DaemonUser {
		_, known := h.srv.Clients.Get(cl.ID)
		switch {
		case atomic.LoadInt64(&h.srv.Info.ClientsConnected)-h.daemons.Load() >= h.maxClients:
			return h.refuse(cl, "broker: client refused: max_clients reached", "max_clients", h.maxClients)
		// (mochi's clients include its inline client, which carries
		// the commands: not a session.)
		case !known && h.srv.Clients.Len()-1 >= h.maxSessions && !h.evictSession():
			return h.refuse(cl, "broker: client refused: max_sessions reached, every session connected", "max_sessions", h.maxSessions)
		}
	}
	if gated(user) && h.acl.gate != nil && !h.acl.gate.admitRemote(cl.Net.Remote) {
		h.log.Warn("broker: login refused without a password check: too many failures from this address, backing off",
			"remote", cl.Net.Remote, "user", cut(user))
		h.sendUnavailable(cl)
		return packets.ErrServerBusy
	}
	return nil
}

// evictSession ends the session that has been disconnected longest,
// to make room for a new one; false if every session is connected.
func (h *authHook) evictSession() bool {
	var old *mqtt.Client
	for _, c := range h.srv.Clients.GetAll() {
		if t := c.StopTime(); t != 0 && !c.Net.Inline && (old == nil || t < old.StopTime()) {
			old = c
		}
	}
	if old == nil {
		return false
	}
	h.srv.UnsubscribeClient(old)
	old.ClearInflights()
	h.srv.Clients.Delete(old.ID)
	h.log.Warn("broker: max_sessions reached; dropped the session disconnected longest", "client", cut(old.ID), "max_sessions", h.maxSessions)
	return true
}

func (h *authHook) refuse(cl *mqtt.Client, msg string, args ...any) error {
	h.clientsRefused.Add(1)
	h.log.Warn(msg, append([]any{"remote", cl.Net.Remote}, args...)...)
	h.sendUnavailable(cl)
	return packets.ErrServerBusy
}

// sendUnavailable answers a refused CONNECT: "server unavailable" (3.1.1),
// "server busy" (5).
func (h *authHook) sendUnavailable(cl *mqtt.Client) {
	code := packets.ErrServerBusy
	if cl.Properties.ProtocolVersion < 5 {
		code = packets.ErrServerUnavailable
	}
	_ = h.srv.SendConnack(cl, code, false, nil)
}

func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(pk.Connect.Username)
	ok := h.acl.authenticate(user, pk.Connect.Password, cl.Net.Remote)
	if lc, isLimited := cl.Net.Conn.(*limitConn); ok && isLimited {
		lc.authenticated(user, user == DaemonUser)
	}
	return ok
}

func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.acl.allow(string(cl.Properties.Username), topic, write)
}
