package telemetry

import (
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Password checks on the embedded broker are the one costly thing an
// unauthenticated client can make it do: a bcrypt compare at cost 10 is
// ~60 ms of CPU. authGate makes them cheap to refuse and impossible to
// pile up:
//
//   - every compare runs on one worker goroutine, one at a time, on an
//     OS thread of its own that, when BrokerConfig.AuthCPUs says so, is
//     kept off the loop's CPU (at the process's priority: see
//     pinThread); at most
//     authQueue CONNECTs wait for it, more are refused at once;
//   - failures are counted per client address (all of 127.0.0.0/8 and ::1
//     are one address, an IPv6 address counts by its /64, since a local
//     process can pick any of them); after AuthFailures failures the
//     address is refused without a compare for a back-off window
//     (AuthBackoff, doubling after each further failure, at most
//     AuthBackoffMax); a success clears the address's record.
//
// The daemon's own user is checked by a constant-time compare of its
// random password (no bcrypt), never counted nor refused by the gate, so a
// flood from loopback cannot lock the daemon out of its own broker.

// authQueue bounds the CONNECTs waiting for the bcrypt worker.
const authQueue = 4

// maxBcryptCost bounds the cost of a configured hash: cost 14 is ~1 s of
// CPU per login on a Raspberry Pi 4, and each step doubles it.
const maxBcryptCost = 14

// authJob is one compare for the worker.
type authJob struct {
	hash, password []byte
	done           chan bool
}

// failRecord is one address's recent failures.
type failRecord struct {
	fails   int           // consecutive failures
	pending int           // compares queued or running
	until   time.Time     // refused until then
	backoff time.Duration // the last window
	last    time.Time     // last attempt, for forgetting the record
}

// authGate rate-limits and serializes password checks (see above).
type authGate struct {
	failures       int
	backoff, limit time.Duration
	bcrypt         func(hash, password []byte) error
	now            func() time.Time

	jobs    chan authJob
	stop    chan struct{}
	stopped sync.WaitGroup

	mu    sync.Mutex
	addrs map[netip.Prefix]*failRecord

	compares, failed, refused atomic.Int64
}

// maxFailRecords bounds the gate's memory: past it, records without a
// running back-off are forgotten first.
const maxFailRecords = 4096

// newAuthGate starts the worker; the error says why its thread could not
// be kept on cpus (the gate works all the same).
func newAuthGate(failures int, backoff, limit time.Duration, cpus []int, compare func(hash, password []byte) error) (*authGate, error) {
	if compare == nil {
		compare = bcrypt.CompareHashAndPassword
	}
	g := &authGate{
		failures: failures, backoff: backoff, limit: limit,
		bcrypt: compare, now: time.Now,
		jobs:  make(chan authJob, authQueue),
		stop:  make(chan struct{}),
		addrs: make(map[netip.Prefix]*failRecord),
	}
	started := make(chan error)
	g.stopped.Add(1)
	go g.worker(cpus, started)
	return g, <-started
}

// worker runs every compare, one at a time, on a thread of its own.
func (g *authGate) worker(cpus []int, started chan<- error) {
	defer g.stopped.Done()
	// The thread keeps its affinity: it is never unlocked, so the
	// runtime ends it with the goroutine instead of reusing it.
	runtime.LockOSThread()
	started <- pinThread(cpus)
	for {
		select {
		case j := <-g.jobs:
			g.compares.Add(1)
			j.done <- g.bcrypt(j.hash, j.password) == nil
		case <-g.stop:
			return
		}
	}
}

// close stops the worker; CONNECTs still waiting are refused.
func (g *authGate) close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.stopped.Wait()
}

// addrKey is the unit failures are counted by.
func addrKey(remote string) netip.Prefix {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0) // one key for every loopback address
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	default:
		p, _ := a.Prefix(64)
		return p
	}
}

// admitRemote decides, without a compare, whether a client at remote
// may have its password checked now; when it may, the check is counted
// as pending and exactly one of compare or fail must follow.
func (g *authGate) admitRemote(remote string) bool {
	if !g.admit(addrKey(remote)) {
		g.refused.Add(1)
		return false
	}
	return true
}

// compare checks password against hash on the worker, for a client
// admitted by admitRemote, and records the outcome. A full queue refuses
// without a compare (and without counting a failure).
func (g *authGate) compare(remote string, hash, password []byte) bool {
	key := addrKey(remote)
	j := authJob{hash: hash, password: password, done: make(chan bool, 1)}
	select {
	case g.jobs <- j:
	default:
		g.release(key)
		g.refused.Add(1)
		return false
	}
	var ok bool
	select {
	case ok = <-j.done:
	case <-g.stop:
		g.release(key)
		return false
	}
	g.done(key, ok)
	if !ok {
		g.failed.Add(1)
	}
	return ok
}

// fail records a failure without a compare (an unknown user), for a
// client admitted by admitRemote.
func (g *authGate) fail(remote string) {
	g.done(addrKey(remote), false)
	g.failed.Add(1)
}

// admit decides whether key may have a compare now, and counts it.
func (g *authGate) admit(key netip.Prefix) bool {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.addrs[key]
	if r == nil {
		if len(g.addrs) >= maxFailRecords {
			g.forget(now)
		}
		r = &failRecord{}
		g.addrs[key] = r
	}
	if r.pending == 0 && !now.Before(r.until) && now.Sub(r.last) > g.limit {
		r.fails, r.backoff = 0, 0 // quiet for the longest window: forgiven
	}
	r.last = now
	switch {
	case now.Before(r.until):
		return false
	case r.fails+r.pending >= g.failures && r.pending > 0:
		// the window is over: one probe at a time until one succeeds
		return false
	}
	r.pending++
	return true
}

// release undoes admit for a compare that did not run.
func (g *authGate) release(key netip.Prefix) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.addrs[key]; r != nil && r.pending > 0 {
		r.pending--
	}
}

// done records the outcome of key's compare.
func (g *authGate) done(key netip.Prefix, ok bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.addrs[key]
	if r == nil {
		return
	}
	if r.pending > 0 {
		r.pending--
	}
	if ok {
		delete(g.addrs, key)
		return
	}
	r.fails++
	if r.fails >= g.failures {
		r.backoff = min(max(2*r.backoff, g.backoff), g.limit)
		r.until = now.Add(r.backoff)
	}
}

// forget drops records that hold no window and no compare, oldest
// attempts first when that is not enough. g.mu is held.
func (g *authGate) forget(now time.Time) {
	for k, r := range g.addrs {
		if r.pending == 0 && !now.Before(r.until.Add(g.limit)) {
			delete(g.addrs, k)
		}
	}
	for k, r := range g.addrs {
		if len(g.addrs) < maxFailRecords {
			return
		}
		if r.pending == 0 {
			delete(g.addrs, k)
		}
	}
}
