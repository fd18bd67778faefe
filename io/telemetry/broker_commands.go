package telemetry

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// commandsSubscriptionID identifies the inline cmd/+ subscription.
const commandsSubscriptionID = 1

// HandleCommands hands every message published on <prefix>cmd/<name>
// (by a user with the command right: the ACL is checked first) to f, in
// the process: f runs on the reading goroutine of the client that sent
// it, before the broker reads that client's next packet. So a command is
// never dropped between the broker and the daemon (a subscription over
// TCP goes through the broker's per-client queue of max_writes_pending
// messages, which drops the newest when a burst outruns it), and a
// sender that floods is slowed to the pace of f. f must not block and
// must not keep payload; calls from several senders may overlap.
//
// The daemon's publisher takes commands this way from the embedded
// broker (PublisherConfig.InlineCommands), and over MQTT from another.
func (b *Broker) HandleCommands(f func(topic string, payload []byte)) error {
	err := b.srv.Subscribe(strings.Join(b.acl.cmd, "/"), commandsSubscriptionID, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		f(pk.TopicName, pk.Payload)
	})
	if err != nil {
		return fmt.Errorf("broker: commands: %w", err)
	}
	return nil
}

// replyFlow follows the replies the daemon publishes in the process
// (PublishReply) to the clients subscribed to them, so that the daemon
// publishes a reply only when every such client has room for it: mochi
// drops a message for a client with max_inflight QoS 1 messages not yet
// acknowledged, or max_writes_pending messages not yet written.
type replyFlow struct {
	mqtt.HookBase
	srv         *mqtt.Server
	log         *slog.Logger
	prefix      string // <prefix>cmd/
	maxInflight int
	maxPending  int

	mu      sync.Mutex
	clients map[string]*replyClient // by client id
}

// replyClient is what one subscriber of replies has on its way.
type replyClient struct {
	qos       byte      // of its subscription: 1 counts in mochi's inflight
	queued    int64     // QoS 0 replies queued for it
	written   int64     // QoS 0 replies written to it, or dropped
	fullSince time.Time // without room since (zero: it has room)
	stalled   bool      // without room for replyStall: not waited for
}

// replyStall is how long replies wait for a subscriber without room;
// then it is not waited for (mochi drops what it cannot hold for it)
// until it has room again. A subscriber that stopped reading thus holds
// the others' replies back by replyStall, once.
const replyStall = time.Second

func (f *replyFlow) ID() string { return "spikeloop-replies" }

func (f *replyFlow) Provides(b byte) bool {
	return b == mqtt.OnPacketSent || b == mqtt.OnPublishDropped || b == mqtt.OnDisconnect
}

func (f *replyFlow) isReply(pk *packets.Packet) bool {
	return pk.FixedHeader.Type == packets.Publish && strings.HasPrefix(pk.TopicName, f.prefix) && strings.HasSuffix(pk.TopicName, "/reply")
}

// written counts a QoS 0 reply that left the client's queue.
func (f *replyFlow) written(cl *mqtt.Client, pk packets.Packet) {
	if !f.isReply(&pk) || pk.FixedHeader.Qos != 0 {
		return
	}
	f.mu.Lock()
	if rc := f.clients[cl.ID]; rc != nil {
		rc.written++
	}
	f.mu.Unlock()
}

func (f *replyFlow) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) { f.written(cl, pk) }

func (f *replyFlow) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	// pk is the message as published (QoS 1); the client's copy was
	// QoS 0 if its subscription was.
	if !f.isReply(&pk) {
		return
	}
	f.mu.Lock()
	if rc := f.clients[cl.ID]; rc != nil && rc.qos == 0 {
		rc.written++
	}
	f.mu.Unlock()
}

func (f *replyFlow) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	f.mu.Lock()
	delete(f.clients, cl.ID)
	f.mu.Unlock()
}

// room reports whether every connected subscriber of replies can take
// one more without mochi dropping it, but those stalled (without room
// for replyStall). For QoS 0 only the replies are counted, not what else
// waits for the client: half the queue is kept for the rest.
func (f *replyFlow) room() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	room := true
	for id, rc := range f.clients {
		cl, ok := f.srv.Clients.Get(id)
		if !ok || cl.Closed() {
			continue
		}
		var full bool
		if rc.qos > 0 {
			full = cl.State.Inflight.Len() >= f.maxInflight-1
		} else {
			full = rc.queued-rc.written >= int64(f.maxPending/2)
		}
		switch {
		case !full:
			rc.fullSince, rc.stalled = time.Time{}, false
		case rc.stalled:
		case rc.fullSince.IsZero():
			rc.fullSince, room = now, false
		case now.Sub(rc.fullSince) >= replyStall:
			rc.stalled = true
			f.log.Warn("broker: a subscriber of command replies has taken none for a while; replies no longer wait for it (what it cannot hold is dropped)",
				"client", cut(id), "waited", replyStall)
		default:
			room = false
		}
	}
	return room
}

// publish publishes a reply (QoS 1) in the process and counts it for
// each subscriber.
func (f *replyFlow) publish(topic string, payload []byte) error {
	subs := f.srv.Topics.Subscribers(topic)
	f.mu.Lock()
	for id, sub := range subs.Subscriptions {
		rc := f.clients[id]
		if rc == nil {
			rc = &replyClient{}
			f.clients[id] = rc
		}
		rc.qos = min(sub.Qos, 1)
		if rc.qos == 0 {
			rc.queued++
		}
	}
	f.mu.Unlock()
	return f.srv.Publish(topic, payload, false, 1)
}

// ReplyRoom reports whether every client subscribed to command replies
// can take one more now (the broker would drop it otherwise): its QoS 1
// messages not yet acknowledged are below max_inflight, its QoS 0
// replies not yet written below half of max_writes_pending. Clients that
// are not connected do not count, nor those that had no room for a
// second (replyStall), until they have room again.
func (b *Broker) ReplyRoom() bool { return b.replies.room() }

// PublishReply publishes a command reply on topic (QoS 1), in the
// process: no connection or store between the daemon and the broker.
func (b *Broker) PublishReply(topic string, payload []byte) error {
	if err := b.replies.publish(topic, payload); err != nil {
		return fmt.Errorf("broker: reply: %w", err)
	}
	return nil
}
