package daemon

import (
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// healthConfig is the health store's view of a snapshot.
func healthConfig(s *config.Snapshot) health.Config {
	hc := health.Config{DelayTime: s.Param.SvcStateDelayTime,
		Sites: make([]health.SiteConfig, 0, len(s.Sites)), Services: make([]health.ServiceConfig, 0, len(s.Services))}
	// Another parent's child with backup parents keeps its last state for
	// the adoption grace (two keep-alives) when its parent is lost: a
	// backup parent may adopt it meanwhile (docs/mep.md). Without backups
	// nobody will, and it goes DOWN with its parent.
	grace := 2 * time.Second
	if s.Config != nil && s.Config.Parameter.Get("MEPKeepAliveTimeout") != "" {
		grace = s.Param.MEPKeepAliveTimeout
	}
	var self *config.SiteInfo
	for _, si := range s.Sites {
		if si.Local {
			self = si
		}
	}
	for _, si := range s.Sites {
		tr, _ := health.ParseTrigger(si.TriggerMonitor) // the schema allows only known values
		sc := health.SiteConfig{Name: si.Name, Local: si.Local, Trigger: tr, Exchange: si.MetricExchange}
		if self != nil && self.Parent == "" && si.Parent != "" && !strings.EqualFold(si.Parent, self.Name) && len(si.BackupParents) > 0 {
			sc.Grace = 2 * grace // the keep-alive to notice, one more to adopt
		}
		hc.Sites = append(hc.Sites, sc)
	}
	for _, si := range s.Services {
		probed := si.Monitored && (len(si.Monitors) > 0 || si.Health == config.HealthVServer || si.Health == config.HealthAppliance)
		hc.Services = append(hc.Services, health.ServiceConfig{Name: si.Name, Site: si.Site, Local: si.Local, Disabled: si.Disabled, Monitored: probed})
	}
	return hc
}

// sameHealthInputs reports whether two snapshots give the health store the
// same configuration: an API change to a vserver does not walk 10,000
// services (the incremental build keeps unchanged lists).
func sameHealthInputs(a, b *config.Snapshot) bool {
	return a != nil && sameList(a.Services, b.Services) && sameList(a.Sites, b.Sites) && a.Param.SvcStateDelayTime == b.Param.SvcStateDelayTime &&
		a.Param.MEPKeepAliveTimeout == b.Param.MEPKeepAliveTimeout
}

func sameList[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
