package cpu

// queued lists the neurons that spike deliveries have written into one
// input ring row (a slot's port) since the row was last cleared, so that
// the clear after the step zeroes those entries rather than the whole
// row.
//
// Why: in a network like CUBA only a few percent of a row's entries
// receive a spike in a step, while clearing the whole row dirties every
// cache line of it. At 64,000 neurons the rows do not fit in the L2
// cache with the neurons' state, and those lines go back to L3 at every
// step, which the next step's reads wait behind.
type queued struct {
	at    []int32 // the targets written, with repeats; capacity fixed at load
	whole bool    // more writes than at holds, or a write not listed: clear the whole row
}

// queueCap is the capacity of a row's list for n neurons: past n/16
// writes, zeroing them one by one (a random store each) is no cheaper
// than clearing the row, and the list gives up (whole).
func queueCap(n int) int { return n / 16 }

// queue lists the targets tg of one delivery in q.
func queue[T uint16 | int32](q *queued, tg []T) {
	if q.whole {
		return
	}
	if len(q.at)+len(tg) > cap(q.at) {
		q.whole = true
		return
	}
	for _, j := range tg {
		q.at = append(q.at, int32(j))
	}
}

// clearQueued zeroes the listed entries of the rows of w (those not
// cleared whole by clearInputs) and empties the lists of the rows that
// were passed: the slot is free again.
func clearQueued(w [][]float64, q []queued) {
	if q == nil {
		return
	}
	for r, wr := range w {
		if wr == nil {
			continue
		}
		qr := &q[r]
		if !qr.whole {
			for _, j := range qr.at {
				wr[j] = 0
			}
		}
		qr.at, qr.whole = qr.at[:0], false
	}
}
