package events

import (
	"strings"
	"testing"
	"time"
)

// TestRing: events are numbered in order, paged by sequence number, the
// oldest overwritten when the ring is full.
func TestRing(t *testing.T) {
	l := New(4)
	for i := range 6 {
		l.Add(Event{Kind: Service, Name: string(rune('a' + i))})
	}
	got := l.Since(0, 0)
	if len(got) != 4 || got[0].Seq != 3 || got[0].Name != "c" || got[3].Seq != 6 || got[3].Name != "f" {
		t.Fatalf("since 0: %+v", got)
	}
	if got := l.Since(4, 1); len(got) != 1 || got[0].Seq != 5 {
		t.Fatalf("since 4, one: %+v", got)
	}
	if got := l.Since(6, 0); len(got) != 0 || l.Last() != 6 {
		t.Fatalf("since the last: %+v (last %d)", got, l.Last())
	}
	if got[0].Time.IsZero() {
		t.Error("no time stamped")
	}
	var nilLog *Log
	nilLog.Add(Event{}) // dropped, no panic
}

// TestSubscribersNeverBlock: a subscriber gets the events added after it
// subscribed; one that reads nothing does not hold up Add, and what it
// missed is counted; after unsubscribing it gets nothing.
func TestSubscribersNeverBlock(t *testing.T) {
	l := New(16)
	fast, stopFast := l.Subscribe(8)
	_, stopSlow := l.Subscribe(1)
	defer stopSlow()
	done := make(chan struct{})
	go func() {
		for range 5 {
			l.Add(Event{Kind: Config})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked on a subscriber that does not read")
	}
	for i := range 5 {
		if e := <-fast; e.Seq != uint64(i+1) {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	if l.Lost.Load() != 4 {
		t.Errorf("lost %d, want 4 (the slow subscriber's buffer holds one)", l.Lost.Load())
	}
	stopFast()
	stopFast()
	l.Add(Event{})
	select {
	case e := <-fast:
		t.Fatalf("after unsubscribing: %+v", e)
	default:
	}
}

// TestAgent: a User-Agent shown in an event keeps printable ASCII only,
// at most 100 characters.
func TestAgent(t *testing.T) {
	for in, want := range map[string]string{
		"gslbctl":                      "gslbctl",
		"a\x01b\nc\x7fd\u00e9":         "abcd",
		strings.Repeat("x", 300) + "y": strings.Repeat("x", 100),
	} {
		if got := Agent(in); got != want {
			t.Errorf("Agent(%q) = %q, want %q", in, got, want)
		}
	}
}
