package config

import (
	"os"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// FuzzConfig: any file that applies writes out as a file that applies to
// the same written form (parse -> write -> parse is a fixed point), and
// nothing panics on the way, Build included.
func FuzzConfig(f *testing.F) {
	for _, p := range []string{"active-active", "active-passive", "parent-child", "appliance-full"} {
		b, err := os.ReadFile("../../e2e/testdata/" + p + ".conf")
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add(base + "bind gslb vserver gv -serviceName a\nset gslb vserver gv -backupVServer gv2\nrename gslb vserver gv2 z\n")
	f.Add(locationConf)
	f.Add(viewConf)
	f.Fuzz(func(t *testing.T, text string) {
		pf, err := nsconf.Parse("f.conf", strings.NewReader(text))
		if pf == nil {
			t.Fatalf("nil file (err %v)", err)
		}
		c := &Config{}
		c.ApplyFile(pf)
		_, _ = Build(c)
		out := c.String()
		pf2, err := nsconf.Parse("out.conf", strings.NewReader(out))
		if err != nil {
			t.Fatalf("written form does not parse: %v\n%s", err, out)
		}
		c2 := &Config{}
		if errs := c2.ApplyFile(pf2); len(errs) > 0 {
			t.Fatalf("written form does not apply: %v\n%s", errs, out)
		}
		if out2 := c2.String(); out2 != out {
			t.Fatalf("not a fixed point:\n%s\n---\n%s", out, out2)
		}
		// Loaded as a file: written back, it loads again to the same
		// meaning, and is then written the same. A file with errors is
		// refused by every loader (run, reload, fmt, the API's file
		// load), so nothing writes it back.
		d := &Config{}
		if errs := d.ApplyDocument("f.conf", pf); len(errs) > 0 {
			return
		}
		if _, err := Build(d); err != nil {
			return
		}
		written := d.String()
		again := &Config{}
		pf3, err2 := nsconf.Parse("f.conf", strings.NewReader(written))
		if err2 != nil {
			t.Fatalf("written file does not parse: %v\n%s", err2, written)
		}
		if errs := again.ApplyDocument("f.conf", pf3); len(errs) > 0 {
			t.Fatalf("written file does not apply: %v\n%s", errs, written)
		}
		if again.Canonical() != d.Canonical() {
			t.Fatalf("written file means something else:\n%s\n---\n%s", again.Canonical(), d.Canonical())
		}
		if again.String() != written {
			t.Fatalf("written file is not a fixed point:\n%s\n---\n%s", written, again.String())
		}
	})
}

// TestMetricTableNotThereInAFile: binding a metric to a metric table that
// the file never adds is an error on that line; it crashed the loader of
// a whole file (found by FuzzConfig, corpus entry ec9cdf49078a4468).
func TestMetricTableNotThereInAFile(t *testing.T) {
	_, _, _, err := Load("ns.conf", strings.NewReader("add gslb site dc1 LOCAL 10.0.0.1\nbind lb metricTable nope cpu 1.3.6.1.4.1.2021.11.9.0\n"))
	if err == nil || !strings.Contains(err.Error(), "ns.conf:2") || !strings.Contains(err.Error(), "no such metric table") {
		t.Fatalf("err = %v, want line 2: no such metric table", err)
	}
}
