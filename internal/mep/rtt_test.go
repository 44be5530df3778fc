package mep

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

type nwGot struct {
	site string
	ldns []netip.Prefix
	rtts []RTT
}

// TestNetworkMetricsShared: a resolver one parent announces reaches the
// other's OnLDNSNew at once; the RTTs it queues reach OnRTT within the
// batch interval; when either end has -nwMetricExchange DISABLED nothing
// is delivered (the sender does not send, the receiver drops), and the
// link stays UP.
func TestNetworkMetricsShared(t *testing.T) {
	for _, tc := range []struct {
		name         string
		send, accept bool
	}{{"both", true, true}, {"sender off", false, true}, {"receiver off", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newTestCA(t)
			got := make(chan nwGot, 10)
			dc2 := &site{name: "dc2", out: &sink{last: map[string]health.Report{}, metrics: map[string]*health.Metrics{}}, logs: &logBuf{}}
			dc2.store = health.NewStore(health.Options{Out: dc2.out})
			dc2.store.Update(twoSiteHealth("dc2"))
			tm := testTimers
			tm.Sessions = 100 * time.Millisecond
			dc2.node = New(Options{Store: dc2.store, Identity: ca.identity(t, "dc2"), Timers: tm,
				OnLDNSNew: func(site string, ps []netip.Prefix) { got <- nwGot{site: site, ldns: ps} },
				OnRTT:     func(site string, rs []RTT) { got <- nwGot{site: site, rtts: rs} }})
			t.Cleanup(func() { dc2.node.Close(); dc2.store.Close() })
			dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT, NWMetrics: tc.accept}}})
			addr, _ := dc2.node.Addrs()
			dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
			dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true, NWMetrics: tc.send}}})
			waitFor(t, "the link UP", 10*time.Second, func() bool {
				return dc1.link("dc2").State == health.LinkUp && dc2.link("dc1").State == health.LinkUp
			})
			ldns := netip.MustParsePrefix("192.0.2.0/24")
			v6 := netip.MustParsePrefix("2001:db8::/56")
			dc1.node.AnnounceLDNS([]netip.Prefix{ldns, v6})
			dc1.node.ShareRTTs([]RTT{{LDNS: ldns, RTT: 12345 * time.Microsecond, Method: "DNS", Age: 2 * time.Second}, {LDNS: v6, Method: "PING", Unreachable: true}})
			var news, rtts []nwGot
			within := 3 * time.Second
			if !tc.send || !tc.accept {
				within = time.Second // ten batches
			}
			deadline := time.After(within)
		wait:
			for len(news) == 0 || len(rtts) == 0 {
				select {
				case g := <-got:
					if g.ldns != nil {
						news = append(news, g)
					} else {
						rtts = append(rtts, g)
					}
				case <-deadline:
					break wait
				}
			}
			if !tc.send || !tc.accept {
				if len(news)+len(rtts) > 0 {
					t.Fatalf("delivered with -nwMetricExchange off at one end: %+v %+v", news, rtts)
				}
				if dc2.link("dc1").State != health.LinkUp {
					t.Fatal("the link left UP")
				}
				return
			}
			if len(news) != 1 || news[0].site != "dc1" || len(news[0].ldns) != 2 || news[0].ldns[0] != ldns || news[0].ldns[1] != v6 {
				t.Fatalf("NW_LDNS_NEW %+v", news)
			}
			if len(rtts) != 1 || rtts[0].site != "dc1" || len(rtts[0].rtts) != 2 {
				t.Fatalf("NW_METRICS %+v", rtts)
			}
			r := rtts[0].rtts
			if r[0].LDNS != ldns || r[0].RTT != 12345*time.Microsecond || r[0].Method != "DNS" || r[0].Age != 2*time.Second || r[0].Unreachable {
				t.Fatalf("rtt %+v", r[0])
			}
			if r[1].LDNS != v6 || !r[1].Unreachable || r[1].Method != "PING" {
				t.Fatalf("rtt %+v", r[1])
			}
		})
	}
}

// TestPrefixOfRejects: resolvers from the wire with a wrong length, a
// mask too long or bits past the mask are dropped.
func TestPrefixOfRejects(t *testing.T) {
	for _, l := range []*wire.LDNS{nil, {Addr: []byte{1, 2, 3}}, {Addr: []byte{10, 0, 0, 1}, Bits: 33}, {Addr: []byte{10, 0, 0, 1}, Bits: 24}} {
		if p, ok := prefixOf(l); ok {
			t.Errorf("%v accepted as %v", l, p)
		}
	}
	if p, ok := prefixOf(&wire.LDNS{Addr: []byte{10, 0, 0, 0}, Bits: 24}); !ok || p.String() != "10.0.0.0/24" {
		t.Errorf("10.0.0.0/24: %v %v", p, ok)
	}
}
