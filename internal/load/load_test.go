package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// fakeEnvoyStats is Envoy's admin /stats text (Envoy is not packaged for
// Debian, so the test serves what its admin endpoint prints).
const fakeEnvoyStats = `cluster.web.upstream_cx_active: 7
cluster.web.upstream_cx_rx_bytes_total: 1000
cluster.web.upstream_cx_tx_bytes_total: 500
cluster.other.upstream_cx_active: 1
http.ingress.downstream_cx_active: 3
`

const promText = `# TYPE app_connections gauge
app_connections{instance="a",pool="x"} 4
app_connections{instance="a",pool="y"} 5
app_connections{instance="b",pool="x"} 100
# TYPE app_bytes_total counter
app_bytes_total{instance="a"} %d
`

func serve(t *testing.T, body func() string) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body()) }))
	t.Cleanup(s.Close)
	return s.URL
}

func TestEnvoy(t *testing.T) {
	url := serve(t, func() string { return fakeEnvoyStats })
	for filter, want := range map[string]uint64{"web": 7, "other": 1, "http.ingress": 3} {
		s, err := Fetch(context.Background(), config.LoadSource{Kind: "ENVOY", URL: url, Filter: []string{filter}})
		if err != nil || !s.HasConns || s.Connections != want {
			t.Errorf("filter %s: %+v %v, want %d connections", filter, s, err, want)
		}
	}
	if _, err := Fetch(context.Background(), config.LoadSource{Kind: "ENVOY", URL: url, Filter: []string{"nope"}}); err == nil ||
		!strings.Contains(err.Error(), "cluster.nope.upstream_cx_active") {
		t.Errorf("unknown cluster: %v", err)
	}
}

func TestPrometheusSelectorsAndRates(t *testing.T) {
	bytes := 0
	url := serve(t, func() string { bytes += 125000; return fmt.Sprintf(promText, bytes) })
	src := config.LoadSource{Kind: "PROMETHEUS", URL: url,
		Filter: []string{`app_connections{instance="a"}`, `bandwidth=app_bytes_total{instance="a"}`}}
	s1, err := Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Connections != 9 {
		t.Fatalf("connections %d, want 4+5 (instance a, both pools)", s1.Connections)
	}
	s2, _ := Fetch(context.Background(), src)
	s2.At = s1.At.Add(time.Second) // exactly one second later
	m := metrics(s1, s2)
	if !m.Present(health.Bandwidth) || m.Bandwidth != 1000 {
		t.Fatalf("bandwidth %d kbit/s (present %v), want 125000 bytes/s = 1000 kbit/s", m.Bandwidth, m.Present(health.Bandwidth))
	}
	for _, bad := range []string{`app_connections{instance=a}`, `nosuch_metric`, `app_connections{instance="zzz"}`, `speed=app_connections`} {
		if _, err := Fetch(context.Background(), config.LoadSource{Kind: "PROMETHEUS", URL: url, Filter: []string{bad}}); err == nil {
			t.Errorf("filter %q: no error", bad)
		}
	}
}

func TestGarbageAnswers(t *testing.T) {
	url := serve(t, func() string { return "\x00\x01garbage,,,\n\"unterminated" })
	for _, kind := range []string{"HAPROXY", "NGINX", "ENVOY", "PROMETHEUS"} {
		_, err := Fetch(context.Background(), config.LoadSource{Kind: kind, URL: url, Filter: []string{"x/y"}})
		if err == nil {
			t.Errorf("%s: garbage accepted", kind)
		}
	}
}
