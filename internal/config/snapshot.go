package config

import (
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/rrl"
)

// Method is a GSLB selection method (NetScaler -lbMethod).
type Method string

// Methods (docs §3.4).
const (
	RoundRobin        Method = "ROUNDROBIN"
	LeastConnection   Method = "LEASTCONNECTION"
	LeastResponseTime Method = "LEASTRESPONSETIME"
	SourceIPHash      Method = "SOURCEIPHASH"
	LeastBandwidth    Method = "LEASTBANDWIDTH"
	LeastPackets      Method = "LEASTPACKETS"
	StaticProximity   Method = "STATICPROXIMITY"
	RTT               Method = "RTT"
	CustomLoad        Method = "CUSTOMLOAD"
	API               Method = "API"
)

// Dynamic reports whether the method needs live metrics.
func (m Method) Dynamic() bool {
	switch m {
	case LeastConnection, LeastResponseTime, LeastBandwidth, LeastPackets, RTT, CustomLoad:
		return true
	}
	return false
}

// Snapshot is a checked, immutable configuration. Nothing may change it
// after Build returns; a change builds a new Snapshot.
type Snapshot struct {
	Config    *Config // the model it was built from (do not modify)
	LocalSite string
	Sites     []*SiteInfo
	Services  []*ServiceInfo // GSLB services, then expanded service group members
	VServers  []*VServerInfo
	Domains   Index[*DomainInfo] // lower-case FQDN -> binding
	Zones     []*ZoneInfo
	Listeners []Listener
	Param     Parameter
	Locations LocationInfo
	// RateLimit is set dns parameter's response rate limiting.
	RateLimit rrl.Config
	// Views are the DNS views' lower-case names; ViewRules the view
	// policies in evaluation order.
	Views     []string
	ViewRules []ViewRule
	// Webhooks receive the event stream's changes.
	Webhooks []WebhookInfo
	Monitors map[string]*MonitorInfo // lower-case name -> monitor, built-ins included
	// ZoneOf is the apex of the zone holding each GSLB domain (keys as in
	// Domains).
	ZoneOf map[string]string
	// Warnings are things that work, but maybe not as the file expects.
	Warnings []*nsconf.Error
	// baseWarnings are those of the parameter, sites and monitors;
	// zoneWarnings those of the zones (each vserver has its own), so that
	// an incremental build keeps the ones of what it reuses.
	baseWarnings, zoneWarnings []*nsconf.Error

	svcIndex map[string]*ServiceInfo // lower-case name -> service or member
	lb       *lbView                 // the kept lines' load balancing, read when needed
	vsIndex  Index[*VServerInfo]     // lower-case name -> vserver
	// persistIDs: -persistenceId -> vserver; backupUsers: the vservers
	// (lower-case) with a -backupVServer. Both for the incremental build.
	persistIDs  map[int]string
	backupUsers []string
}

// SameZones reports whether s has the very zones of o (an incremental
// Build keeps them when no zone, record or GSLB domain changed), so that
// what was built from them can be kept too.
func (s *Snapshot) SameZones(o *Snapshot) bool {
	return len(s.Zones) == len(o.Zones) && (len(s.Zones) == 0 || &s.Zones[0] == &o.Zones[0]) && sameMap(s.ZoneOf, o.ZoneOf)
}

// VServer returns the vserver with this name, or nil.
func (s *Snapshot) VServer(name string) *VServerInfo {
	v, _ := s.vsIndex.Get(key(name))
	return v
}

// Service returns the GSLB service (or service group member) named name
// (case-insensitive), or nil.
func (s *Snapshot) Service(name string) *ServiceInfo { return s.svcIndex[key(name)] }

// VServerByPersistID returns the vserver with a -persistenceId (nil: none),
// which names a persistence session across sites.
func (s *Snapshot) VServerByPersistID(id int) *VServerInfo {
	name, ok := s.persistIDs[id]
	if !ok {
		return nil
	}
	return s.VServer(name)
}
