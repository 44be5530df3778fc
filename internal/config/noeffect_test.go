package config

import (
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nserr"
	"github.com/gslbd/gslbd/internal/schema"
)

// Every name in the no-effect table is an argument of its group, so that
// a renamed argument cannot silently stop warning.
func TestNoEffectNamesExist(t *testing.T) {
	for group, names := range noEffect {
		for _, n := range names {
			found := false
			for _, verb := range []string{"add", "set", "bind"} {
				if c := schema.Lookup(verb, group); c != nil {
					for _, a := range c.Opts {
						found = found || matchesAny([]string{n}, a.Name)
					}
				}
			}
			if !found {
				t.Errorf("%s: %q is no argument of add, set or bind", group, n)
			}
		}
	}
}

func TestChangeWarnings(t *testing.T) {
	c, _, msgs := load(t, base)
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	type want struct {
		code nserr.Code
		text string
	}
	for _, tc := range []struct {
		change string
		want   []want
	}{
		{"set gslb vserver gv -comment x -lbMethod ROUNDROBIN\n", []want{{nserr.NoEffect, "-comment is accepted and saved"}}},
		{"add gslb service c 192.0.2.3 HTTP 80 -siteName s1 -maxBandwidth 10 -naptrOrder 5\n",
			[]want{{nserr.NoEffect, "-maxBandwidth"}, {nserr.NoEffect, "-naptrOrder"}}},
		{"set gslb parameter -ldnsentryTimeout 50 -GSLBSyncInterval 20\n", []want{{nserr.NoEffect, "-GSLBSyncInterval"}}},
		// The RTT method's knobs act.
		{"set gslb parameter -ldnsMask 255.255.255.0 -RTTTolerance 10 -ldnsProbeOrder DNS PING -dropLdnsReq ENABLED\n", nil},
		// The exchange's timers act.
		{"set gslb parameter -MEPKeepAliveTimeout 3 -SvcStateLearningTime 2 -GSLBSvcStateDelayTime 1\n", nil},
		// -triggerMonitor acts (on remote sites); on the local one it is
		// meaningless, and said so.
		{"add gslb site s3 LOCAL 10.0.0.3 -triggerMonitor MEPDOWN -nwMetricExchange DISABLED -clip 10.0.0.1\n", []want{{nserr.NoEffect, "-clip"},
			{nserr.TriggerMonitorLocal, `change:1:33: gslb site "s3": -triggerMonitor MEPDOWN has no meaning for the local site`}}},
		// A checker warning the change brings (a LOAD monitor with no
		// metric): its position is the change's own line.
		{"add lb metricTable mt\nadd lb monitor lm LOAD -metricTable mt\n", []want{{0, "change:2:1: lb monitor \"lm\": no metric bound"}}},
		// Unset and unbind only take away: no warning.
		{"unset gslb vserver gv -comment\n", nil},
		{"bind gslb vserver gv -serviceName a\n", nil},
	} {
		n, _, warnings, err := c.Change("change", tc.change)
		if err != nil {
			t.Fatalf("%q: %v", tc.change, err)
		}
		if len(warnings) != len(tc.want) {
			t.Errorf("%q: warnings %v, want %d", tc.change, warnings, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if warnings[i].Code != w.code || !strings.Contains(warnings[i].Error(), w.text) {
				t.Errorf("%q: warning %d is %d %q, want %d and %q", tc.change, i, warnings[i].Code, warnings[i].Error(), w.code, w.text)
			}
		}
		c = n
	}
	// The monitor's warning stays in the snapshot, but is not the next
	// change's: a change reports only what it brought.
	n, snap, warnings, err := c.Change("change", "set gslb vserver gv -lbMethod LEASTCONNECTION\n")
	if err != nil || len(warnings) != 0 {
		t.Fatalf("warnings %v, err %v", warnings, err)
	}
	if len(snap.Warnings) == 0 || n == nil {
		t.Fatal("the monitor warning left the snapshot")
	}
}
