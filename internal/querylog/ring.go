package querylog

import "sync/atomic"

// ring is a bounded queue of slots for many producers (the DNS workers)
// and one consumer (the writer), without locks: Dmitry Vyukov's bounded
// MPMC queue, each cell's sequence number saying whose turn it is. A
// producer claims a cell with one compare-and-swap and publishes it with
// one store; the consumer releases it with one store. A full ring
// refuses (the query is not logged) instead of waiting.
type ring struct {
	mask  uint64
	cells []cell
	_     [56]byte // head on its own cache line
	head  atomic.Uint64
	_     [56]byte
	tail  uint64 // the consumer's only
}

type cell struct {
	seq atomic.Uint64
	slot
}

// newRing returns a ring of at least n cells (a power of two), each
// slot's buffers preallocated.
func newRing(n int) *ring {
	size := 1
	for size < n {
		size <<= 1
	}
	r := &ring{mask: uint64(size - 1), cells: make([]cell, size)}
	for i := range r.cells {
		r.cells[i].seq.Store(uint64(i))
		r.cells[i].q = make([]byte, 0, 512)
		r.cells[i].resp = make([]byte, 0, 1232)
	}
	return r
}

// claim returns a free cell for a producer to fill and then publish, or
// nil when the ring is full.
func (r *ring) claim() *cell {
	for {
		pos := r.head.Load()
		c := &r.cells[pos&r.mask]
		switch seq := c.seq.Load(); {
		case seq == pos:
			if r.head.CompareAndSwap(pos, pos+1) {
				return c
			}
		case seq < pos:
			return nil // full: the consumer has not released this cell yet
		}
		// Another producer took pos: try the next.
	}
}

// publish hands a filled cell to the consumer.
func (r *ring) publish(c *cell) { c.seq.Add(1) }

// next returns the oldest published cell, or nil when there is none
// (the consumer's only).
func (r *ring) next() *cell {
	c := &r.cells[r.tail&r.mask]
	if c.seq.Load() != r.tail+1 {
		return nil
	}
	return c
}

// release gives the cell next returned back to the producers.
func (r *ring) release(c *cell) {
	c.seq.Store(r.tail + r.mask + 1)
	r.tail++
}
