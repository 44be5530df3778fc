package gslb

import (
	"net/netip"
	"sync"
	"time"
)

// persistTable is the source-IP persistence table (NetScaler
// -persistenceType SOURCEIP): masked client address -> service, with an
// idle timeout. Sharded so that concurrent queries rarely share a lock.
type persistTable struct {
	shards [64]persistShard
}

type persistShard struct {
	mu   sync.Mutex
	m    map[persistKey]persistEntry
	puts uint32
	_    [40]byte
}

type persistKey struct {
	vs string
	ip netip.Addr
}

type persistEntry struct {
	svc     string
	expires int64 // unix nanoseconds
}

func newPersistTable() *persistTable {
	t := &persistTable{}
	for i := range t.shards {
		t.shards[i].m = map[persistKey]persistEntry{}
	}
	return t
}

func (t *persistTable) shard(k persistKey) *persistShard {
	b := k.ip.As16()
	return &t.shards[(b[15]^b[14]^b[13]^b[11]^byte(len(k.vs)))&63]
}

// get returns the persisted service and refreshes its idle timeout.
func (t *persistTable) get(k persistKey, now time.Time, ttl time.Duration) (string, bool) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || e.expires < now.UnixNano() {
		return "", false
	}
	e.expires = now.Add(ttl).UnixNano()
	s.m[k] = e
	return e.svc, true
}

func (t *persistTable) put(k persistKey, svc string, now time.Time, ttl time.Duration) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = persistEntry{svc: svc, expires: now.Add(ttl).UnixNano()}
	s.puts++
	if s.puts%1024 == 0 {
		n := now.UnixNano()
		for k, e := range s.m {
			if e.expires < n {
				delete(s.m, k)
			}
		}
	}
}

// Len returns the number of live entries (stat gslb vserver
// curpersistencesessions).
func (t *persistTable) Len(now time.Time) int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, e := range s.m {
			if e.expires >= now.UnixNano() {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
