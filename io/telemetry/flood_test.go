package telemetry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
)

// queueControls is a Controls built as the daemon's is: Submit puts the
// command in a queue of length n or refuses it as busy; a "loop"
// goroutine takes every waiting command once per tick, applies it to
// state and answers. It keeps the order in which it applied them.
type queueControls struct {
	q    chan queued
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	applied []float64 // the values, in the order applied
	state   float64   // the value last applied
}

type queued struct {
	act  Action
	done func(error)
}

func newQueueControls(t *testing.T, n int, tick time.Duration) *queueControls {
	c := &queueControls{q: make(chan queued, n), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tk.C:
			}
			for drained := false; !drained; {
				select {
				case w := <-c.q:
					c.mu.Lock()
					c.applied = append(c.applied, w.act.Values[0])
					c.state = w.act.Values[0]
					c.mu.Unlock()
					w.done(nil)
				default:
					drained = true
				}
			}
		}
	}()
	t.Cleanup(func() { close(c.stop); <-c.done })
	return c
}

func (c *queueControls) Submit(act Action, done func(error)) {
	select {
	case c.q <- queued{act, done}:
	default:
		done(&BusyError{Queue: cap(c.q)})
	}
}

// floodCmd is a drive command with id and value.
func floodCmd(id string, value float64) []byte {
	b, err := (&Command{Version: 1, ID: id, Value: f64(value)}).MarshalMsg(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// replies is a subscriber's collection of replies, in arrival order.
type replies struct {
	mu  sync.Mutex
	got []Reply
	bad int // payloads that were not a Reply
}

func (r *replies) handler(_ mqtt.Client, m mqtt.Message) {
	var rep Reply
	_, err := rep.UnmarshalMsg(m.Payload())
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.bad++
		return
	}
	r.got = append(r.got, rep)
}

func (r *replies) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// countNot counts the replies whose id is not id.
func (r *replies) countNot(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rep := range r.got {
		if rep.ID != id {
			n++
		}
	}
	return n
}

// TestCommandFlood sends 5,000 valid setters in one burst, at QoS 0 and
// at QoS 1, through the embedded broker to a publisher whose Controls
// queue 64 commands for a loop that applies them once a millisecond.
// Every command is answered exactly once, in the order sent: applied, or
// busy with the queue's length. The commands applied are the ones
// answered ok, in the order sent, and the last of them is the final
// state. How many are busy depends on the machine; that each is
// answered does not.
func TestCommandFlood(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			b := startTestBroker(t, User{Name: "op", Hash: hash(t, "pw"), Command: true})
			v, err := NewValidator(testAllow())
			if err != nil {
				t.Fatal(err)
			}
			ctl := newQueueControls(t, floodQueue, time.Millisecond)
			var logs lockedBuffer
			p := testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(),
				Validator: v, Controls: ctl, InlineCommands: true, Replies: b, Logger: zerolog.New(&logs).With().Timestamp().Logger()}, newQueue(t, 8))
			if err := b.HandleCommands(p.Command); err != nil {
				t.Fatal(err)
			}
			op := mustConnect(t, b.URL(), "op", "op", "pw")
			flood(t, op, qos, qos, p, ctl, func() string { return brokerDrops(b) }, &logs)
		})
	}
}

// TestCommandFloodMosquitto is TestCommandFlood through Debian's
// mosquitto: the publisher takes the commands from paho's router
// (subscribed at QoS 0) and sends the replies through paho. The
// commander subscribes to the replies at QoS 0 (mosquitto queues at
// most 1,000 QoS 1 messages for a client beyond those in flight, and
// drops the rest).
func TestCommandFloodMosquitto(t *testing.T) {
	m := mqtttest.New(t, mqtttest.FreeAddr(t))
	m.Start(t)
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			ctl := newQueueControls(t, floodQueue, time.Millisecond)
			var logs lockedBuffer
			p := testPublisher(t, PublisherConfig{Broker: "tcp://" + m.Addr, ClientID: fmt.Sprintf("flood%d", qos),
				Validator: v, Controls: ctl, Logger: zerolog.New(&logs).With().Timestamp().Logger()}, newQueue(t, 8))
			op := mustConnect(t, "tcp://"+m.Addr, fmt.Sprintf("op%d", qos), "", "")
			flood(t, op, qos, 0, p, ctl, func() string { return "mosquitto's log:\n" + m.Log() }, &logs)
		})
	}
}

// floodQueue is the length of queueControls' queue in the flood tests.
const floodQueue = 64

// readyID and readyValue mark the flood tests' first commands, repeated
// until one is answered; the burst's values (-250 to 249.9) differ.
const (
	readyID    = "ready"
	readyValue = -500
)

// flood is the body of the flood tests: op subscribes to the replies at
// subQoS, waits until the publisher answers, sends 5,000 drive commands
// at qos in one burst and checks the replies and what ctl applied.
//
// No leg here may deliver a command or a reply twice: op never
// reconnects (a QoS 1 publish is resent only on a reconnect), the
// publisher takes commands at QoS 0 (or in the process) and a reconnect
// of its own would show in its log, printed on failure. So every command
// is answered exactly once, and the test says so.
func flood(t *testing.T, op *client, qos, subQoS byte, p *Publisher, ctl *queueControls, drops func() string, logs *lockedBuffer) {
	t.Helper()
	const n, queue = 5000, floodQueue
	var got replies
	if tok := op.c.Subscribe(testPrefix+"cmd/+/reply", subQoS, got.handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	// The publisher subscribes once connected: a first command, repeated
	// until answered, says it is listening. Several may be answered, and
	// the last of them only after the burst below has started: on a
	// loaded machine a reply can take longer than any wait here (a test
	// that waited for the ready replies to stop, then forgot them, once
	// counted 5,001 replies). They are told apart by id instead; they
	// were all sent, and acknowledged by the broker, before the burst, so
	// they come first.
	waitFor(t, 5*time.Second, "the publisher listening", func() bool {
		waitPublished(t, op.c.Publish(testPrefix+"cmd/drive", 1, false, floodCmd(readyID, readyValue)))
		time.Sleep(20 * time.Millisecond)
		return got.count() > 0
	})

	// The burst: command i carries id i and value i/10 - 250.
	start := time.Now()
	readyBefore := got.count() // ready replies before the burst (the rest came later)
	toks := make([]mqtt.Token, n)
	for i := range n {
		toks[i] = op.c.Publish(testPrefix+"cmd/drive", qos, false, floodCmd(strconv.Itoa(i), float64(i)/10-250))
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	sent := time.Since(start)
	// A bound against a hang, not a speed test: through mosquitto and
	// paho's file store the replies took up to 16 s at a load average of
	// 12-15 on this machine's 2 cores (2-5 s idle).
	for end := time.Now().Add(time.Minute); got.countNot(readyID) < n && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(100 * time.Millisecond) // a reply too many would show here
	got.mu.Lock()
	all := append([]Reply(nil), got.got...)
	bad := got.bad
	got.mu.Unlock()
	st := p.Stats()

	// The ready replies: first, each ok (or busy, were 64 of them waiting).
	k := 0
	for k < len(all) && all[k].ID == readyID {
		k++
	}
	readies, rs := all[:k], all[k:]
	busy, readyOK := 0, 0
	for i, r := range readies {
		switch {
		case r.OK:
			readyOK++
		case r.Busy:
			busy++
		default:
			t.Fatalf("ready reply %d: %+v, want ok or busy", i, r)
		}
	}
	if len(rs) != n || bad != 0 {
		t.Fatalf("%d replies (and %d undecodable) to %d commands, besides %d ready replies; %s; publisher %+v; %s; publisher log:\n%s",
			len(rs), bad, n, len(readies), replyIDs(rs, n), st, drops(), logs.String())
	}

	// One reply per command, in the order sent.
	var ok []float64 // the values of the commands answered ok
	last := -1
	for i, r := range rs {
		if r.ID != strconv.Itoa(i) || r.Name != "drive" {
			t.Fatalf("reply %d: id %q name %q, want id %d: replies out of order or lost; %s", i, r.ID, r.Name, i, replyIDs(rs, n))
		}
		switch {
		case r.OK && r.Error == "" && !r.Busy && r.Queue == 0:
			ok, last = append(ok, float64(i)/10-250), i
		case !r.OK && r.Busy && r.Queue == queue && r.Error == fmt.Sprintf(`cmd "drive": busy: %d commands are waiting for the loop (the queue is full); nothing was changed, try again`, queue):
			busy++
		default:
			t.Fatalf("reply %d: %+v, want ok, or busy with queue %d", i, r, queue)
		}
	}
	// Applied: the ready commands answered ok, then exactly the commands
	// answered ok, in the order sent.
	ctl.mu.Lock()
	applied := append([]float64(nil), ctl.applied...)
	state := ctl.state
	ctl.mu.Unlock()
	if len(applied) < readyOK || slices.ContainsFunc(applied[:readyOK], func(x float64) bool { return x != readyValue }) {
		t.Fatalf("applied %v first, want the %d ready commands answered ok", applied[:min(readyOK, len(applied))], readyOK)
	}
	applied = applied[readyOK:]
	if fmt.Sprint(applied) != fmt.Sprint(ok) {
		t.Fatalf("applied %d commands after the ready ones, answered ok %d; the orders differ", len(applied), len(ok))
	}
	if len(ok) == 0 {
		t.Fatal("no command applied")
	}
	if want := float64(last)/10 - 250; state != want {
		t.Fatalf("final state %v, want %v (command %d, the last answered ok)", state, want, last)
	}
	if st.CommandsBusy != uint64(busy) || st.CommandsDropped != 0 {
		t.Fatalf("publisher stats %+v; %d busy replies", st, busy)
	}
	t.Logf("qos %d: %d commands sent in %v, %d replies in %v: %d applied, %d busy (queue %d); last applied %d; %d ready replies, %d of them after the burst began",
		qos, n, sent.Round(time.Millisecond), len(rs), elapsed.Round(time.Millisecond), len(ok), busy, queue, last, len(readies), len(readies)-readyBefore)
}

// replyIDs says, for a failure message, which of the ids 0..n-1 the
// replies rs lack or repeat, and which other ids they carry.
func replyIDs(rs []Reply, n int) string {
	times := map[string]int{}
	var other []string
	for _, r := range rs {
		if i, err := strconv.Atoi(r.ID); err != nil || i < 0 || i >= n {
			other = append(other, r.ID)
		}
		times[r.ID]++
	}
	var missing, twice []int
	for i := range n {
		switch c := times[strconv.Itoa(i)]; {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			twice = append(twice, i)
		}
	}
	first := func(x []int) []int { return x[:min(len(x), 20)] }
	return fmt.Sprintf("ids missing: %d %v, more than once: %d %v, others: %q", len(missing), first(missing), len(twice), first(twice), other[:min(len(other), 20)])
}

// stuckControls takes every command and answers none until release: a
// loop that hangs.
type stuckControls struct {
	mu      sync.Mutex
	pending []func(error)
	values  []float64 // of the commands taken
}

func (s *stuckControls) Submit(act Action, done func(error)) {
	s.mu.Lock()
	s.pending = append(s.pending, done)
	s.values = append(s.values, act.Values[0])
	s.mu.Unlock()
}

func (s *stuckControls) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// took says whether a command of value x was taken.
func (s *stuckControls) took(x float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.values, x)
}

func (s *stuckControls) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, done := range s.pending {
		done(nil)
	}
	s.pending = nil
}

// TestStuckLoopDoesNotStallPublishing floods commands while the loop
// does not answer: every command still reaches Controls (paho's router
// never waits: its known deadlock would also stop the acknowledgements
// of our publishes), telemetry keeps being sent and acknowledged, the
// replies wait; once the loop answers, every reply goes out, in order.
func TestStuckLoopDoesNotStallPublishing(t *testing.T) {
	b := startTestBroker(t, User{Name: "op", Hash: hash(t, "pw"), Command: true})
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	ctl := &stuckControls{}
	q := newQueue(t, 64)
	p := testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(),
		Validator: v, Controls: ctl, InlineCommands: true, Replies: b}, q)
	if err := b.HandleCommands(p.Command); err != nil {
		t.Fatal(err)
	}

	sub := mustConnect(t, b.URL(), "watcher", "", "")
	sub.subscribe(t, testPrefix+"telemetry", 1)
	op := mustConnect(t, b.URL(), "op", "op", "pw")
	var got replies
	if tok := op.c.Subscribe(testPrefix+"cmd/+/reply", 1, got.handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	waitFor(t, 5*time.Second, "a command in the stuck Controls", func() bool {
		waitPublished(t, op.c.Publish(testPrefix+"cmd/drive", 0, false, floodCmd("first", -400)))
		time.Sleep(20 * time.Millisecond)
		return ctl.waiting() > 0
	})
	toks := make([]mqtt.Token, 1000)
	for i := range toks {
		toks[i] = op.c.Publish(testPrefix+"cmd/drive", 0, false, floodCmd(strconv.Itoa(i), float64(i)/4-250))
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	waitPublished(t, op.c.Publish(testPrefix+"cmd/drive", 1, false, floodCmd("last", 300)))
	waitFor(t, 5*time.Second, "the last command in Controls", func() bool { return ctl.took(300) })

	var s Telemetry
	for i := range uint64(20) {
		q.Push(sample(i, &s))
	}
	for range 20 {
		sub.next(t, testPrefix+"telemetry", 5*time.Second)
	}
	waitFor(t, 5*time.Second, "acknowledgements", func() bool { return p.store.pending() == 0 })
	if n := got.count(); n != 0 {
		t.Fatalf("%d replies before the loop answered", n)
	}

	waiting := ctl.waiting()
	ctl.release()
	waitFor(t, 10*time.Second, "the replies", func() bool { return got.count() >= 1001 })
	got.mu.Lock()
	rs := append([]Reply(nil), got.got...)
	got.mu.Unlock()
	var ids []string
	for _, r := range rs {
		if !r.OK {
			t.Fatalf("reply %+v", r)
		}
		if r.ID != "first" {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != 1001 || ids[1000] != "last" {
		t.Fatalf("%d replies besides the first ones, the last %q", len(ids), ids[len(ids)-1])
	}
	for i := range 1000 {
		if ids[i] != strconv.Itoa(i) {
			t.Fatalf("reply %d has id %q: out of order", i, ids[i])
		}
	}
	t.Logf("%d commands held while stuck, stats %+v", waiting, p.Stats())
}

// brokerDrops says what the broker dropped, for a failure message.
func brokerDrops(b *Broker) string {
	in := b.srv.Info
	return fmt.Sprintf("the broker dropped %d messages (%d over max_inflight), received %d, sent %d",
		atomic.LoadInt64(&in.MessagesDropped), atomic.LoadInt64(&in.InflightDropped),
		atomic.LoadInt64(&in.MessagesReceived), atomic.LoadInt64(&in.MessagesSent))
}

// TestStalledReplySubscriber: a client subscribed to the replies at QoS 1
// that never acknowledges one fills its max_inflight; the replies wait
// for it a second (replyStall), then go on without it, so a commander
// that reads gets every reply of a burst all the same.
func TestStalledReplySubscriber(t *testing.T) {
	const n = 500
	b, logs := limitedBroker(t, BrokerConfig{})
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	ctl := newQueueControls(t, 64, time.Millisecond)
	p := testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: "pw",
		Validator: v, Controls: ctl, InlineCommands: true, Replies: b}, newQueue(t, 8))
	if err := b.HandleCommands(p.Command); err != nil {
		t.Fatal(err)
	}
	sleeper := mustRaw(t, b, "sleeper", "op", "op-secret", false)
	if qos, err := sleeper.subscribe(testPrefix+"cmd/+/reply", 1); err != nil || qos != 1 {
		t.Fatalf("sleeper subscribe: %v, QoS %d", err, qos)
	}
	op := mustConnect(t, b.URL(), "op", "op", "op-secret")
	var got replies
	if tok := op.c.Subscribe(testPrefix+"cmd/+/reply", 1, got.handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	for i := range n {
		op.c.Publish(testPrefix+"cmd/drive", 1, false, floodCmd(strconv.Itoa(i), float64(i%500)))
	}
	waitFor(t, 10*time.Second, "every reply", func() bool { return got.count() >= n })
	got.mu.Lock()
	defer got.mu.Unlock()
	for i, r := range got.got {
		if r.ID != strconv.Itoa(i) {
			t.Fatalf("reply %d has id %q", i, r.ID)
		}
	}
	if !strings.Contains(logs.String(), "replies no longer wait for it") {
		t.Errorf("the stalled subscriber was not logged:\n%s", logs.String())
	}
}

// TestLogLimit: at most perSecond lines a second; the next line allowed
// says how many were not logged.
func TestLogLimit(t *testing.T) {
	var l logLimit
	t0 := time.Unix(1000, 0)
	logged := 0
	for i := range 25 {
		if ok, skipped := l.allow(t0.Add(time.Duration(i)*time.Millisecond), 20); ok {
			logged++
			if skipped != 0 {
				t.Fatalf("line %d: %d not logged, want 0", i, skipped)
			}
		}
	}
	if logged != 20 {
		t.Fatalf("%d lines logged in one second, want 20", logged)
	}
	if ok, skipped := l.allow(t0.Add(time.Second), 20); !ok || skipped != 5 {
		t.Fatalf("next second: ok %v, %d not logged, want true, 5", ok, skipped)
	}
}

// TestReplyQueueBound: while the loop answers nothing, replies wait;
// once maxReplyBytes of them wait, a command is dropped unanswered,
// counted, and never reaches Controls (so never applied). Commands of
// 60 kB ids fill the bound after 69: 192 + 60,000 + 5 ("drive") + 8 (the
// value) bytes each.
func TestReplyQueueBound(t *testing.T) {
	b := startTestBroker(t, User{Name: "op", Hash: hash(t, "pw"), Command: true})
	v, err := NewValidator(testAllow())
	if err != nil {
		t.Fatal(err)
	}
	ctl := &stuckControls{}
	p := testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(),
		Validator: v, Controls: ctl, InlineCommands: true, Replies: b}, newQueue(t, 8))
	if err := b.HandleCommands(p.Command); err != nil {
		t.Fatal(err)
	}
	op := mustConnect(t, b.URL(), "op", "op", "pw")
	id := strings.Repeat("x", 60_000)
	const n = 80
	for i := range n {
		if tok := op.c.Publish(testPrefix+"cmd/drive", 1, false, floodCmd(id, float64(i))); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	const fit = maxReplyBytes / (replyOverhead + 60_000 + len("drive") + 8)
	if fit != 69 {
		t.Fatalf("%d replies of this size fit, the test expects 69", fit)
	}
	// (mochi acknowledges a publish before it hands it on.)
	waitFor(t, 5*time.Second, "every command taken", func() bool { return p.Stats().CommandsDropped+uint64(ctl.waiting()) >= n })
	if got, st := ctl.waiting(), p.Stats(); got != fit || st.CommandsDropped != uint64(n-fit) {
		t.Fatalf("%d commands reached Controls, %d dropped; want %d and %d", got, st.CommandsDropped, fit, n-fit)
	}
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	for i, x := range ctl.values {
		if x != float64(i) {
			t.Fatalf("command %d reached Controls as %v: not in order", i, x)
		}
	}
}
