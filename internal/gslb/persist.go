package gslb

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/config"
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
// the vserver's -persistenceId, the masked client address, the service,
// when the service was chosen for the client (the newer choice wins at
// every site: a client re-chosen because its service went DOWN moves
// everywhere) and when the session ends unless used again.
type PersistSession struct {
	ID               int
	Client           netip.Addr
	Service          string
	Created, Expires time.Time
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
	created int64 // unix nanoseconds, whole milliseconds (as shared)
	expires int64 // unix nanoseconds
	told    int64 // the expiry the other sites last heard of
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

// get returns the persisted service and its creation time, and refreshes
// its idle timeout. tell: the other sites should hear of the refresh, the
// expiry they know being more than a third of a timeout behind (a busy
// client is told at most three times per timeout, and one tell lost in a
// full queue still leaves the others a third of a timeout).
func (t *persistTable) get(k persistKey, now time.Time, ttl time.Duration) (svc string, created int64, tell, ok bool) {
	return t.lookup(k, now, ttl, false)
}

// lookup is get, or with peek only reads the session (an explained
// query neither refreshes it nor is told).
func (t *persistTable) lookup(k persistKey, now time.Time, ttl time.Duration, peek bool) (svc string, created int64, tell, ok bool) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || e.expires < now.UnixNano() {
		return "", 0, false, false
	}
	if peek {
		return e.svc, e.created, false, true
	}
	e.expires = now.Add(ttl).UnixNano()
	if e.expires-e.told > int64(ttl/3) {
		e.told, tell = e.expires, true
	}
	s.m[k] = e
	return e.svc, e.created, tell, true
}

// put records a choice made here (now: its creation, returned as
// shared).
func (t *persistTable) put(k persistKey, svc string, now time.Time, ttl time.Duration) (created int64) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp := now.Add(ttl).UnixNano()
	created = createdAt(now)
	s.m[k] = persistEntry{svc: svc, created: created, expires: exp, told: exp}
	s.puts++
	if s.puts%1024 == 0 {
		n := now.UnixNano()
		for k, e := range s.m {
			if e.expires < n {
				delete(s.m, k)
			}
		}
	}
	return created
}

// unixOrZero is a creation time as a time (0: unknown, from a site that
// did not say).
func unixOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// createdAt is a creation time as sites share it (whole milliseconds), so
// that a site recognises its own session when another refreshes it.
func createdAt(t time.Time) int64 { return t.UnixMilli() * int64(time.Millisecond) }

// putUntil records a session learnt from another site. Against a live
// session here, the newer choice wins (a client re-chosen elsewhere moves
// here too; one re-chosen here stays); the same choice takes the later
// expiry (a refresh). Equal creation times with different services: the
// lower service name, so that every site ends with the same.
func (t *persistTable) putUntil(k persistKey, svc string, created, expires time.Time, now time.Time) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, x := created.UnixNano(), expires.UnixNano()
	if created.IsZero() {
		c = 0
	}
	if e, ok := s.m[k]; ok && e.expires >= now.UnixNano() {
		switch {
		case e.created > c, e.created == c && e.svc < svc:
			return
		case e.created == c && e.svc == svc:
			e.expires, e.told = max(e.expires, x), max(e.told, x)
			s.m[k] = e
			return
		}
	}
	s.m[k] = persistEntry{svc: svc, created: c, expires: x, told: x}
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

// PersistSessions returns the new and refreshed source-IP persistence
// sessions of vservers with a -persistenceId, for the other sites (MEP).
// Until it is called, none are queued.
func (e *Engine) PersistSessions() <-chan PersistSession {
	e.persist.on.Store(true)
	return e.persist.out
}

// AddPersistSessions takes sessions another site created or refreshed:
// each goes to the vserver with its -persistenceId, unless this site has
// a newer live choice for the client (putUntil). A service the vserver does not have
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
		e.persist.putUntil(k, strings.ToLower(s.Service), s.Created, exp, now)
	}
}

// share queues a session for the other sites (a vserver with a
// -persistenceId, once someone asked for them); a full queue drops it.
func (t *persistTable) share(vs *config.VServerInfo, client netip.Addr, svc string, created, now time.Time) {
	if vs.PersistID < 0 || !t.on.Load() {
		return
	}
	select {
	case t.out <- PersistSession{ID: vs.PersistID, Client: client, Service: svc, Created: created, Expires: now.Add(vs.PersistTimeout)}:
	default:
	}
}

// PersistCount is the number of live source-IP persistence sessions, of
// every vserver (this site's and those shared by others).
func (e *Engine) PersistCount() int { return e.persist.Len(time.Now()) }
