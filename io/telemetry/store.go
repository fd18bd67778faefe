package telemetry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/rs/zerolog"
)

// countingStore wraps paho's file store for three reasons.
//
// It keeps the set of outbound keys ("o.<id>": publishes and subscribes
// not yet acknowledged), so that the publisher can tell without reading
// the directory when paho has sent everything it resumed after a
// reconnect. A key whose file paho finds unreadable (it renames it
// *.CORRUPT) leaves the set, so that one bad file cannot hold the
// publisher back for ever.
//
// It fixes the order of resumption: paho's FileStore.All sorts the files
// by modification time, which Linux records with the coarse clock (a few
// ms), so messages stored within one tick would be resent in any order.
// After each new outbound Put, the file's time is set to a stamp that is
// strictly later than every stamp before it, also those of files left
// by an earlier run (a board without a real-time clock may boot with its
// clock behind them).
//
// It contains paho's panics: FileStore panics on any file error (a full
// or read-only SD card, a removed directory), which would take the whole
// daemon, loop included, down with it. Here such an error is logged, the
// message is then not kept (sent if connected, else lost), and the daemon
// runs on.
//
// It removes paho's temporary files: FileStore writes each message to
// "<key>.tmp" and renames it "<key>.msg", and leaves the .tmp behind for
// good when the write or the rename fails (a full disk left hundreds of
// empty ones). Open removes every *.tmp an earlier run left (none holds
// a message: a message counts once renamed), and a failed Put removes
// its own.
type countingStore struct {
	mqtt.Store
	dir      string
	log      zerolog.Logger
	mu       sync.Mutex
	outbound map[string]struct{}
	last     time.Time       // latest stamp given or found
	empty    chan<- struct{} // poked (non-blocking) when outbound becomes empty
}

var _ mqtt.Store = (*countingStore)(nil)

// newCountingStore wraps paho's FileStore on dir.
func newCountingStore(dir string, log zerolog.Logger, empty chan<- struct{}) *countingStore {
	return &countingStore{Store: mqtt.NewFileStore(dir), dir: dir, log: log, outbound: map[string]struct{}{}, empty: empty}
}

// path is where paho's FileStore keeps key.
func (s *countingStore) path(key string) string { return filepath.Join(s.dir, key+".msg") }

// tmpPath is where paho's FileStore writes key before renaming it.
func (s *countingStore) tmpPath(key string) string { return filepath.Join(s.dir, key+".tmp") }

// removeTmp removes the store's temporary files; it returns how many.
func (s *countingStore) removeTmp() int {
	names, _ := filepath.Glob(filepath.Join(s.dir, "*.tmp"))
	n := 0
	for _, name := range names {
		if err := os.Remove(name); err == nil {
			n++
		} else if !os.IsNotExist(err) {
			s.log.Warn().Str("file", name).Err(err).Msg("mqtt: message store: cannot remove a temporary file")
		}
	}
	return n
}

func isOutbound(key string) bool { return strings.HasPrefix(key, "o.") }

// contain turns a panic of the wrapped store into a logged error.
func (s *countingStore) contain(op, key string) {
	if r := recover(); r != nil {
		s.log.Error().Str("op", op).Str("key", key).Str("dir", s.dir).Str("error", fmt.Sprint(r)).
			Msg("mqtt: message store failed; messages are not kept (lost if the broker is away)")
	}
}

// Open opens the wrapped store and counts what an earlier run left in it.
func (s *countingStore) Open() {
	defer s.contain("open", "")
	s.Store.Open()
	if n := s.removeTmp(); n > 0 {
		s.log.Info().Str("dir", s.dir).Int("files", n).Msg("mqtt: message store: removed temporary files of unfinished writes")
	}
	keys := s.Store.All()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if isOutbound(k) {
			s.outbound[k] = struct{}{}
		}
		if fi, err := os.Stat(s.path(k)); err == nil && fi.ModTime().After(s.last) {
			s.last = fi.ModTime()
		}
	}
}

func (s *countingStore) Put(key string, m packets.ControlPacket) {
	defer s.contain("put", key)
	defer func() {
		if r := recover(); r != nil {
			// The write or the rename failed: paho left key's .tmp.
			if err := os.Remove(s.tmpPath(key)); err != nil && !os.IsNotExist(err) {
				s.log.Warn().Str("file", s.tmpPath(key)).Err(err).Msg("mqtt: message store: cannot remove a temporary file")
			}
			panic(r) // to contain, which logs it
		}
	}()
	s.Store.Put(key, m)
	if !isOutbound(key) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, again := s.outbound[key]; again {
		return // keep its place in the order
	}
	s.outbound[key] = struct{}{}
	stamp := time.Now()
	if !stamp.After(s.last) {
		stamp = s.last.Add(time.Microsecond)
	}
	s.last = stamp
	// On failure the order falls back to paho's (coarse times).
	_ = os.Chtimes(s.path(key), stamp, stamp)
}

func (s *countingStore) Get(key string) (m packets.ControlPacket) {
	defer s.contain("get", key)
	m = s.Store.Get(key)
	if m == nil && isOutbound(key) {
		s.forget(key) // unreadable (renamed *.CORRUPT) or gone: nothing to resend
	}
	return m
}

func (s *countingStore) All() []string {
	defer s.contain("all", "")
	return s.Store.All()
}

func (s *countingStore) Del(key string) {
	defer s.contain("del", key)
	defer s.forget(key) // also when the file could not be removed
	s.Store.Del(key)
}

func (s *countingStore) Close() {
	defer s.contain("close", "")
	s.Store.Close()
}

func (s *countingStore) Reset() {
	defer s.contain("reset", "")
	s.mu.Lock()
	clear(s.outbound)
	s.mu.Unlock()
	s.Store.Reset()
}

// forget drops key from the outbound set, poking when it becomes empty.
func (s *countingStore) forget(key string) {
	if !isOutbound(key) {
		return
	}
	s.mu.Lock()
	_, had := s.outbound[key]
	delete(s.outbound, key)
	n := len(s.outbound)
	s.mu.Unlock()
	if had && n == 0 {
		select {
		case s.empty <- struct{}{}:
		default:
		}
	}
}

// pending is the number of outbound messages not yet acknowledged.
func (s *countingStore) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbound)
}
