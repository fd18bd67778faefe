package telemetry

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// Raw MQTT 3.1.1 packets for the broker's limit tests: exact sizes, no
// client library deciding for us.

// mqttLength encodes an MQTT remaining length.
func mqttLength(n int) []byte {
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

func mqttString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// rawConnectPacket is a CONNECT (clean session unless persistent) with
// user and password when user is not empty.
func rawConnectPacket(id, user, password string, persistent bool) []byte {
	flags := byte(0x02)
	if persistent {
		flags = 0
	}
	if user != "" {
		flags |= 0xC0
	}
	body := append(mqttString("MQTT"), 4, flags, 0, 30)
	body = append(body, mqttString(id)...)
	if user != "" {
		body = append(body, mqttString(user)...)
		body = append(body, mqttString(password)...)
	}
	return append(append([]byte{0x10}, mqttLength(len(body))...), body...)
}

// rawPublishHeader is the fixed header, topic and (QoS 1) packet id of a
// PUBLISH whose payload has n bytes (the caller writes the payload).
func rawPublishHeader(topic string, qos byte, n int) []byte {
	vh := mqttString(topic)
	if qos > 0 {
		vh = append(vh, 0, 1)
	}
	return append(append([]byte{0x30 | qos<<1}, mqttLength(len(vh)+n)...), vh...)
}

// rawConn is one raw MQTT connection.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

// rawConnect connects and sends CONNECT; it returns the CONNACK return
// code (0 accepted), or an error when the broker closed the connection
// without one.
func rawConnect(addr, id, user, password string, persistent bool) (*rawConn, byte, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, 0, err
	}
	return finishConnect(c, id, user, password, persistent)
}

// finishConnect sends CONNECT on c and reads the CONNACK (see rawConnect).
func finishConnect(c net.Conn, id, user, password string, persistent bool) (*rawConn, byte, error) {
	rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(rawConnectPacket(id, user, password, persistent)); err != nil {
		c.Close()
		return nil, 0, err
	}
	var ack [4]byte
	if _, err := io.ReadFull(rc.r, ack[:]); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("no CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[1] != 2 {
		c.Close()
		return nil, 0, fmt.Errorf("not a CONNACK: % x", ack)
	}
	c.SetDeadline(time.Time{})
	return rc, ack[3], nil
}

// closedWithin reports whether the broker closes c within d (reading and
// discarding what it sends).
func (c *rawConn) closedWithin(d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c.r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// subscribe sends SUBSCRIBE for filter at qos and returns the granted QoS.
func (c *rawConn) subscribe(filter string, qos byte) (byte, error) {
	body := append(append([]byte{0, 1}, mqttString(filter)...), qos)
	if _, err := c.Write(append(append([]byte{0x82}, mqttLength(len(body))...), body...)); err != nil {
		return 0, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	var ack [5]byte
	if _, err := io.ReadFull(c.r, ack[:]); err != nil {
		return 0, err
	}
	if ack[0] != 0x90 {
		return 0, fmt.Errorf("not a SUBACK: % x", ack)
	}
	return ack[4], nil
}
