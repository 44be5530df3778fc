package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/events"
)

// scaleConf is a configuration of n services in n/10 MIR vservers, plus
// n/10 unbound services x<j> for changes to bind. With monitored, each
// service has a TCP monitor (nothing listens: they go DOWN).
func scaleConf(n int, monitored bool) string {
	var c strings.Builder
	c.WriteString("add gslb site bench 127.0.0.1\nadd lb monitor benchtcp TCP -interval 5 -resptimeout 2\n")
	svc := func(name string, ip string) {
		fmt.Fprintf(&c, "add gslb service %s %s TCP 8080 -siteName bench\n", name, ip)
		if monitored {
			fmt.Fprintf(&c, "bind gslb service %s -monitorName benchtcp\n", name)
		}
	}
	for i := range n {
		svc(fmt.Sprintf("s%d", i), fmt.Sprintf("127.1.%d.%d", i/250, i%250+1))
	}
	for j := range n / 10 {
		svc(fmt.Sprintf("x%d", j), fmt.Sprintf("127.2.%d.%d", j/250, j%250+1))
	}
	for v := range n / 10 {
		fmt.Fprintf(&c, "add gslb vserver v%d TCP -lbMethod ROUNDROBIN -MIR ENABLED\n", v)
		for k := range 10 {
			fmt.Fprintf(&c, "bind gslb vserver v%d -serviceName s%d\n", v, v*10+k)
		}
		fmt.Fprintf(&c, "bind gslb vserver v%d -domainName v%d.bench -TTL 5\n", v, v)
	}
	return c.String()
}

// BenchmarkChange is one API-sized change to a running daemon with 11,000
// services and 1,000 vservers: what a NITRO add costs. bind binds one of
// the unbound services to a vserver (as bench/api.sh does); addVServer
// adds a vserver; bindMonitored runs bind with a TCP monitor on every
// service; setMonitor changes that monitor (a full rebuild: every service
// depends on it).
func BenchmarkChange(b *testing.B) {
	for _, bc := range []struct {
		name      string
		monitored bool
		change    func(i int) string
	}{
		{"bind", false, func(i int) string {
			return fmt.Sprintf("bind gslb vserver v%d -serviceName x%d\n", i%1000, i%1000)
		}},
		{"addVServer", false, func(i int) string { return fmt.Sprintf("add gslb vserver new%d TCP\n", i) }},
		{"bindMonitored", true, func(i int) string {
			return fmt.Sprintf("bind gslb vserver v%d -serviceName x%d\n", i%1000, i%1000)
		}},
		// The full path: every service uses the monitor.
		{"setMonitor", true, func(i int) string { return fmt.Sprintf("set lb monitor benchtcp TCP -interval %d\n", 5+i%2) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "ns.conf")
			os.WriteFile(p, []byte(scaleConf(10000, bc.monitored)), 0o600)
			d, err := daemon.Start(daemon.Options{ConfigPath: p, Listen: []string{"127.0.0.1:0"}})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.ResetTimer()
			for i := range b.N {
				if i == 1000 {
					b.Fatal("at most 1000 iterations (-benchtime 1000x)")
				}
				if _, err := d.Change(events.Origin{Via: "bench"}, bc.change(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
