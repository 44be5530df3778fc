// Package webhook sends the event stream's state changes to HTTP
// endpoints (add gslb webhook): each event as one JSON POST, signed with
// an HMAC of the body, retried with backoff until the endpoint takes it.
// Each endpoint has its own bounded queue: a dead or slow endpoint never
// holds up the engine or the other endpoints, and when its queue is full
// the oldest waiting event is dropped, so the newest always get through.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/events"
)

// Hook is one endpoint.
type Hook struct {
	Name, URL string
	Secret    string   // the HMAC key ("": unsigned)
	Kinds     []string // event kinds sent (none: service, vserver and site)
}

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>".
const SignatureHeader = "X-Gslbd-Signature"

// Options tune a Sender; zero values are the defaults.
type Options struct {
	Logger *slog.Logger
	Client *http.Client // default: 10 s timeout
	// Backoff is the first retry's wait, doubled up to MaxBackoff
	// (defaults 1 s and 60 s).
	Backoff, MaxBackoff time.Duration
	// Queue bounds each endpoint's waiting events (default 1000).
	Queue int
}

// Stats are one endpoint's figures.
type Stats struct {
	Sent, Failed, Dropped uint64
	Waiting               int
}

// Sender delivers the events of a log to the configured hooks.
type Sender struct {
	opts  Options
	log   *slog.Logger
	ctx   context.Context
	stop  context.CancelFunc
	mu    sync.Mutex
	hooks map[string]*worker
	wg    sync.WaitGroup
}

type worker struct {
	hook    Hook
	mu      sync.Mutex
	queue   []events.Event
	wake    chan struct{}
	cancel  context.CancelFunc
	sent    atomic.Uint64
	failed  atomic.Uint64
	dropped atomic.Uint64
}

// New starts a sender reading l; Update gives it its hooks.
func New(l *events.Log, opts Options) *Sender {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Queue <= 0 {
		opts.Queue = 1000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Sender{opts: opts, log: log.With("component", "webhook"), ctx: ctx, stop: stop, hooks: map[string]*worker{}}
	ch, unsubscribe := l.Subscribe(4096)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-ch:
				s.dispatch(e)
			}
		}
	}()
	return s
}

// dispatch queues an event for every hook that wants its kind.
func (s *Sender) dispatch(e events.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.hooks {
		kinds := w.hook.Kinds
		if len(kinds) == 0 {
			kinds = []string{events.Service, events.VServer, events.Site}
		}
		if !slices.Contains(kinds, e.Kind) {
			continue
		}
		w.mu.Lock()
		if len(w.queue) >= s.opts.Queue {
			w.queue = w.queue[1:] // the oldest goes: the newest matter most
			w.dropped.Add(1)
		}
		w.queue = append(w.queue, e)
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Update replaces the hooks: new ones start, removed or changed ones stop
// (their waiting events with them).
func (s *Sender) Update(hooks []Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := map[string]bool{}
	for _, h := range hooks {
		keep[h.Name] = true
		if w, ok := s.hooks[h.Name]; ok && w.hook.URL == h.URL && w.hook.Secret == h.Secret && slices.Equal(w.hook.Kinds, h.Kinds) {
			continue
		}
		if w, ok := s.hooks[h.Name]; ok {
			w.cancel()
		}
		ctx, cancel := context.WithCancel(s.ctx)
		w := &worker{hook: h, wake: make(chan struct{}, 1), cancel: cancel}
		s.hooks[h.Name] = w
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(ctx, w)
		}()
	}
	for name, w := range s.hooks {
		if !keep[name] {
			w.cancel()
			delete(s.hooks, name)
		}
	}
}

// run delivers w's events in order, retrying each until it is taken.
func (s *Sender) run(ctx context.Context, w *worker) {
	for {
		w.mu.Lock()
		var e events.Event
		have := len(w.queue) > 0
		if have {
			e = w.queue[0]
		}
		w.mu.Unlock()
		if !have {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		wait := s.opts.Backoff
		for {
			err := s.post(ctx, w.hook, e)
			if err == nil {
				w.sent.Add(1)
				break
			}
			w.failed.Add(1)
			s.log.Warn("webhook delivery failed; retrying", "hook", w.hook.Name, "seq", e.Seq, "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, s.opts.MaxBackoff)
			w.mu.Lock()
			stale := len(w.queue) == 0 || w.queue[0].Seq != e.Seq // dropped while retrying
			w.mu.Unlock()
			if stale {
				break
			}
		}
		w.mu.Lock()
		if len(w.queue) > 0 && w.queue[0].Seq == e.Seq {
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
	}
}

// post sends one event; a status other than 2xx is an error.
func (s *Sender) post(ctx context.Context, h Hook, e events.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gslbd-webhook")
	req.Header.Set("X-Gslbd-Event", e.Kind)
	if h.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(h.Secret, body))
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// Sign is the signature header's value for a body: what a receiver
// computes with the shared secret and compares (hmac.Equal).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Stats returns each hook's figures.
func (s *Sender) Stats() map[string]Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Stats{}
	for name, w := range s.hooks {
		w.mu.Lock()
		n := len(w.queue)
		w.mu.Unlock()
		out[name] = Stats{Sent: w.sent.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load(), Waiting: n}
	}
	return out
}

// Close stops every delivery.
func (s *Sender) Close() {
	s.stop()
	s.wg.Wait()
}
