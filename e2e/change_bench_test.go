package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
)

// scaleConf is a configuration of n services (one TCP monitor each,
// nothing listening) in n/10 MIR vservers, as bench/monitors uses.
func scaleConf(n int) string {
	var c strings.Builder
	c.WriteString("add gslb site bench 127.0.0.1\nadd lb monitor benchtcp TCP -interval 5 -resptimeout 2\n")
	for i := range n {
		fmt.Fprintf(&c, "add gslb service s%d 127.1.%d.%d TCP 8080 -siteName bench\nbind gslb service s%d -monitorName benchtcp\n", i, i/250, i%250+1, i)
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

// BenchmarkChange is one API-sized change (add a vserver) to a running
// daemon with 10,000 services and 1,000 vservers: what a NITRO add costs.
func BenchmarkChange(b *testing.B) {
	p := filepath.Join(b.TempDir(), "ns.conf")
	os.WriteFile(p, []byte(scaleConf(10000)), 0o600)
	d, err := daemon.Start(daemon.Options{ConfigPath: p, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := range b.N {
		if err := d.Change("bench", fmt.Sprintf("add gslb vserver x%d HTTP\n", i)); err != nil {
			b.Fatal(err)
		}
	}
}
