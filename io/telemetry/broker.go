package telemetry

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
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
	// Prefix is the daemon's topic prefix ("spikeloop/<board>/"); the ACL
	// is written in terms of it.
	Prefix string
	// Users who may log in. None: commands are off (nobody may publish to
	// cmd/), and only anonymous loopback readers connect.
	Users []User
	// DaemonPassword is DaemonUser's password; empty means a random one
	// per start (the daemon starts broker and publisher together).
	DaemonPassword string
	// Logger gets the broker's warnings; nil discards them.
	Logger *slog.Logger
}

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
type Broker struct {
	srv      *mqtt.Server
	ln       net.Listener
	acl      *access
	password string // DaemonUser's, random per start
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
		return nil, fmt.Errorf("broker: listen %q: not a loopback address; set allow_non_loopback to listen on a network", cfg.Listen)
	}
	if err := CheckPrefix(cfg.Prefix); err != nil {
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

	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := mqtt.New(&mqtt.Options{Logger: log, InlineClient: false})
	if err := srv.AddHook(&authHook{acl: acl}, nil); err != nil {
		return nil, fmt.Errorf("broker: auth hook: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: listen %q: %w", cfg.Listen, err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("broker: listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("broker: serve: %w", err)
	}
	return &Broker{srv: srv, ln: ln, acl: acl, password: password}, nil
}

// Addr is the address the broker listens on (host:port).
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// URL is the broker's address for a client ("tcp://host:port").
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// DaemonPassword is the password of DaemonUser for this run.
func (b *Broker) DaemonPassword() string { return b.password }

// Close disconnects every client and stops listening.
func (b *Broker) Close() error { return b.srv.Close() }

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
		return fmt.Errorf("prefix %q: want topic levels ending in '/', e.g. \"spikeloop/demo/\"", p)
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
			return nil, fmt.Errorf("password file %s:%d: want name:bcrypt-hash:read|command, got %d fields", path, n, len(parts))
		}
		u := User{Name: parts[0], Hash: parts[1]}
		switch parts[2] {
		case "read":
		case "command":
			u.Command = true
		default:
			return nil, fmt.Errorf("password file %s:%d: right %q: want read or command", path, n, parts[2])
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
			return nil, fmt.Errorf("users[%d]: name %q is empty or reserved", i, u.Name)
		}
		if _, dup := a.users[u.Name]; dup {
			return nil, fmt.Errorf("users[%d]: %q given twice", i, u.Name)
		}
		if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
			return nil, fmt.Errorf("users[%d] %q: hash: not a bcrypt hash (%v); make one with `htpasswd -nbB name password`", i, u.Name, err)
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
// bcrypt, the daemon by its per-run password.
func (a *access) authenticate(user string, password []byte, remote string) bool {
	if user == "" {
		host, _, err := net.SplitHostPort(remote)
		return err == nil && IsLoopbackHost(host)
	}
	if user == DaemonUser {
		return len(a.daemonPassword) > 0 && subtle.ConstantTimeCompare(password, a.daemonPassword) == 1
	}
	u, ok := a.users[user]
	return ok && bcrypt.CompareHashAndPassword([]byte(u.Hash), password) == nil
}

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

// authHook plugs access into mochi.
type authHook struct {
	mqtt.HookBase
	acl *access
}

var _ mqtt.Hook = (*authHook)(nil)

func (h *authHook) ID() string { return "spikeloop-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return h.acl.authenticate(string(pk.Connect.Username), pk.Connect.Password, cl.Net.Remote)
}

func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.acl.allow(string(cl.Properties.Username), topic, write)
}
