// Package load learns the load of GSLB services from what sits behind
// them: HAProxy, nginx, Envoy or any Prometheus endpoint (gslbd's
// -loadSource, docs/monitors.md). NetScaler knows connections, bandwidth
// and packets because it is the load balancer; gslbd asks the load
// balancer. Each poll reports the figures it found with their time, valid
// for three poll intervals.
package load

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// maxBody bounds what one poll reads.
const maxBody = 8 << 20

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	Sink   health.Sink
	// Credentials are the logins of the appliances NITRO sources read
	// (nil: none; SetCredentials replaces them on reload).
	Credentials *Credentials
}

// Manager polls the load sources of a configuration.
type Manager struct {
	log  *slog.Logger
	sink health.Sink

	mu      sync.Mutex
	pollers map[string]*poller    // by lower-case service name
	last    []*config.ServiceInfo // the service list of the last Update
	creds   *Credentials
}

// SetCredentials replaces the appliances' logins (a reload read them).
func (m *Manager) SetCredentials(c *Credentials) {
	m.mu.Lock()
	m.creds = c
	m.mu.Unlock()
}

func (m *Manager) credentials() *Credentials {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creds
}

type poller struct {
	svc    string
	src    config.LoadSource
	state  bool // report the source's state too (config.HealthAppliance)
	sig    string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	last    Sample
	prev    Sample // for rates
	lastErr string
}

// New returns a manager with no sources.
func New(opts Options) *Manager {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{log: log.With("component", "load"), sink: opts.Sink, pollers: map[string]*poller{}, creds: opts.Credentials}
}

// Update starts, keeps or stops pollers to match a configuration.
func (m *Manager) Update(s *config.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(s.Services) > 0 && len(s.Services) == len(m.last) && &s.Services[0] == &m.last[0] {
		return // the same services (a change that touched none): nothing to do
	}
	m.last = s.Services
	want := map[string]bool{}
	for _, si := range s.Services {
		if si.Load.Kind == "" {
			continue
		}
		k := strings.ToLower(si.Name)
		want[k] = true
		state := si.Health == config.HealthAppliance
		sig := fmt.Sprintf("%v %v", si.Load, state)
		if p := m.pollers[k]; p != nil {
			if p.sig == sig {
				continue
			}
			p.stop()
		}
		ctx, cancel := context.WithCancel(context.Background())
		p := &poller{svc: si.Name, src: si.Load, state: state, sig: sig, cancel: cancel, done: make(chan struct{})}
		m.pollers[k] = p
		go m.run(ctx, p)
	}
	for k, p := range m.pollers {
		if !want[k] {
			p.stop()
			delete(m.pollers, k)
		}
	}
}

func (p *poller) stop() {
	p.cancel()
	<-p.done
}

// Close stops every poller.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, p := range m.pollers {
		p.stop()
		delete(m.pollers, k)
	}
}

func (m *Manager) run(ctx context.Context, p *poller) {
	defer close(p.done)
	t := time.NewTicker(p.src.Interval)
	defer t.Stop()
	for {
		m.poll(ctx, p)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Sample is what one poll found. Counters are totals; the manager turns
// them into rates between two polls.
type Sample struct {
	At          time.Time
	Connections uint64
	HasConns    bool
	Bytes       uint64 // total bytes in+out (counter)
	HasBytes    bool
	BytesRate   float64 // bytes/s when the source gives a rate (gauge)
	HasRate     bool
	Packets     uint64 // total packets (counter)
	HasPackets  bool
	PacketRate  float64
	HasPktRate  bool
	// State is what the source says of the service (NITRO: the
	// appliance's vserver state, UP, DOWN or OUT OF SERVICE), with why.
	State, StateNote string
}

func (m *Manager) poll(ctx context.Context, p *poller) {
	ctx, cancel := context.WithTimeout(ctx, min(p.src.Interval, 10*time.Second))
	defer cancel()
	var s Sample
	var err error
	if p.src.Kind == "NITRO" {
		s, err = fetchNITRO(ctx, p.src, m.credentials())
	} else {
		s, err = Fetch(ctx, p.src)
	}
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return // stopping
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		msg := err.Error()
		if msg != p.lastErr {
			m.log.Warn("load source failed; its figures will go stale", "service", p.svc, "source", p.src.Kind, "err", msg)
			p.lastErr = msg
		}
		if p.state && m.sink != nil {
			// The appliance cannot be asked: its vserver's state is unknown
			// here, and the service is taken out rather than answered blind.
			m.sink.Report(health.Report{Service: p.svc, State: health.Down, Reason: "NITRO load source: " + msg, Source: "load nitro"})
		}
		return
	}
	if p.lastErr != "" {
		m.log.Info("load source answers again", "service", p.svc, "source", p.src.Kind)
		p.lastErr = ""
	}
	p.prev, p.last = p.last, s
	mt := metrics(p.prev, s)
	mt.MaxAge = 3 * p.src.Interval
	r := health.Report{Service: p.svc, Source: "load " + strings.ToLower(p.src.Kind)}
	if mt.Has != 0 {
		r.Metrics = &mt
	}
	if p.state && s.State != "" {
		r.State, r.Reason = map[string]health.State{"UP": health.Up, "DOWN": health.Down, "OUT OF SERVICE": health.OutOfService}[s.State], s.StateNote
	}
	if m.sink != nil && (r.Metrics != nil || r.State != health.Unknown) {
		m.sink.Report(r)
	}
}

// metrics turns a sample (and the one before, for counter rates) into
// health metrics: connections, bandwidth in kbit/s, packets/s.
func metrics(prev, cur Sample) health.Metrics {
	mt := health.Metrics{At: cur.At}
	if cur.HasConns {
		mt = mt.With(health.Connections, cur.Connections)
	}
	dt := cur.At.Sub(prev.At).Seconds()
	switch {
	case cur.HasRate:
		mt = mt.With(health.Bandwidth, uint64(cur.BytesRate*8/1000))
	case cur.HasBytes && prev.HasBytes && dt > 0 && cur.Bytes >= prev.Bytes:
		mt = mt.With(health.Bandwidth, uint64(float64(cur.Bytes-prev.Bytes)*8/1000/dt))
	}
	switch {
	case cur.HasPktRate:
		mt = mt.With(health.Packets, uint64(cur.PacketRate))
	case cur.HasPackets && prev.HasPackets && dt > 0 && cur.Packets >= prev.Packets:
		mt = mt.With(health.Packets, uint64(float64(cur.Packets-prev.Packets)/dt))
	}
	return mt
}

// Fetch polls a source once.
func Fetch(ctx context.Context, src config.LoadSource) (Sample, error) {
	body, err := get(ctx, src)
	if err != nil {
		return Sample{}, err
	}
	s := Sample{At: time.Now()}
	switch src.Kind {
	case "HAPROXY":
		err = parseHAProxy(body, src.Filter, &s)
	case "NGINX":
		err = parseNginx(body, &s)
	case "ENVOY":
		err = parseEnvoy(body, src.Filter, &s)
	case "PROMETHEUS":
		err = parsePrometheus(body, src.Filter, &s)
	default:
		err = fmt.Errorf("unknown load source %q", src.Kind)
	}
	return s, err
}

// get reads the source's text: an HTTP(S) GET, or for HAProxy's stats
// socket (unix:<path>) the answer to "show stat".
func get(ctx context.Context, src config.LoadSource) ([]byte, error) {
	if path, ok := strings.CutPrefix(src.URL, "unix:"); ok {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		if _, err := io.WriteString(c, "show stat\n"); err != nil {
			return nil, err
		}
		return readLimited(c)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "gslbd-load")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", src.URL, resp.StatusCode)
	}
	return readLimited(resp.Body)
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: 30 * time.Second,
	MaxResponseHeaderBytes: 64 << 10, ResponseHeaderTimeout: 10 * time.Second}}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("answer larger than %d MiB", maxBody>>20)
	}
	return b, nil
}

// parseHAProxy reads HAProxy's stats CSV. The filter is <proxy>/<server>
// (a backend and one of its servers, or BACKEND / FRONTEND for the proxy's
// totals). Connections are scur; bandwidth comes from bin+bout.
func parseHAProxy(body []byte, filter []string, s *Sample) error {
	want := strings.Join(filter, " ")
	px, sv, ok := strings.Cut(want, "/")
	if !ok {
		return fmt.Errorf("HAPROXY -loadFilter %q: want <proxy>/<server>", want)
	}
	text := strings.TrimPrefix(string(body), "# ")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("HAProxy stats: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, c := range []string{"pxname", "svname", "scur", "bin", "bout"} {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("HAProxy stats: no %q column (is this the CSV output?)", c)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return fmt.Errorf("HAProxy stats: no row for %s/%s", px, sv)
		}
		if err != nil {
			return fmt.Errorf("HAProxy stats: %w", err)
		}
		if len(rec) <= col["bout"] || rec[col["pxname"]] != px || rec[col["svname"]] != sv {
			continue
		}
		n := func(c string) (uint64, bool) {
			v, err := strconv.ParseUint(rec[col[c]], 10, 64)
			return v, err == nil
		}
		s.Connections, s.HasConns = n("scur")
		bin, ok1 := n("bin")
		bout, ok2 := n("bout")
		s.Bytes, s.HasBytes = bin+bout, ok1 && ok2
		if !s.HasConns {
			return fmt.Errorf("HAProxy stats: %s/%s scur %q is not a number", px, sv, rec[col["scur"]])
		}
		return nil
	}
}

var nginxActive = regexp.MustCompile(`(?m)^Active connections:\s*(\d+)`)

// parseNginx reads nginx stub_status. Its active connections count the
// poll's own connection, which is left out.
func parseNginx(body []byte, s *Sample) error {
	m := nginxActive.FindSubmatch(body)
	if m == nil {
		return errors.New("nginx stub_status: no \"Active connections\" line")
	}
	n, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		return fmt.Errorf("nginx stub_status: %w", err)
	}
	if n > 0 {
		n--
	}
	s.Connections, s.HasConns = n, true
	return nil
}

// parseEnvoy reads Envoy's admin /stats text. The filter names a cluster
// (upstream connections and bytes), or http.<stat_prefix> for a listener's
// downstream connections.
func parseEnvoy(body []byte, filter []string, s *Sample) error {
	if len(filter) != 1 {
		return errors.New("ENVOY -loadFilter: give one cluster name, or http.<stat_prefix>")
	}
	pfx, dir := "cluster."+filter[0]+".upstream_cx_", "upstream"
	if strings.HasPrefix(filter[0], "http.") {
		pfx, dir = filter[0]+".downstream_cx_", "downstream"
	}
	var rx, tx uint64
	var hasRx, hasTx bool
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok || !strings.HasPrefix(name, pfx) {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		switch strings.TrimPrefix(name, pfx) {
		case "active":
			s.Connections, s.HasConns = v, true
		case "rx_bytes_total":
			rx, hasRx = v, true
		case "tx_bytes_total":
			tx, hasTx = v, true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("Envoy stats: %w", err)
	}
	if !s.HasConns {
		return fmt.Errorf("Envoy stats: no %sactive (%s %q)", pfx, dir, filter[0])
	}
	s.Bytes, s.HasBytes = rx+tx, hasRx && hasTx
	return nil
}

// parsePrometheus reads the Prometheus text format. Each filter item is
// [connections=|bandwidth=|packets=]<metric>{<label>="<value>",...}; the
// values of every matching series are summed; counters become rates.
// Bandwidth is read in bytes (bytes/s for a gauge).
func parsePrometheus(body []byte, filter []string, s *Sample) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("Prometheus text: %w", err)
	}
	for _, f := range filter {
		what, sel, ok := strings.Cut(f, "=")
		if !ok || strings.Contains(what, "{") {
			what, sel = "connections", f
		}
		name, labels, err := parseSelector(sel)
		if err != nil {
			return err
		}
		fam := fams[name]
		if fam == nil {
			return fmt.Errorf("Prometheus: no metric %q", name)
		}
		var sum float64
		found := false
		for _, m := range fam.GetMetric() {
			if !matches(m, labels) {
				continue
			}
			found = true
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Untyped != nil:
				sum += m.Untyped.GetValue()
			}
		}
		if !found {
			return fmt.Errorf("Prometheus: no series of %q matches %s", name, sel)
		}
		counter := fam.GetType() == dto.MetricType_COUNTER
		switch what {
		case "connections":
			s.Connections, s.HasConns = uint64(sum), true
		case "bandwidth":
			if counter {
				s.Bytes, s.HasBytes = uint64(sum), true
			} else {
				s.BytesRate, s.HasRate = sum, true
			}
		case "packets":
			if counter {
				s.Packets, s.HasPackets = uint64(sum), true
			} else {
				s.PacketRate, s.HasPktRate = sum, true
			}
		default:
			return fmt.Errorf("PROMETHEUS -loadFilter %q: %q is not connections, bandwidth or packets", f, what)
		}
	}
	return nil
}

var selectorRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$`)
var labelRe = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)

func parseSelector(sel string) (string, map[string]string, error) {
	m := selectorRe.FindStringSubmatch(strings.TrimSpace(sel))
	if m == nil {
		return "", nil, fmt.Errorf("PROMETHEUS -loadFilter %q: want metric{label=\"value\",...}", sel)
	}
	labels := map[string]string{}
	if strings.TrimSpace(m[2]) != "" {
		for _, part := range strings.Split(m[2], ",") {
			lm := labelRe.FindStringSubmatch(part)
			if lm == nil {
				return "", nil, fmt.Errorf("PROMETHEUS -loadFilter %q: bad label matcher %q", sel, part)
			}
			v, err := strconv.Unquote(`"` + lm[2] + `"`)
			if err != nil {
				return "", nil, fmt.Errorf("PROMETHEUS -loadFilter %q: %v", sel, err)
			}
			labels[lm[1]] = v
		}
	}
	return m[1], labels, nil
}

func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}
