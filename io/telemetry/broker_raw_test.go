package telemetry

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
)

// Raw MQTT connections for the broker's limit tests (the packets are
// mqtttest's): exact sizes, no client library deciding for us.

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
	if _, err := c.Write(mqtttest.ConnectPacket(id, user, password, persistent)); err != nil {
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
	if _, err := c.Write(mqtttest.SubscribePacket(filter, qos)); err != nil {
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
