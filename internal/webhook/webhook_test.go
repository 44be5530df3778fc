package webhook

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/events"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver records what it is sent; status decides each answer.
type receiver struct {
	mu     sync.Mutex
	got    []events.Event
	sigs   []string
	bodies [][]byte
	calls  int
	status func(call int) int
	delay  time.Duration
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	time.Sleep(rc.delay)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	st := 200
	if rc.status != nil {
		st = rc.status(rc.calls)
	}
	if st == 200 {
		var e events.Event
		json.Unmarshal(b, &e)
		rc.got = append(rc.got, e)
		rc.sigs = append(rc.sigs, r.Header.Get(SignatureHeader))
		rc.bodies = append(rc.bodies, b)
	}
	w.WriteHeader(st)
}

func (rc *receiver) seqs() []uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []uint64
	for _, e := range rc.got {
		out = append(out, e.Seq)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDelivery: real receivers: a good one gets every event in order,
// signed; one that answers 500 twice gets them after retries; a slow one
// holds up nobody else; events of kinds a hook did not ask for are not
// sent.
func TestDelivery(t *testing.T) {
	log := events.New(0)
	good, flaky, slow := &receiver{}, &receiver{status: func(n int) int {
		if n <= 2 {
			return 500
		}
		return 200
	}}, &receiver{delay: 300 * time.Millisecond}
	var urls []string
	for _, rc := range []*receiver{good, flaky, slow} {
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	s := New(log, Options{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	t.Cleanup(s.Close)
	s.Update([]Hook{{Name: "good", URL: urls[0], Secret: "k3y"}, {Name: "flaky", URL: urls[1]}, {Name: "slow", URL: urls[2], Kinds: []string{events.Service, events.Config}}})
	for i := range 4 {
		log.Add(events.Event{Kind: []string{events.Service, events.VServer, events.Config, events.Site}[i], Name: "x"})
	}
	waitFor(t, "the good receiver's three events", func() bool { return len(good.seqs()) == 3 })
	if got := good.seqs(); got[0] != 1 || got[1] != 2 || got[2] != 4 {
		t.Errorf("good receiver: %v, want 1 2 4 (no config event: not asked for)", got)
	}
	if len(slow.seqs()) == 2 {
		t.Error("the slow receiver was served before the good one finished: the test proves nothing")
	}
	good.mu.Lock()
	for i, b := range good.bodies {
		if !hmac.Equal([]byte(good.sigs[i]), []byte(Sign("k3y", b))) {
			t.Errorf("event %d: signature %q", i, good.sigs[i])
		}
	}
	good.mu.Unlock()
	waitFor(t, "the flaky receiver's three events", func() bool { return len(flaky.seqs()) == 3 })
	waitFor(t, "the slow receiver's two events", func() bool { return len(slow.seqs()) == 2 })
	if st := s.Stats()["flaky"]; st.Failed != 2 || st.Sent != 3 {
		t.Errorf("flaky: %+v, want 2 failures then 3 sent", st)
	}
	flaky.mu.Lock()
	if flaky.sigs[0] != "" {
		t.Errorf("an unsigned hook signed: %q", flaky.sigs[0])
	}
	flaky.mu.Unlock()
}

// TestDeadEndpoint: while an endpoint is down its queue stays bounded,
// the oldest events dropped; when it comes back the newest arrive.
func TestDeadEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // down: connections refused
	log := events.New(0)
	s := New(log, Options{Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Queue: 3})
	t.Cleanup(s.Close)
	s.Update([]Hook{{Name: "dead", URL: "http://" + addr + "/hook"}})
	for range 10 {
		log.Add(events.Event{Kind: events.Service})
	}
	waitFor(t, "drops", func() bool { st := s.Stats()["dead"]; return st.Dropped == 7 && st.Failed > 0 })
	if st := s.Stats()["dead"]; st.Waiting != 3 {
		t.Fatalf("waiting %d, want the queue's 3", st.Waiting)
	}
	rc := &receiver{}
	var l2 net.Listener
	waitFor(t, "the port free again", func() bool { l2, err = net.Listen("tcp", addr); return err == nil })
	srv := &httptest.Server{Listener: l2, Config: &http.Server{Handler: rc}}
	srv.Start()
	t.Cleanup(srv.Close)
	waitFor(t, "the newest events", func() bool { return len(rc.seqs()) == 3 })
	if got := rc.seqs(); got[0] != 8 || got[2] != 10 {
		t.Errorf("after coming back: %v, want 8 9 10", got)
	}
}
