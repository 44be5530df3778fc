package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMEPScale60s is bench/mep-scale.sh's 60 s version: 32 parents and
// 1,024 children (one parent in its own process, frozen with SIGSTOP).
// Every link comes up, no link goes falsely DOWN, every neighbour of the
// frozen parent declares it DOWN, every neighbour of the parent that leaves
// hears its GOODBYE. The bounds are generous (a shared 2-core box runs the
// other packages' tests meanwhile); BENCHMARKS.md has the exact figures.
func TestMEPScale60s(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mep-bench")
	if out, err := exec.Command("go", "build", "-o", bin, "../bench/mep").CombinedOutput(); err != nil {
		t.Fatalf("go build bench/mep: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-window", "60s", "-port", freePortOn(t, "127.1.0.1"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("bench/mep: %v", err)
	}
	text := string(out)
	num := func(re string) float64 {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %q in the output", re)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	dur := func(re string) time.Duration {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %q in the output", re)
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if n := num(`false DOWNs during start-up: (\d+)`) + num(`steady state .* false DOWNs (\d+)`); n != 0 {
		t.Errorf("%v false DOWNs", n)
	}
	if d := dur(`1520 links UP in (\S+);`); d > 30*time.Second {
		t.Errorf("start-up took %v", d)
	}
	if d := dur(`a parent freezes .*max (\S+)`); d > 5*time.Second {
		t.Errorf("the frozen parent was DOWN everywhere only after %v (keep-alive 2s)", d)
	}
	if !strings.Contains(text, "63 neighbours DOWN after") || !strings.Contains(text, "62 neighbours DOWN within") {
		t.Errorf("not every neighbour saw the freeze and the GOODBYE")
	}
}
