package e2e

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/daemon"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestConfigGolden checks that every realistic configuration loads, that
// writing it back unchanged gives the file as it was (what `save ns
// config` writes), that its canonical form matches the golden file, and
// that parse -> write -> parse is a fixed point for both.
func TestConfigGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	files = append(files, "demo")
	if len(files) < 5 {
		t.Fatalf("found %d configurations, want at least 4 plus the demo", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var ld *daemon.Loaded
			var err error
			var src []byte
			if f == "demo" {
				src = daemon.DemoConfig
			} else if src, err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
			ld, err = daemon.Load(f, bytes.NewReader(src))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := ld.Config.String(); got != string(src) {
				t.Errorf("written back unchanged, the file differs from %s:\n%s", f, got)
			}
			var b strings.Builder
			if err := config.WriteCanonical(&b, ld.Config); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			golden := strings.TrimSuffix(f, ".conf") + ".golden"
			if f == "demo" {
				golden = "testdata/demo.golden"
			}
			if *update {
				os.WriteFile(golden, []byte(out), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden: %v (run go test ./e2e -update)", err)
			}
			if out != string(want) {
				t.Errorf("canonical form differs from %s:\n%s", golden, out)
			}
			again, err := daemon.Load("written.conf", strings.NewReader(out))
			if err != nil {
				t.Fatalf("re-load of the written form: %v", err)
			}
			if again.Config.String() != out {
				t.Errorf("parse -> write -> parse is not a fixed point:\n%s", again.Config.String())
			}
			if again.Snapshot.Domains.Len() != ld.Snapshot.Domains.Len() || len(again.Snapshot.Services) != len(ld.Snapshot.Services) {
				t.Errorf("re-load lost entities")
			}
		})
	}
}

// TestApplianceConfigKeepsUnmanagedLines: a saved appliance file keeps its
// lb, cs, ssl... lines through gslbd, verbatim, with one warning per kind.
func TestApplianceConfigKeepsUnmanagedLines(t *testing.T) {
	ld, err := daemon.LoadFile("testdata/appliance-full.conf")
	if err != nil {
		t.Fatal(err)
	}
	out := ld.Config.String()
	for _, line := range []string{
		`add cs policy cs_pol_sf -rule "HTTP.REQ.URL.PATH.STARTSWITH(\"/Citrix/\")" -action cs_act_sf`,
		"add lb vserver lb_vs_web HTTP 10.0.2.100 80 -persistenceType NONE -cltTimeout 180",
		"bind ssl vserver lb_vs_storefront -certkeyName ns-server-certificate",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("written config lacks %q", line)
		}
	}
	kinds := map[string]int{}
	for _, w := range ld.Warnings {
		kinds[w.Msg]++
	}
	for m, n := range kinds {
		if n > 1 {
			t.Errorf("warning repeated %d times: %s", n, m)
		}
	}
	if !strings.Contains(ld.Warnings[len(ld.Warnings)-1].Msg, "kept verbatim") {
		t.Errorf("warning text: %q", ld.Warnings[0].Msg)
	}
}
