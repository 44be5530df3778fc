// Package events keeps what changed (service, vserver and site state,
// configuration changes) as a bounded stream: the newest events in a
// ring that readers page through by sequence number, and live
// subscribers that are never waited for.
package events

import (
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of events.
const (
	Service = "service" // a GSLB service's state (From, To, Reason)
	VServer = "vserver" // a GSLB vserver's state, or the vserver it answers from (failover to backup)
	Site    = "site"    // a site link's state
	Config  = "config"  // a configuration change (Source: who and how; Detail: the commands)
)

// Event is one change.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Name   string    `json:"name"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Source string    `json:"source,omitempty"`
	// User, Client and Agent say who made a configuration change: the
	// API user, the address the request came from and its User-Agent.
	User   string `json:"user,omitempty"`
	Client string `json:"client,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Origin is who makes a configuration change and through what.
type Origin struct {
	Via    string // the interface: "nitro", "reload (SIGHUP)" ...
	User   string
	Client string // remote address
	Agent  string // User-Agent, at most 100 printable characters
}

// Agent is a client's User-Agent as an event shows it: printable ASCII,
// at most 100 characters.
func Agent(ua string) string {
	b := make([]byte, 0, min(len(ua), 100))
	for i := 0; i < len(ua) && len(b) < 100; i++ {
		if c := ua[i]; c >= 0x20 && c < 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

// DefaultSize is the ring's size when New is given none.
const DefaultSize = 4096

// Log is the stream. Add never blocks on a reader.
type Log struct {
	mu   sync.Mutex
	ring []Event
	seq  uint64 // of the newest event
	subs map[chan Event]struct{}
	// Lost counts events a slow subscriber did not get (its buffer was
	// full); the ring still has them.
	Lost atomic.Uint64
}

// New returns a log keeping the newest size events (0: DefaultSize).
func New(size int) *Log {
	if size <= 0 {
		size = DefaultSize
	}
	return &Log{ring: make([]Event, size), subs: map[chan Event]struct{}{}}
}

// Add appends an event, numbering it and stamping it now when its Time
// is zero, and hands it to every subscriber that has room. A nil Log
// drops it.
func (l *Log) Add(e Event) {
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	l.ring[l.seq%uint64(len(l.ring))] = e
	for ch := range l.subs {
		select {
		case ch <- e:
		default:
			l.Lost.Add(1)
		}
	}
}

// Since returns the events after seq still in the ring, oldest first, at
// most max (0: all).
func (l *Log) Since(seq uint64, max int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := seq + 1
	if n := uint64(len(l.ring)); l.seq >= n && first <= l.seq-n {
		first = l.seq - n + 1 // older ones were overwritten
	}
	var out []Event
	for s := first; s <= l.seq && (max == 0 || len(out) < max); s++ {
		out = append(out, l.ring[s%uint64(len(l.ring))])
	}
	return out
}

// Last is the newest event's sequence number (0: none yet).
func (l *Log) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Subscribe returns a channel of the events added from now on (buffered
// by buf; a subscriber that falls behind misses events, counted in Lost)
// and the function that ends the subscription.
func (l *Log) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, max(buf, 1))
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, ch)
			l.mu.Unlock()
		})
	}
}
