package querylog

import (
	"sync"
	"testing"
)

// TestRing: four producers and one consumer through a small ring: every
// item published arrives once, each producer's in order; what did not
// fit was refused, never lost silently; a full ring refuses at once.
func TestRing(t *testing.T) {
	r := newRing(64)
	if len(r.cells) != 64 {
		t.Fatalf("%d cells", len(r.cells))
	}
	const producers, each = 4, 20000
	var wg sync.WaitGroup
	refused := make([]int, producers)
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				c := r.claim()
				if c == nil {
					refused[p]++
					continue
				}
				c.srcPort, c.q = uint16(p), append(c.q[:0], byte(i>>16), byte(i>>8), byte(i))
				r.publish(c)
			}
		})
	}
	got := make([]int, producers)
	last := []int{-1, -1, -1, -1}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	consume := func() {
		for c := r.next(); c != nil; c = r.next() {
			p, i := int(c.srcPort), int(c.q[0])<<16|int(c.q[1])<<8|int(c.q[2])
			if i <= last[p] {
				t.Errorf("producer %d: item %d after %d", p, i, last[p])
			}
			last[p] = i
			got[p]++
			r.release(c)
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		consume()
	}
	consume()
	for p := range producers {
		if got[p]+refused[p] != each {
			t.Errorf("producer %d: %d arrived + %d refused != %d", p, got[p], refused[p], each)
		}
	}
	for range 64 {
		r.publish(r.claim())
	}
	if r.claim() != nil {
		t.Error("a full ring gave a cell")
	}
}
