package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/webhook"
)

// TestEventStream: what changed reaches a live Server-Sent Events
// consumer and the paged NITRO read: a configuration change through the
// API (its secret masked), a monitored service going DOWN when its
// backend stops (within 2 s of the monitor seeing it), its vserver
// going DOWN; a consumer that reconnects with Last-Event-ID gets what it
// missed.
func TestEventStream(t *testing.T) {
	be := newBackend(t, "127.0.0.81")
	conf := "add gslb site s1 127.0.0.1\nadd lb monitor m TCP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 1\n" +
		"add gslb vserver gv HTTP -lbMethod ROUNDROBIN\nbind gslb vserver gv -domainName e.test\n" +
		fmt.Sprintf("add gslb service web %s HTTP %s -siteName s1\nbind gslb service web -monitorName m\nbind gslb vserver gv -serviceName web\n", be.IP(), be.Port())
	d, _ := startFile(t, conf)
	srv := apiServer(t, d, newUsers(t))
	t.Cleanup(srv.Client().CloseIdleConnections)
	auth := func(r *http.Request) {
		r.Header.Set("X-NITRO-USER", "nsroot")
		r.Header.Set("X-NITRO-PASS", nitroPassword)
	}
	waitFor(t, "the service UP", 10*time.Second, func() bool { return strings.Contains(answerSet(t, d, "e.test"), be.IP()) })

	stream := func(lastID string) (*bufio.Reader, func()) {
		req, _ := http.NewRequest("GET", srv.URL+"/nitro/v1/stat/gslbevents", nil)
		auth(req)
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %v %v", resp, err)
		}
		return bufio.NewReader(resp.Body), func() { resp.Body.Close() }
	}
	type ev struct {
		Seq                                          uint64
		Kind, Name, From, To, Reason, Source, Detail string
		User, Client, Agent                          string
	}
	next := func(r *bufio.Reader, deadline time.Duration, want func(ev) bool) ev {
		t.Helper()
		found := make(chan ev, 1)
		go func() {
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					close(found)
					return
				}
				if data, ok := strings.CutPrefix(line, "data: "); ok {
					var e ev
					json.Unmarshal([]byte(data), &e)
					if want(e) {
						found <- e
						return
					}
				}
			}
		}()
		select {
		case e, ok := <-found:
			if !ok {
				t.Fatal("the stream ended")
			}
			return e
		case <-time.After(deadline):
			t.Fatal("no such event in time")
		}
		return ev{}
	}
	r, stop := stream("")
	defer stop()
	// A change through NITRO: an event naming the source, the secret masked.
	body := `{"gslbsite":{"sitename":"s2","siteipaddress":"127.0.0.2","sitepassword":"hunter2-secret"}}`
	req, _ := http.NewRequest("POST", srv.URL+"/nitro/v1/config/gslbsite", strings.NewReader(body))
	auth(req)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "terraform-provider-citrixadc/1.0")
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("add site: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	ch := next(r, 5*time.Second, func(e ev) bool { return e.Kind == "config" })
	if ch.Source != "nitro" || !strings.Contains(ch.Detail, "add gslb site s2 127.0.0.2") || strings.Contains(ch.Detail, "hunter2") || !strings.Contains(ch.Detail, "********") {
		t.Fatalf("config event %+v", ch)
	}
	if ch.User != "nsroot" || !strings.HasPrefix(ch.Client, "127.0.0.1:") || ch.Agent != "terraform-provider-citrixadc/1.0" {
		t.Errorf("config event: who %q from %q with %q, want nsroot from 127.0.0.1 with the client's User-Agent", ch.User, ch.Client, ch.Agent)
	}
	// A refused change is counted as such (gslbd_config_changes_total).
	req, _ = http.NewRequest("POST", srv.URL+"/nitro/v1/config/gslbsite", strings.NewReader(`{"gslbsite":{"sitename":"s3","siteipaddress":"not-an-ip"}}`))
	auth(req)
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode == 201 {
		t.Fatalf("a bad site was added: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if r := d.ChangeResults(); r[[2]string{"nitro", "ok"}] != 1 || r[[2]string{"nitro", "refused"}] != 1 {
		t.Errorf("change results %v", r)
	}
	// The backend stops: the service and the vserver go DOWN.
	be.Kill()
	stopped := time.Now()
	down := next(r, 10*time.Second, func(e ev) bool { return e.Kind == "service" && e.Name == "web" && e.To == "DOWN" })
	t.Logf("service DOWN event %s after the backend stopped: %s", time.Since(stopped).Round(time.Millisecond), down.Reason)
	if time.Since(stopped) > 5*time.Second || down.From != "UP" || down.Reason == "" {
		t.Errorf("service event %+v after %s", down, time.Since(stopped))
	}
	vs := next(r, 5*time.Second, func(e ev) bool { return e.Kind == "vserver" && e.Name == "gv" })
	if vs.To != "DOWN" {
		t.Errorf("vserver event %+v", vs)
	}
	// ... and answers every service all the same (fail open).
	if all := next(r, 5*time.Second, func(e ev) bool { return e.Kind == "vserver" && e.Name == "gv" }); all.To != "no service UP" || all.Reason != "answering every service (fail open)" {
		t.Errorf("all-down event %+v", all)
	}
	// Paged: every event since the change, in order; a reconnecting
	// stream starts after its Last-Event-ID.
	req, _ = http.NewRequest("GET", fmt.Sprintf("%s/nitro/v1/stat/gslbevents?since=%d", srv.URL, ch.Seq-1), nil)
	auth(req)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct {
		Events []ev `json:"gslbevents"`
		Last   string
	}
	json.Unmarshal(b, &page)
	if len(page.Events) < 3 || page.Events[0].Seq != ch.Seq || page.Last != fmt.Sprint(page.Events[len(page.Events)-1].Seq) {
		t.Fatalf("paged events: %s", b)
	}
	r2, stop2 := stream(fmt.Sprint(ch.Seq))
	defer stop2()
	if e := next(r2, 5*time.Second, func(ev) bool { return true }); e.Seq != ch.Seq+1 {
		t.Errorf("after Last-Event-ID %d: event %+v", ch.Seq, e)
	}
	// A read-only user may read the events too; no one unauthenticated.
	req, _ = http.NewRequest("GET", srv.URL+"/nitro/v1/stat/gslbevents", nil)
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("unauthenticated: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestWebhookDelivers: `add gslb webhook` in ns.conf: a service going
// DOWN reaches a real HTTP receiver as signed JSON, after the receiver's
// first answer (500) made gslbd retry; the line is written back as read.
func TestWebhookDelivers(t *testing.T) {
	type got struct {
		body []byte
		sig  string
	}
	recv := make(chan got, 16)
	calls := 0
	var mu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500)
			return
		}
		recv <- got{b, r.Header.Get(webhook.SignatureHeader)}
	}))
	defer hook.Close()
	be := newBackend(t, "127.0.0.82")
	line := "add gslb webhook pager " + hook.URL + "/gslb -secret s3cret-hook -events service\n"
	conf := "add gslb site s1 127.0.0.1\nadd lb monitor m TCP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 1\n" +
		"add gslb vserver gv HTTP\nbind gslb vserver gv -domainName w.test\n" +
		fmt.Sprintf("add gslb service web %s HTTP %s -siteName s1\nbind gslb service web -monitorName m\nbind gslb vserver gv -serviceName web\n", be.IP(), be.Port()) + line
	d, _ := startFile(t, conf)
	if !strings.Contains(d.Current().Config.String(), line) {
		t.Fatalf("not written back:\n%s", d.Current().Config.String())
	}
	var up got
	select {
	case up = <-recv:
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered")
	}
	be.Kill()
	var down got
	deadline := time.After(10 * time.Second)
	for {
		select {
		case down = <-recv:
		case <-deadline:
			t.Fatal("no DOWN event delivered")
		}
		if strings.Contains(string(down.body), `"to":"DOWN"`) {
			break
		}
	}
	for _, g := range []got{up, down} {
		var e struct{ Kind, Name string }
		if err := json.Unmarshal(g.body, &e); err != nil || e.Kind != "service" || e.Name != "web" {
			t.Errorf("event %s: %v", g.body, err)
		}
		if g.sig != webhook.Sign("s3cret-hook", g.body) {
			t.Errorf("signature %q", g.sig)
		}
	}
}

// TestExplainWithDig: docs/explain.md's dig command shows the trace.
func TestExplainWithDig(t *testing.T) {
	digPath, err := exec.LookPath("dig")
	if err != nil {
		t.Fatal("dig not found: apt-get install bind9-dnsutils (.ci/run does)")
	}
	d := start(t, "add gslb site s1 127.0.0.1\nadd gslb service a 192.0.2.10 HTTP 80 -siteName s1 -healthMonitor NO\n"+
		"add gslb vserver gv HTTP -lbMethod ROUNDROBIN\nbind gslb vserver gv -serviceName a\nbind gslb vserver gv -domainName www.dig.test -TTL 5\n"+
		"set gslb parameter -explainFrom 127.0.0.0/8\n")
	host, port, _ := net.SplitHostPort(d.UDPAddr())
	out, err := exec.Command(digPath, "@"+host, "-p", port, "_explain.www.dig.test", "TXT", "+short").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"00" "www.dig.test A from 127.0.0.1: NOERROR 192.0.2.10"`) || !strings.Contains(string(out), "vserver gv") {
		t.Fatalf("dig: %v\n%s", err, out)
	}
}
