package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/querylog"
	"github.com/gslbd/gslbd/internal/rrl"
)

// DNS is what the DNS server and the answer engine show: the server's
// counters (nil: none) and, per GSLB vserver and domain, the queries
// answered.
type DNS struct {
	Stats *dnsserver.Stats
	// VServerHits and DomainHits return queries per vserver and per GSLB
	// domain, keyed by lower-case name (nil: none).
	VServerHits, DomainHits func() map[string]uint64
	// Tap is the query log (nil: off; its figures are then 0).
	Tap *querylog.Tap
	// RRL returns the response rate limiter in use (nil func or value:
	// none; its figures are then 0).
	RRL func() *rrl.Limiter
}

var (
	dnsQueriesDesc = prometheus.NewDesc("gslbd_dns_queries_total",
		"DNS queries read, by transport (udp, tcp) and question type (A, AAAA, ... and other).", []string{"transport", "qtype"}, nil)
	dnsResponsesDesc = prometheus.NewDesc("gslbd_dns_responses_total",
		"DNS responses sent, by transport and RCODE (NOERROR, NXDOMAIN, ...).", []string{"transport", "rcode"}, nil)
	dnsDroppedDesc = prometheus.NewDesc("gslbd_dns_dropped_total",
		"Queries that got no response: malformed or too long, -dropLdnsReq, or a socket that refused the answer.", []string{"transport"}, nil)
	dnsTruncatedDesc = prometheus.NewDesc("gslbd_dns_truncated_total",
		"Responses sent truncated (TC set: the client should ask again over TCP).", []string{"transport"}, nil)
	dnsSizeDesc = prometheus.NewDesc("gslbd_dns_response_size_bytes",
		"Size of the responses sent, in bytes.", []string{"transport"}, nil)
	dnsCookiesDesc = prometheus.NewDesc("gslbd_dns_cookies_total",
		"Queries with a DNS cookie, by transport and result: valid (a server cookie of ours: never rate limited), new (a new server cookie sent), malformed (FORMERR), badcookie (rate limited: BADCOOKIE with a new server cookie instead of a truncated answer).", []string{"transport", "result"}, nil)
	tcpConnsDesc = prometheus.NewDesc("gslbd_dns_tcp_connections_total",
		"TCP connections accepted.", nil, nil)
	tcpRefusedDesc = prometheus.NewDesc("gslbd_dns_tcp_refused_total",
		"TCP connections closed at once: their client had -tcp-max-per-source open already.", nil, nil)
	tcpEvictedDesc = prometheus.NewDesc("gslbd_dns_tcp_evicted_total",
		"Idle TCP connections closed to make room for a new one at -tcp-max-conns.", nil, nil)
	vserverHitsDesc = prometheus.NewDesc("gslbd_gslb_vserver_queries_total",
		"Queries answered by each GSLB vserver (counted from when its name was first served).", []string{"vserver"}, nil)
	domainHitsDesc = prometheus.NewDesc("gslbd_gslb_domain_queries_total",
		"Queries for each GSLB domain.", []string{"domain"}, nil)
	tapFramesDesc = prometheus.NewDesc("gslbd_dnstap_frames_total",
		"dnstap frames (a query or a response each) written to the collector, or dropped: no room while the collector was slow or away.", []string{"result"}, nil)
	rrlLimitedDesc = prometheus.NewDesc("gslbd_dns_rrl_limited_total",
		"UDP responses over their rate limit, by kind (positive, nxdomain, error): dropped, sent truncated, or with -rrlLogOnly YES sent all the same.", []string{"kind"}, nil)
	rrlTruncatedDesc = prometheus.NewDesc("gslbd_dns_rrl_truncated_total",
		"Limited responses sent truncated (slipped) so that real clients ask again over TCP.", nil, nil)
	tapConnectedDesc = prometheus.NewDesc("gslbd_dnstap_connected",
		"1 while the dnstap collector is connected (0 when the query log is off).", nil, nil)
)

var rcodeNames = [16]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15"}

type dnsCollector DNS

func (c dnsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dnsQueriesDesc, dnsResponsesDesc, dnsDroppedDesc, dnsTruncatedDesc, dnsSizeDesc,
		dnsCookiesDesc, tcpConnsDesc, tcpRefusedDesc, tcpEvictedDesc, vserverHitsDesc, domainHitsDesc, tapFramesDesc, tapConnectedDesc, rrlLimitedDesc, rrlTruncatedDesc} {
		ch <- d
	}
}

func (c dnsCollector) Collect(ch chan<- prometheus.Metric) {
	var written, dropped, connected float64
	if c.Tap != nil {
		written, dropped = float64(c.Tap.Frames.Load()), float64(c.Tap.Dropped.Load())
		if c.Tap.Connected.Load() {
			connected = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(tapFramesDesc, prometheus.CounterValue, written, "written")
	ch <- prometheus.MustNewConstMetric(tapFramesDesc, prometheus.CounterValue, dropped, "dropped")
	ch <- prometheus.MustNewConstMetric(tapConnectedDesc, prometheus.GaugeValue, connected)
	var lim *rrl.Limiter
	if c.RRL != nil {
		lim = c.RRL()
	}
	var truncated float64
	for k, name := range []string{"positive", "nxdomain", "error"} {
		var n float64
		if lim != nil {
			n = float64(lim.Limited[k].Load())
		}
		ch <- prometheus.MustNewConstMetric(rrlLimitedDesc, prometheus.CounterValue, n, name)
	}
	if lim != nil {
		truncated = float64(lim.Truncated.Load())
	}
	ch <- prometheus.MustNewConstMetric(rrlTruncatedDesc, prometheus.CounterValue, truncated)
	if c.Stats != nil {
		for tr, name := range []string{"udp", "tcp"} {
			st := c.Stats.Transport(tr)
			for i, n := range st.QType {
				ch <- prometheus.MustNewConstMetric(dnsQueriesDesc, prometheus.CounterValue, float64(n), name, dnsserver.QTypeNames[i])
			}
			var answered uint64
			for i, n := range st.Rcode {
				answered += n
				if n > 0 || i == 0 || i == 2 || i == 3 || i == 5 {
					ch <- prometheus.MustNewConstMetric(dnsResponsesDesc, prometheus.CounterValue, float64(n), name, rcodeNames[i])
				}
			}
			ch <- prometheus.MustNewConstMetric(dnsDroppedDesc, prometheus.CounterValue, float64(st.Dropped), name)
			ch <- prometheus.MustNewConstMetric(dnsTruncatedDesc, prometheus.CounterValue, float64(st.Truncated), name)
			buckets := map[float64]uint64{}
			var cum uint64
			for i, b := range dnsserver.SizeBounds {
				cum += st.Size[i]
				buckets[float64(b)] = cum
			}
			ch <- prometheus.MustNewConstHistogram(dnsSizeDesc, answered, float64(st.SizeSum), buckets, name)
			for i, n := range st.Cookie {
				ch <- prometheus.MustNewConstMetric(dnsCookiesDesc, prometheus.CounterValue, float64(n), name, dnsserver.CookieResultNames[i])
			}
		}
		ch <- prometheus.MustNewConstMetric(tcpConnsDesc, prometheus.CounterValue, float64(c.Stats.TCPConnections.Load()))
		ch <- prometheus.MustNewConstMetric(tcpRefusedDesc, prometheus.CounterValue, float64(c.Stats.TCPRefused.Load()))
		ch <- prometheus.MustNewConstMetric(tcpEvictedDesc, prometheus.CounterValue, float64(c.Stats.TCPEvicted.Load()))
	}
	for _, x := range []struct {
		f    func() map[string]uint64
		desc *prometheus.Desc
	}{{c.VServerHits, vserverHitsDesc}, {c.DomainHits, domainHitsDesc}} {
		if x.f == nil {
			continue
		}
		for k, n := range x.f() {
			ch <- prometheus.MustNewConstMetric(x.desc, prometheus.CounterValue, float64(n), k)
		}
	}
}
