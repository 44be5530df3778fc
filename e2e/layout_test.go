package e2e

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, per package, the module packages it may import
// (STYLE.md §2: imports point down only; nothing imports daemon).
var allowed = map[string][]string{
	"internal/nserr":      {},
	"internal/schema":     {"internal/nserr"},
	"internal/nsconf":     {"internal/schema", "internal/nserr"},
	"internal/config":     {"internal/nsconf", "internal/schema", "internal/nserr", "internal/location", "internal/dnspolicy", "internal/rrl"},
	"internal/zone":       {},
	"internal/health":     {"internal/events"},
	"internal/mep/wire":   {},
	"internal/mep":        {"internal/mep/wire", "internal/config", "internal/health", "internal/handover"},
	"internal/gslb":       {"internal/config", "internal/zone", "internal/health", "internal/dnsserver", "internal/location", "internal/dnspolicy", "internal/events"},
	"internal/dnsserver":  {"internal/rrl", "internal/cookie"},
	"internal/dnstest":    {},
	"internal/monitor":    {"internal/config", "internal/health"},
	"internal/load":       {"internal/config", "internal/health"},
	"internal/daemon":     {"internal/config", "internal/dnsserver", "internal/gslb", "internal/location", "internal/nsconf", "internal/health", "internal/zone", "internal/schema", "internal/nserr", "internal/monitor", "internal/load", "internal/atomicfile", "internal/mep", "internal/metrics", "internal/events", "internal/webhook", "internal/querylog", "internal/rrl", "internal/handover"},
	"internal/metrics":    {"internal/monitor", "internal/health", "internal/mep", "internal/dnsserver", "internal/querylog", "internal/rrl"},
	"internal/atomicfile": {},
	"internal/shell":      {"internal/nitro", "internal/nsconf", "internal/schema"},
	"cmd/gslbctl":         {"internal/shell", "internal/nitro"},
	"internal/nitro":      {"internal/config", "internal/schema", "internal/nserr", "internal/nsconf", "internal/atomicfile", "internal/events"},
	"cmd/gslbd":           {"internal/config", "internal/handover", "internal/cookie", "internal/daemon", "internal/dnsserver", "internal/nsconf", "internal/metrics", "internal/nitro", "internal/mep", "internal/querylog", "internal/dashboard"},
	"bench/monitors":      {},
	"bench/api":           {"internal/nitro"},
	"bench/confgen":       {},
	"bench/location":      {"internal/location"},
	"internal/location":   {},
	"internal/events":     {},
	"internal/webhook":    {"internal/events"},
	"internal/dnspolicy":  {},
	"internal/querylog":   {"internal/dnsserver"},
	"internal/dashboard":  {},
	"internal/rrl":        {},
	"internal/cookie":     {},
	"internal/handover":   {},
	"bench/reload":        {},
	"bench/mep":           {"internal/mep", "internal/mep/wire", "internal/health"},
}

// thirdParty lists which non-stdlib modules a package may import.
var thirdParty = map[string][]string{
	"internal/zone":      {"github.com/miekg/dns"},
	"internal/dnsserver": {"golang.org/x/sys/unix"},
	"internal/cookie":    {"github.com/dchest/siphash"},
	"internal/handover":  {"golang.org/x/sys/unix"},
	"internal/gslb":      {"github.com/miekg/dns"},
	"internal/dnstest":   {"github.com/miekg/dns"},
	"bench/reload":       {"github.com/miekg/dns"},
	"internal/location":  {"github.com/oschwald/maxminddb-golang/v2", "github.com/maxmind/mmdbwriter"},
	"internal/dnspolicy": {"github.com/miekg/dns"},
	"internal/daemon":    {"github.com/miekg/dns"},
	"internal/monitor":   {"golang.org/x/sys/unix", "github.com/miekg/dns", "github.com/gosnmp/gosnmp", "golang.org/x/net/icmp", "golang.org/x/net/ipv4", "golang.org/x/net/ipv6"},
	"internal/metrics":   {"github.com/prometheus/client_golang"},
	"internal/nitro":     {"golang.org/x/crypto/argon2"},
	"cmd/gslbctl":        {"golang.org/x/term"},
	"cmd/gslbd":          {"github.com/prometheus/client_golang"},
	"bench/api":          {"github.com/miekg/dns"},
	"bench/monitors":     {"github.com/miekg/dns", "github.com/prometheus/common/expfmt", "github.com/prometheus/common/model", "github.com/prometheus/client_model/go", "golang.org/x/sys/unix"},
	"internal/mep/wire":  {"google.golang.org/protobuf"},
	"internal/mep":       {"google.golang.org/protobuf"},
	"internal/querylog":  {"github.com/dnstap/golang-dnstap", "github.com/farsightsec/golang-framestream", "google.golang.org/protobuf"},
	"internal/load":      {"github.com/prometheus/common/expfmt", "github.com/prometheus/common/model", "github.com/prometheus/client_model/go"},
}

func TestLayout(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "github.com/gslbd/gslbd/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/gslbd/gslbd/"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if strings.HasPrefix(rel, "e2e") {
			continue
		}
		for _, bad := range []string{"pkg/", "util", "common", "types", "models", "helpers"} {
			if strings.Contains(rel, bad) {
				t.Errorf("package %s: name %q is not allowed (STYLE.md §2)", rel, bad)
			}
		}
		ok, known := allowed[rel]
		if !known {
			t.Errorf("package %s is not in the layout table: add it with its allowed imports", rel)
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, mod):
				dep := strings.TrimPrefix(imp, mod)
				if !slices.Contains(ok, dep) {
					t.Errorf("%s imports %s: not allowed", rel, dep)
				}
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				allowedTP := false
				for _, m := range thirdParty[rel] {
					if strings.HasPrefix(imp, m) {
						allowedTP = true
					}
				}
				if !allowedTP {
					t.Errorf("%s imports %s: third-party import not allowed here", rel, imp)
				}
			}
		}
	}
}
