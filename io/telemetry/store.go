package telemetry

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// countingStore wraps paho's file store for two reasons.
//
// It keeps the set of outbound keys ("o.<id>": publishes and subscribes
// not yet acknowledged), so that the publisher can tell without reading
// the directory when paho has sent everything it resumed after a
// reconnect.
//
// It fixes the order of resumption: paho's FileStore.All sorts the files
// by modification time, which Linux records with the coarse clock (a few
// ms), so messages stored within one tick would be resent in any order.
// After each new outbound Put, the file's time is set to a stamp that is
// strictly later than every stamp before it, also those of files left
// by an earlier run (a board without a real-time clock may boot with its
// clock behind them).
type countingStore struct {
	mqtt.Store
	dir      string
	mu       sync.Mutex
	outbound map[string]struct{}
	last     time.Time       // latest stamp given or found
	empty    chan<- struct{} // poked (non-blocking) when outbound becomes empty
}

var _ mqtt.Store = (*countingStore)(nil)

// newCountingStore wraps paho's FileStore on dir.
func newCountingStore(dir string, empty chan<- struct{}) *countingStore {
	return &countingStore{Store: mqtt.NewFileStore(dir), dir: dir, outbound: map[string]struct{}{}, empty: empty}
}

// path is where paho's FileStore keeps key.
func (s *countingStore) path(key string) string { return filepath.Join(s.dir, key+".msg") }

func isOutbound(key string) bool { return strings.HasPrefix(key, "o.") }

// Open opens the wrapped store and counts what an earlier run left in it.
func (s *countingStore) Open() {
	s.Store.Open()
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

func (s *countingStore) Del(key string) {
	s.Store.Del(key)
	if isOutbound(key) {
		s.mu.Lock()
		delete(s.outbound, key)
		n := len(s.outbound)
		s.mu.Unlock()
		if n == 0 {
			select {
			case s.empty <- struct{}{}:
			default:
			}
		}
	}
}

func (s *countingStore) Reset() {
	s.Store.Reset()
	s.mu.Lock()
	clear(s.outbound)
	s.mu.Unlock()
}

// pending is the number of outbound messages not yet acknowledged.
func (s *countingStore) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbound)
}
