package nitro

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nserr"
)

// EventSource is optional on a Backend: the stream of what changed
// (GET /nitro/v1/stat/gslbevents).
type EventSource interface {
	Events() *events.Log
}

// eventPage is the most events one GET returns.
const eventPage = 1000

// events serves GET /nitro/v1/stat/gslbevents[?since=<seq>][&max=<n>]:
// the events after since, oldest first, and "last", the newest
// sequence number (the next call's since).
func (s *Server) events(req *request) (*reply, error) {
	src, ok := s.backend.(EventSource)
	if !ok || req.r.Method != http.MethodGet {
		return nil, fail(nserr.InvalidMethod, "Invalid method: events are read with GET")
	}
	since, err := strconv.ParseUint(or(req.query.Get("since"), "0"), 10, 64)
	if err != nil {
		return nil, fail(nserr.ArgValBad, "Invalid argument value [since]: want a sequence number")
	}
	n, err := strconv.Atoi(or(req.query.Get("max"), strconv.Itoa(eventPage)))
	if err != nil || n < 1 {
		return nil, fail(nserr.ArgValBad, "Invalid argument value [max]: want a positive number")
	}
	log := src.Events()
	list := log.Since(since, min(n, eventPage))
	out := make([]obj, len(list))
	for i, e := range list {
		out[i] = eventObj(e)
	}
	return &reply{fields: obj{"gslbevents": out, "last": strconv.FormatUint(log.Last(), 10)}}, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func eventObj(e events.Event) obj {
	b, _ := json.Marshal(e)
	var o obj
	_ = json.Unmarshal(b, &o)
	return o
}

// streamEvents serves GET /nitro/v1/stat/gslbevents with Accept:
// text/event-stream: Server-Sent Events, first those after since (or
// the Last-Event-ID header), then each new one as it happens, with a
// comment every 15 s so that proxies keep the connection. A client too
// slow to keep up misses events (it can page them with since).
func (s *Server) streamEvents(w http.ResponseWriter, req *request) {
	src, ok := s.backend.(EventSource)
	rc := http.NewResponseController(w)
	if !ok || req.r.Method != http.MethodGet {
		writeError(w, fail(nserr.InvalidMethod, "Invalid method: no event stream here"))
		return
	}
	since, _ := strconv.ParseUint(or(req.r.Header.Get("Last-Event-ID"), req.query.Get("since")), 10, 64)
	log := src.Events()
	live, stop := log.Subscribe(256)
	defer stop()
	// A stream outlives the server's read timeout (for request bodies).
	_ = rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	last := since
	send := func(e events.Event) bool {
		if e.Seq <= last {
			return true
		}
		last = e.Seq
		b, _ := json.Marshal(e)
		_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, b)
		return err == nil
	}
	for _, e := range log.Since(since, 0) {
		if !send(e) {
			return
		}
	}
	_ = rc.Flush()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-req.r.Context().Done():
			return
		case e := <-live:
			if !send(e) {
				return
			}
			_ = rc.Flush()
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}
}

// wantsStream reports whether a request asks for the event stream.
func wantsStream(req *request) bool {
	return req.kind == "stat" && req.resource == "gslbevents" && strings.Contains(req.r.Header.Get("Accept"), "text/event-stream")
}

// Explainer is optional on a Backend: the decision trace of a
// hypothetical query (GET /nitro/v1/stat/gslbexplain).
type Explainer interface {
	// Explain returns the trace of a query for domain of qtype ("": A)
	// from client ("": 127.0.0.1) with an ECS subnet ("": none).
	Explain(domain, qtype, client, ecs string) (any, error)
}

// explain serves GET /nitro/v1/stat/gslbexplain?domain=&client=&ecs=&type=
// (any authenticated user): why that client would get its answer.
func (s *Server) explain(req *request) (*reply, error) {
	x, ok := s.backend.(Explainer)
	if !ok || req.r.Method != http.MethodGet {
		return nil, fail(nserr.InvalidMethod, "Invalid method: explain is read with GET")
	}
	domain := req.query.Get("domain")
	if domain == "" {
		domain = req.key
	}
	if domain == "" {
		return nil, fail(nserr.ArgMissing, "Required argument missing [domain]")
	}
	tr, err := x.Explain(domain, req.query.Get("type"), req.query.Get("client"), req.query.Get("ecs"))
	if err != nil {
		return nil, fail(nserr.ArgValBad, "Invalid argument value: "+err.Error())
	}
	b, err := json.Marshal(tr)
	if err != nil {
		return nil, err
	}
	var o obj
	_ = json.Unmarshal(b, &o)
	return &reply{fields: obj{"gslbexplain": o}}, nil
}
