package remote

// Seq and SetSeq let tests see and set the sequence number of a
// backend's last request.
func Seq(b *Backend) uint16 { return b.c.seq }

func SetSeq(b *Backend, s uint16) { b.c.seq = s }
