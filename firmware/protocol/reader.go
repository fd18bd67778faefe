package protocol

// Reader finds frames in a byte stream (a socket, or what the host
// clocked out of the SPI bus): bytes before a sync pair are skipped, and
// after a frame that fails its checks the search resumes one byte after
// that frame's sync, so a frame that a corrupted length seemed to swallow
// is still found. Its buffer holds one frame of MaxFrame bytes; it never
// allocates.
//
// Use: Write bytes, then call Next until it returns ErrNeedMore.
type Reader struct {
	buf        [MaxFrame]byte
	start, end int

	// Skipped counts the bytes dropped while looking for a sync pair,
	// and the sync bytes of frames that failed their checks.
	Skipped uint64
}

// Write copies as many bytes of p as the buffer has room for and
// returns how many; call Next and Write the rest. It invalidates the
// payload of the frames Next returned before.
func (r *Reader) Write(p []byte) int {
	if r.end+len(p) > len(r.buf) && r.start > 0 {
		r.end = copy(r.buf[:], r.buf[r.start:r.end])
		r.start = 0
	}
	n := copy(r.buf[r.end:], p)
	r.end += n
	return n
}

// Buffered is the number of bytes written and not yet consumed.
func (r *Reader) Buffered() int { return r.end - r.start }

// Reset drops the buffered bytes (a host does it before resending a
// request whose response timed out).
func (r *Reader) Reset() { r.start, r.end = 0, 0 }

// Drop gives up the frame in progress: its first sync byte is dropped,
// so that Next looks for a frame in the bytes after it. A frame's length
// field has no check of its own, so a corrupted one makes Next wait for
// bytes that may never come (on a stream; an SPI host clocks at most
// MaxFrame bytes and the CRC fails); a host calls Drop when a response
// is overdue, before it resends the request.
func (r *Reader) Drop() {
	if r.start < r.end {
		r.start++
		r.Skipped++
	}
}

// Next returns the next checked frame. ErrNeedMore: the buffer holds no
// whole frame yet. Any other error (CodeCRC, CodeTooLong, CodeVersion)
// is a frame that failed its checks and was dropped: count it and call
// Next again. The frame's payload aliases the Reader's buffer and stays
// valid until the next Write or Reset.
func (r *Reader) Next() (Frame, error) {
	b := r.buf[r.start:r.end]
	i := 0
	for i+1 < len(b) && (b[i] != Sync0 || b[i+1] != Sync1) {
		i++
	}
	if i+1 >= len(b) && (len(b) == 0 || b[len(b)-1] != Sync0) {
		i = len(b) // no sync, and no first half of one at the end
	}
	r.start += i
	r.Skipped += uint64(i)
	f, n, err := Decode(r.buf[r.start:r.end])
	switch err {
	case nil:
		r.start += n
		return f, nil
	case CodeShort:
		return Frame{}, ErrNeedMore
	}
	r.start++ // drop this sync and look again after it
	r.Skipped++
	return Frame{}, err
}
