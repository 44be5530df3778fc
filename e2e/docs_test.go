package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

var nsconfBlock = regexp.MustCompile("(?s)```ns\\.conf\n(.*?)```")

// TestDocExamples loads every ```ns.conf example of the README and docs/
// and serves it: a documented configuration that does not work is a bug.
func TestDocExamples(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append(files, "../README.md")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range nsconfBlock.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, err := daemon.Load(f, strings.NewReader(m[1])); err != nil {
				t.Errorf("%s example %d: %v", f, i+1, err)
				continue
			}
			if strings.Contains(m[1], "www.gslb.example.com") {
				d := start(t, m[1])
				r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("www.gslb.example.com", dns.TypeA))
				if len(r.Answer) != 1 {
					t.Errorf("%s example %d: no answer for www.gslb.example.com", f, i+1)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no ns.conf examples found")
	}
}
