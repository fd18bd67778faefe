package mqtttest

import "encoding/binary"

// Raw MQTT 3.1.1 packets, for tests that must control every byte (a
// packet of an exact size, a client that never answers, a login flood)
// where a client library would decide for them.

// remainingLength encodes an MQTT remaining length.
func remainingLength(n int) []byte {
	var b []byte
	for {
		x := byte(n % 128)
		n /= 128
		if n > 0 {
			x |= 128
		}
		b = append(b, x)
		if n == 0 {
			return b
		}
	}
}

// str encodes an MQTT UTF-8 string: its length, then its bytes.
func str(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// ConnectPacket is a CONNECT (clean session unless persistent, keep-alive
// 30 s), with user and password when user is not empty.
func ConnectPacket(id, user, password string, persistent bool) []byte {
	flags := byte(0x02)
	if persistent {
		flags = 0
	}
	if user != "" {
		flags |= 0xC0
	}
	body := append(str("MQTT"), 4, flags, 0, 30)
	body = append(body, str(id)...)
	if user != "" {
		body = append(body, str(user)...)
		body = append(body, str(password)...)
	}
	return append(append([]byte{0x10}, remainingLength(len(body))...), body...)
}

// PublishHeader is the fixed header, topic and (QoS 1) packet id 1 of a
// PUBLISH whose payload has n bytes; the caller writes the payload.
func PublishHeader(topic string, qos byte, n int) []byte {
	vh := str(topic)
	if qos > 0 {
		vh = append(vh, 0, 1)
	}
	return append(append([]byte{0x30 | qos<<1}, remainingLength(len(vh)+n)...), vh...)
}

// SubscribePacket is a SUBSCRIBE with packet id 1 to one filter at qos.
func SubscribePacket(filter string, qos byte) []byte {
	body := append(append([]byte{0, 1}, str(filter)...), qos)
	return append(append([]byte{0x82}, remainingLength(len(body))...), body...)
}
