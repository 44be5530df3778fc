package gslb

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// persistTable is the source-IP persistence table (NetScaler
// -persistenceType SOURCEIP): masked client address -> service, with an
// idle timeout. Sharded so that concurrent queries rarely share a lock.
type persistTable struct {
	shards [64]persistShard
	// out receives new sessions of vservers with a -persistenceId for
	// the other sites (PersistSessions), once someone asked for them;
	// full: the newest are dropped, the answer path never waits.
	on  atomic.Bool
	out chan PersistSession
}

// PersistSession is a source-IP persistence session, as sites share them:
// the vserver's -persistenceId, the masked client address, the service.
type PersistSession struct {
	ID      int
	Client  netip.Addr
	Service string
	Expires time.Time
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
	t := &persistTable{out: make(chan PersistSession, 4096)}
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

// putUntil records a session learnt from another site, unless this site
// has one of its own for the client.
func (t *persistTable) putUntil(k persistKey, svc string, expires time.Time, now time.Time) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && e.expires >= now.UnixNano() {
		return
	}
	s.m[k] = persistEntry{svc: svc, expires: expires.UnixNano()}
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

// PersistSessions returns the new source-IP persistence sessions of
// vservers with a -persistenceId, for the other sites (MEP). Until it is
// called, none are queued.
func (e *Engine) PersistSessions() <-chan PersistSession {
	e.persist.on.Store(true)
	return e.persist.out
}

// AddPersistSessions takes sessions another site created: each goes to
// the vserver with its -persistenceId, unless this site has a live
// session of its own for the client. A service the vserver does not have
// is never answered from it (the answer path checks).
func (e *Engine) AddPersistSessions(ss []PersistSession) {
	e.mu.Lock()
	snap := e.snap
	e.mu.Unlock()
	if snap == nil {
		return
	}
	now := time.Now()
	for _, s := range ss {
		vs := snap.VServerByPersistID(s.ID)
		if vs == nil || !vs.PersistSourceIP || !s.Expires.After(now) || !s.Client.IsValid() {
			continue
		}
		k := persistKey{vs: strings.ToLower(vs.Name), ip: maskAddr(s.Client, vs.PersistMaskBits, vs.V6PersistMaskBits)}
		exp := s.Expires
		if limit := now.Add(vs.PersistTimeout); exp.After(limit) {
			exp = limit
		}
		e.persist.putUntil(k, strings.ToLower(s.Service), exp, now)
	}
}

// PersistCount is the number of live source-IP persistence sessions, of
// every vserver (this site's and those shared by others).
func (e *Engine) PersistCount() int { return e.persist.Len(time.Now()) }
