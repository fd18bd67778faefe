package telemetry

import (
	"fmt"
	"strings"

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
