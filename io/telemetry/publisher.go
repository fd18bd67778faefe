package telemetry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Broker is the broker's URL: "tcp://host:port" or "ssl://host:port".
	Broker string
	// Board is the board id: in the default prefix, the client id and
	// every payload.
	Board string
	// Prefix of every topic; empty means "spikeloop/<Board>/".
	Prefix string
	// ClientID is the MQTT client id; empty means "spikeloop-<Board>". It
	// must stay the same across restarts: the broker session and the
	// store of unsent messages belong to it.
	ClientID string
	// Username and Password log in to the broker; empty: anonymous.
	Username, Password string
	// TLS, when not nil, is used for ssl:// brokers (CA, client
	// certificate, server name verification).
	TLS *tls.Config
	// StoreDir is the directory of paho's file store: QoS 1 messages not
	// yet acknowledged live there, so they survive broker outages and
	// daemon restarts. Required.
	StoreDir string
	// Status is the birth message's content; Version, Board and State are
	// filled in here, and Run (NewRunID) when empty. Status.Run is also
	// the run of every sample and spike batch published.
	Status Status
	// Spikes, when not nil, is the loop's hand-off of spike batches for
	// the spikes topic.
	Spikes *SpikeQueue
	// Metrics, when not nil, gets every telemetry sample the publisher
	// takes and the publisher's counters, for the /metrics endpoint.
	Metrics *Metrics
	// Validator and Controls handle commands. A nil Validator means
	// commands are off: the publisher does not subscribe to cmd/.
	Validator *Validator
	Controls  Controls
	// InlineCommands: the embedded broker hands commands to Command
	// (Broker.HandleCommands), so the publisher does not subscribe to
	// them over MQTT.
	InlineCommands bool
	// Replies, when not nil, publishes the command replies in the
	// process, each when every subscriber has room for it (the embedded
	// Broker); nil: they go through paho like the rest.
	Replies ReplySink
	// Logger gets connection events and errors; the zero Logger discards
	// them.
	Logger zerolog.Logger
	// ConnectTimeout bounds one connection attempt (default 5 s);
	// MaxReconnectInterval bounds the reconnect backoff (default 10 s);
	// ConnectRetryInterval is the wait between first-connect attempts
	// (default 1 s); WriteTimeout bounds one Publish (default 5 s).
	ConnectTimeout, MaxReconnectInterval, ConnectRetryInterval, WriteTimeout time.Duration
}

// ReplySink publishes command replies in the broker's process. ReplyRoom
// reports whether every subscriber of replies can take one more now;
// the publisher holds the replies back while it cannot (the broker
// stops waiting for a subscriber that takes none for a while).
type ReplySink interface {
	ReplyRoom() bool
	PublishReply(topic string, payload []byte) error
}

// Publisher sends the loop's telemetry, the birth status and command
// replies to an MQTT broker with QoS 1, and takes commands.
//
// Delivery: paho keeps every QoS 1 message in a file store until the
// broker acknowledges it, reconnects by itself, and after a reconnect (or
// a restart) sends what is stored. Publisher keeps the order: from the
// start of a connection attempt until paho has sent all it stored, new
// messages wait in the Queue (which drops the oldest when full) instead
// of overtaking the stored ones; while the broker is unreachable they go
// to the store. The loop is never touched: it only pushes to the Queue.
//
// paho's callbacks (router, connection events) never block here: events
// set state and poke a channel without waiting, and a command is
// validated and submitted on the router (Controls.Submit does not block)
// and its reply queued (replyQueue). Commands: see onCommand.
type Publisher struct {
	cfg    PublisherConfig
	prefix string
	q      *Queue
	log    zerolog.Logger
	client mqtt.Client
	store  *countingStore
	wake   chan struct{} // capacity 1: re-check what can be sent

	mu         sync.Mutex // guards state and drainSince; held across Publish so an attempt cannot start mid-way
	state      connState
	drainSince time.Time     // when the state became stateDraining
	drainLimit time.Duration // longest wait for paho's resend before giving up the order

	birth    atomic.Bool // a birth status is due (after each connect)
	statusMu sync.Mutex  // guards cfg.Status (UpdateStatus)
	run      string      // cfg.Status.Run, which never changes
	cmdMu    sync.Mutex  // one command at a time through Command
	replies  replyQueue  // Command -> Run, in arrival order

	// Written by Run only.
	// The per-command log lines, limited (logLimit).
	appliedLog, refusedLog, busyLog logLimit

	published, failed, cmdDropped, cmdBusy atomic.Uint64
}

// connState is where the publisher stands with the broker connection.
type connState int

const (
	stateFree       connState = iota // publish: sent, or stored while the broker is away
	stateAttempting                  // a connection attempt is running: hold new messages
	stateDraining                    // connected: hold until paho has sent what it stored
)

type message struct {
	topic    string
	payload  []byte
	retained bool
}

// PublisherStats counts what the publisher did since start.
type PublisherStats struct {
	Published       uint64 // messages handed to paho (sent or stored)
	Failed          uint64 // messages paho refused at once (logged)
	CommandsBusy    uint64 // commands refused as busy: the queue to the loop was full (answered)
	CommandsDropped uint64 // commands dropped unanswered: maxReplyBytes of replies were waiting to be sent
}

// NewPublisher checks cfg and prepares a publisher of the samples in q.
// Nothing connects before Run.
func NewPublisher(cfg PublisherConfig, q *Queue) (*Publisher, error) {
	if cfg.Broker == "" {
		return nil, errors.New("publisher: broker: must be tcp://host:port or ssl://host:port, got nothing")
	}
	if !strings.HasPrefix(cfg.Broker, "tcp://") && !strings.HasPrefix(cfg.Broker, "ssl://") {
		return nil, fmt.Errorf("publisher: broker: must be tcp://host:port or ssl://host:port, got %q", cfg.Broker)
	}
	if err := CheckTopicLevel(cfg.Board); err != nil {
		return nil, fmt.Errorf("publisher: board %q: %w", cfg.Board, err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "spikeloop/" + cfg.Board + "/"
	}
	if err := CheckPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "spikeloop-" + cfg.Board
	}
	if cfg.StoreDir == "" {
		return nil, errors.New("publisher: store_dir: must be a directory (unsent messages need one to survive outages and restarts), got nothing")
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("publisher: store_dir: %w", err)
	}
	if cfg.Validator != nil && cfg.Controls == nil {
		return nil, errors.New("publisher: commands: a validator without controls")
	}
	if q == nil {
		return nil, errors.New("publisher: no queue")
	}
	if cfg.Status.Run == "" {
		cfg.Status.Run = NewRunID()
	}
	setDefault := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDefault(&cfg.ConnectTimeout, 5*time.Second)
	setDefault(&cfg.MaxReconnectInterval, 10*time.Second)
	setDefault(&cfg.ConnectRetryInterval, time.Second)
	setDefault(&cfg.WriteTimeout, 5*time.Second)
	log := cfg.Logger

	p := &Publisher{
		cfg:    cfg,
		prefix: cfg.Prefix,
		run:    cfg.Status.Run,
		q:      q,
		log:    log,
		wake:   make(chan struct{}, 1),
		// A safety net: a stored message paho never manages to resend must
		// not hold telemetry back for ever (an hour of backlog resends in
		// seconds on a working link).
		drainLimit: time.Minute,
	}
	p.store = newCountingStore(cfg.StoreDir, log, p.wake)
	will, err := p.status(StateOffline)
	if err != nil {
		return nil, err
	}
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		// A persistent session: paho resumes the stored messages only
		// when the session is not clean.
		SetCleanSession(false).
		SetStore(p.store).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(cfg.ConnectRetryInterval).
		SetMaxReconnectInterval(cfg.MaxReconnectInterval).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetWriteTimeout(cfg.WriteTimeout).
		SetKeepAlive(10*time.Second).
		SetBinaryWill(cfg.Prefix+"status", will, 1, true).
		// Commands are applied in the order they arrive only if paho
		// calls the handler in that order, on its router; onCommand
		// never blocks, so the router keeps reading (a handler that
		// blocked would also stop the acknowledgements of our publishes).
		SetOrderMatters(true).
		SetConnectionNotificationHandler(p.onConnection).
		SetOnConnectHandler(p.onConnect)
	if cfg.TLS != nil {
		opts.SetTLSConfig(cfg.TLS)
	}
	p.client = mqtt.NewClient(opts)
	if cfg.Metrics != nil {
		cfg.Metrics.pub = p
	}
	return p, nil
}

// UpdateStatus changes the config and network digests of the status
// (after a reload) and publishes the birth message again. The Last Will
// registered at connect keeps the old ones until the next connect.
func (p *Publisher) UpdateStatus(configHash, networkHash string) {
	p.statusMu.Lock()
	p.cfg.Status.ConfigHash, p.cfg.Status.NetworkHash = configHash, networkHash
	p.statusMu.Unlock()
	p.birth.Store(true)
	p.poke()
}

// RunID returns the run id in the status and in every sample.
func (p *Publisher) RunID() string { return p.run }

// Prefix returns the topic prefix in use.
func (p *Publisher) Prefix() string { return p.prefix }

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Published: p.published.Load(), Failed: p.failed.Load(),
		CommandsBusy: p.cmdBusy.Load(), CommandsDropped: p.cmdDropped.Load()}
}

// status encodes the Status payload with the given state.
func (p *Publisher) status(state string) ([]byte, error) {
	p.statusMu.Lock()
	s := p.cfg.Status
	p.statusMu.Unlock()
	s.Version, s.Board, s.State = SchemaVersion, p.cfg.Board, state
	b, err := s.MarshalMsg(nil)
	if err != nil {
		return nil, fmt.Errorf("publisher: status: %w", err)
	}
	return b, nil
}

func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// onConnection follows paho's connection events. Connecting and Failed
// come synchronously from paho's connect goroutine, before it dials and
// after it gave up; Connected comes on a goroutine of its own.
func (p *Publisher) onConnection(_ mqtt.Client, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationConnecting:
		p.mu.Lock()
		p.state = stateAttempting
		p.mu.Unlock()
	case mqtt.ConnectionNotificationFailed:
		p.mu.Lock()
		p.state = stateFree
		p.mu.Unlock()
		p.log.Warn().Str("broker", p.cfg.Broker).Err(n.Reason).Msg("mqtt: connection attempt failed")
		p.poke()
	case mqtt.ConnectionNotificationConnected:
		p.mu.Lock()
		if p.state == stateAttempting {
			p.state = stateDraining
			p.drainSince = time.Now()
		}
		p.mu.Unlock()
		p.log.Info().Str("broker", p.cfg.Broker).Msg("mqtt: connected")
		p.poke()
	case mqtt.ConnectionNotificationLost:
		p.log.Warn().Str("broker", p.cfg.Broker).Err(n.Reason).Msg("mqtt: connection lost")
	}
}

// onConnect runs on its own goroutine after each connect: birth is due,
// and the command subscription is renewed. QoS 0 for commands on
// purpose: a broker keeps no command for an offline daemon, so a command
// is never applied minutes after it was sent.
func (p *Publisher) onConnect(c mqtt.Client) {
	p.birth.Store(true)
	p.poke()
	if p.cfg.Validator != nil && !p.cfg.InlineCommands {
		c.Subscribe(p.prefix+"cmd/+", 0, func(_ mqtt.Client, m mqtt.Message) { p.Command(m.Topic(), m.Payload()) })
	}
}

// Command takes the command that arrived on topic (<prefix>cmd/<name>)
// with payload: from paho's router (its handler, called in the order the
// commands arrive), or from the embedded broker in the process
// (InlineCommands). It validates the command, queues its reply (so
// replies go out in the order the commands came), and submits it to
// Controls, which queues it for the loop or refuses it at once (busy:
// its queue is full). It never waits: paho's router must keep reading,
// or the broker drops what it cannot deliver (silently, at QoS 0) and
// our own acknowledgements stall. It does not keep payload.
//
// The only command left unanswered is one that finds maxReplyBytes of
// replies waiting to be sent (the broker has not taken them for a
// while): it is dropped before it is applied, counted and logged.
func (p *Publisher) Command(topic string, payload []byte) {
	if p.cfg.Validator == nil {
		return
	}
	// One at a time: the order of submission is the order of the
	// replies, and the embedded broker may call from several senders.
	p.cmdMu.Lock()
	defer p.cmdMu.Unlock()
	name := strings.TrimPrefix(topic, p.prefix+"cmd/")
	act, r, ok := p.cfg.Validator.Check(name, payload)
	pr := &pendingReply{reply: r, p: p}
	if ok {
		pr.kind, pr.target = act.Kind, act.Target
		if len(act.Values) <= maxLoggedValues {
			pr.values = act.Values
		}
		pr.nvalues = len(act.Values)
	}
	if queued, logNow, dropped := p.replies.add(pr); !queued {
		p.cmdDropped.Add(1)
		if logNow {
			p.log.Error().Str("command", name).Int64("dropped", int64(dropped)).Int("waiting_bytes", maxReplyBytes).
				Msg("mqtt: commands dropped unanswered: too many replies wait for the broker")
		}
		return
	}
	if !ok {
		pr.finish(nil) // the reply says why already
		return
	}
	p.cfg.Controls.Submit(act, pr.finish)
}

// maxReplyBytes bounds the replies waiting to be published (their ids,
// names and errors, plus replyOverhead each): ~20,000 replies of a
// short id. Past it a command is dropped unanswered (onCommand).
const maxReplyBytes = 4 << 20

// replyOverhead is what a queued reply costs beside its strings.
const replyOverhead = 192

// maxLoggedValues bounds the values an applied command's log line shows.
const maxLoggedValues = 8

// pendingReply is one command's reply on its way out; its outcome may
// not be known yet (the loop has not applied the command).
type pendingReply struct {
	p       *Publisher
	reply   Reply
	kind    Kind
	target  string
	values  []float64 // for the log; nil when there are more than maxLoggedValues
	nvalues int
	size    int
	err     error       // the outcome, written before ready
	ready   atomic.Bool // the outcome is known
}

// finish is the done function given to Controls.Submit.
func (pr *pendingReply) finish(err error) {
	pr.err = err
	pr.ready.Store(true)
	pr.p.poke()
}

// logLimit keeps a flood of commands from flooding the log: allow says
// whether to log one more line of its kind (at most perSecond a second),
// and how many were not logged since the last line.
type logLimit struct {
	start   time.Time // of the current second
	n       int       // lines logged in it
	skipped uint64    // not logged since the last line
}

func (l *logLimit) allow(now time.Time, perSecond int) (ok bool, skipped uint64) {
	if now.Sub(l.start) >= time.Second {
		l.start, l.n = now, 0
	}
	if l.n >= perSecond {
		l.skipped++
		return false, 0
	}
	l.n++
	skipped, l.skipped = l.skipped, 0
	return true, skipped
}

// replyQueue holds the commands' replies in arrival order until Run
// publishes them. A reply whose outcome is not known yet holds back the
// ones behind it, so that replies leave in the order the commands came.
type replyQueue struct {
	mu    sync.Mutex
	q     []*pendingReply
	bytes int
	// Commands dropped since the last log line, and when that was.
	drops      uint64
	dropLogged time.Time
}

// add queues pr unless maxReplyBytes are waiting already. When it does
// not, it counts the drop and says whether to log it (at most once a
// second) with the drops since the last line.
func (rq *replyQueue) add(pr *pendingReply) (ok, logNow bool, dropped uint64) {
	pr.size = replyOverhead + len(pr.reply.ID) + len(pr.reply.Name) + len(pr.reply.Error) + 8*len(pr.values)
	rq.mu.Lock()
	defer rq.mu.Unlock()
	if rq.bytes+pr.size <= maxReplyBytes {
		rq.q = append(rq.q, pr)
		rq.bytes += pr.size
		return true, false, 0
	}
	rq.drops++
	if now := time.Now(); now.Sub(rq.dropLogged) >= time.Second {
		dropped, rq.drops, rq.dropLogged = rq.drops, 0, now
		return false, true, dropped
	}
	return false, false, 0
}

// ready reports whether the oldest reply's outcome is known.
func (rq *replyQueue) ready() bool {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return len(rq.q) > 0 && rq.q[0].ready.Load()
}

// next takes the oldest reply if its outcome is known.
func (rq *replyQueue) next() *pendingReply {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	if len(rq.q) == 0 || !rq.q[0].ready.Load() {
		return nil
	}
	pr := rq.q[0]
	rq.q[0] = nil
	rq.q = rq.q[1:]
	rq.bytes -= pr.size
	return pr
}

// sinkReplies publishes through cfg.Replies every reply whose outcome is
// known, in order, each when the subscribers have room for it (force:
// regardless). It reports whether one waits for room.
func (p *Publisher) sinkReplies(force bool) (held bool) {
	for p.replies.ready() {
		if !force && !p.cfg.Replies.ReplyRoom() {
			return true
		}
		m := p.reply(p.replies.next())
		if m == nil {
			continue
		}
		if err := p.cfg.Replies.PublishReply(m.topic, m.payload); err != nil {
			p.failed.Add(1)
			p.log.Error().Str("topic", m.topic).Err(err).Msg("mqtt: publish")
			continue
		}
		p.published.Add(1)
	}
	return false
}

// reply completes pr's reply with its outcome, logs it and encodes it.
func (p *Publisher) reply(pr *pendingReply) *message {
	r := &pr.reply
	if r.Error == "" { // validated and submitted
		r.SetOutcome(pr.err)
	}
	now := time.Now()
	switch {
	case r.OK:
		if ok, skipped := p.appliedLog.allow(now, 20); ok {
			e := p.log.Info().Str("command", r.Name).Str("id", r.ID).Str("kind", string(pr.kind))
			if pr.target != "" {
				e = e.Str("target", pr.target)
			}
			if pr.values != nil {
				e = e.Floats64("values", pr.values)
			} else if pr.nvalues > 0 {
				e = e.Int("values", pr.nvalues)
			}
			if skipped > 0 {
				e = e.Int64("applied_not_logged", int64(skipped))
			}
			e.Msg("mqtt: command applied")
		}
	case r.Busy:
		p.cmdBusy.Add(1)
		if ok, skipped := p.busyLog.allow(now, 1); ok {
			p.log.Warn().Str("command", r.Name).Str("id", r.ID).Int64("queue", int64(r.Queue)).Int64("busy_not_logged", int64(skipped)).
				Msg("mqtt: command refused as busy: the queue to the loop is full")
		}
	default:
		if ok, skipped := p.refusedLog.allow(now, 20); ok {
			e := p.log.Warn().Str("command", r.Name).Str("id", r.ID).Str("error", r.Error)
			if skipped > 0 {
				e = e.Int64("refused_not_logged", int64(skipped))
			}
			e.Msg("mqtt: command refused")
		}
	}
	b, err := r.MarshalMsg(nil)
	if err != nil {
		p.failed.Add(1)
		p.log.Error().Str("command", r.Name).Err(err).Msg("mqtt: reply")
		return nil
	}
	return &message{topic: p.prefix + "cmd/" + r.Name + "/reply", payload: b}
}

// pollEvery is how often Run looks into the queues: a sample waits at
// most that long before it is handed to paho.
const pollEvery = 20 * time.Millisecond

// Run connects and publishes until ctx ends; then it hands paho what is
// still queued, publishes the offline status and disconnects (what is
// unsent stays in the store for the next run).
func (p *Publisher) Run(ctx context.Context) error {
	p.client.Connect() // retries by itself; the token is not waited for
	// The queues are polled (the loop never wakes anyone); connection
	// events and replies poke wake.
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var (
		cur    *message // taken from a source, not yet handed to paho
		sample Telemetry
		spikes SpikeBatch
	)
	for {
		held := p.cfg.Replies != nil && p.sinkReplies(false)
		for {
			if cur == nil {
				cur = p.nextMessage(&sample, &spikes)
			}
			if cur == nil || !p.send(cur) {
				break
			}
			cur = nil
		}
		var retry <-chan time.Time // a reply waits for room: look again soon
		if held {
			retry = time.After(time.Millisecond)
		}
		select {
		case <-ctx.Done():
			p.flush(cur, &sample, &spikes)
			p.shutdown()
			return nil
		case <-p.wake:
		case <-tick.C:
		case <-retry:
		}
	}
}

// nextMessage takes the next message to send: a due birth first, then
// command replies, then the oldest telemetry sample, then the oldest
// spike batch.
func (p *Publisher) nextMessage(sample *Telemetry, spikes *SpikeBatch) *message {
	if p.birth.Load() {
		b, err := p.status(StateOnline)
		if err == nil {
			p.birth.Store(false)
			return &message{topic: p.prefix + "status", payload: b, retained: true}
		}
		p.log.Error().Err(err).Msg("mqtt: birth")
	}
	for p.cfg.Replies == nil {
		pr := p.replies.next()
		if pr == nil {
			break
		}
		if m := p.reply(pr); m != nil {
			return m
		}
	}
	if p.q.Pop(sample) {
		sample.Version, sample.Board, sample.Run = SchemaVersion, p.cfg.Board, p.run
		if p.cfg.Metrics != nil {
			p.cfg.Metrics.observe(sample)
		}
		// A new buffer each time: paho keeps the payload until acknowledged.
		b, err := sample.MarshalMsg(make([]byte, 0, sample.Msgsize()))
		if err != nil {
			p.failed.Add(1)
			p.log.Error().Uint64("seq", uint64(sample.Seq)).Err(err).Msg("mqtt: telemetry")
			return nil
		}
		return &message{topic: p.prefix + "telemetry", payload: b}
	}
	if p.cfg.Spikes != nil && p.cfg.Spikes.Pop(spikes) {
		spikes.Version, spikes.Board, spikes.Run = SchemaVersion, p.cfg.Board, p.run
		b, err := spikes.MarshalMsg(make([]byte, 0, spikes.Msgsize()))
		if err != nil {
			p.failed.Add(1)
			p.log.Error().Uint64("seq", uint64(spikes.Seq)).Err(err).Msg("mqtt: spikes")
			return nil
		}
		return &message{topic: p.prefix + "spikes", payload: b}
	}
	return nil
}

// send hands m to paho unless the connection state says to hold it; it
// reports whether m is done with (sent, stored, or refused by paho).
func (p *Publisher) send(m *message) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case stateAttempting:
		return false
	case stateDraining:
		if !p.client.IsConnectionOpen() {
			return false
		}
		if n := p.store.pending(); n > 0 {
			if time.Since(p.drainSince) < p.drainLimit {
				return false
			}
			p.log.Warn().Int("pending", n).Dur("waited", p.drainLimit).
				Msg("mqtt: stored messages not resent in time; publishing new ones regardless of order")
		}
		p.state = stateFree
	}
	tok := p.client.Publish(m.topic, 1, m.retained, m.payload)
	// Errors that paho knows at once (not connected after Disconnect,
	// no message id left) end the message here; the others complete
	// with the broker's acknowledgement, which the store takes care of.
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			p.failed.Add(1)
			p.log.Error().Str("topic", m.topic).Err(err).Msg("mqtt: publish")
			return true
		}
	default:
	}
	p.published.Add(1)
	return true
}

// flush hands paho, whatever the connection state, the message in hand
// and what waits in the queues, so that it is sent or stored for the next
// run rather than lost; it gives up after 2 s (a broker that takes but
// does not read).
//
// While paho resends what it stored on a live connection, the flush waits
// for it (up to half a second) so that the last samples do not overtake
// the stored ones; with the broker away it does not wait: the store keeps
// the order.
func (p *Publisher) flush(cur *message, sample *Telemetry, spikes *SpikeBatch) {
	p.birth.Store(false)
	if p.cfg.Replies != nil {
		p.sinkReplies(true)
	}
	start := time.Now()
	deadline := start.Add(2 * time.Second)
	if cur == nil {
		cur = p.nextMessage(sample, spikes)
	}
	for cur != nil && time.Now().Before(deadline) {
		p.mu.Lock()
		resending := p.state == stateDraining && p.client.IsConnectionOpen() && p.store.pending() > 0
		if resending && time.Since(start) < 500*time.Millisecond {
			p.mu.Unlock()
			select {
			case <-p.wake:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.state = stateFree
		p.mu.Unlock()
		p.send(cur)
		cur = p.nextMessage(sample, spikes)
	}
}

// shutdown publishes the offline status (waiting a little for it) and
// disconnects.
func (p *Publisher) shutdown() {
	if b, err := p.status(StateOffline); err == nil && p.client.IsConnectionOpen() {
		p.client.Publish(p.prefix+"status", 1, true, b).WaitTimeout(time.Second)
	}
	p.client.Disconnect(250)
}
