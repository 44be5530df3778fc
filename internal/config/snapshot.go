package config

import (
	"net/netip"
	"time"

	"github.com/gslbd/gslbd/internal/nsconf"
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
	Monitors  map[string]*MonitorInfo // lower-case name -> monitor, built-ins included
	// ZoneOf is the apex of the zone holding each GSLB domain (keys as in
	// Domains).
	ZoneOf map[string]string
	// Warnings are things that work, but maybe not as the file expects.
	Warnings []*nsconf.Error

	svcIndex map[string]*ServiceInfo // lower-case name -> service or member
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

// Parameter is the typed `gslb parameter` singleton.
type Parameter struct {
	LDNSEntryTimeout     time.Duration
	RTTTolerance         time.Duration
	SvcStateDelayTime    time.Duration
	SvcStateLearningTime time.Duration
	MEPKeepAliveTimeout  time.Duration
	DropLDNSReq          bool
	LDNSMaskBits, V6Bits int
	AutomaticConfigSync  bool
}

// Listener is one DNS socket to open.
type Listener struct {
	Service string
	Addr    netip.AddrPort
	UDP     bool
	TCP     bool
}

// SiteInfo is a typed GSLB site.
type SiteInfo struct {
	Name     string
	Local    bool
	IP       netip.Addr
	PublicIP netip.Addr
	Parent   string
}

// ServiceInfo is a typed GSLB service (or service group member).
type ServiceInfo struct {
	Name      string
	Site      string
	Local     bool
	Type      string
	IP        netip.Addr // the address answered: -publicIP if set, else the IP
	RealIP    netip.Addr
	Port      uint16
	CNAME     string // CNAME services
	Disabled  bool
	MaxClient uint64
	HashID    uint32 // 0 = none; SOURCEIPHASH uses it as a stable key
	Group     string // service group name for members
	Monitored bool   // -healthMonitor YES (default)
	MaxBW     uint64
	// Monitors bound to the service (or its group); MonThreshold is the
	// weight of UP monitors it needs (0: every enabled monitor must be UP).
	Monitors     []MonitorRef
	MonThreshold int
	Load         LoadSource
}

// Binding is a service bound to a vserver.
type Binding struct {
	Service *ServiceInfo
	Weight  int
	Order   int
}

// VServerInfo is a typed GSLB vserver.
type VServerInfo struct {
	Name                 string
	Type                 string
	RecordType           string // A, AAAA, CNAME, NAPTR
	Method               Method
	BackupMethod         Method // "" = none
	NetmaskBits          int    // SOURCEIPHASH IPv4 prefix
	V6NetmaskBits        int
	PersistSourceIP      bool
	PersistID            int
	PersistMaskBits      int
	V6PersistMaskBits    int
	PersistTimeout       time.Duration
	EDR, MIR, ECS        bool
	DisablePrimaryOnDown bool
	Disabled             bool
	Backup               string // backup vserver name
	Tolerance            int
	Bindings             []Binding
	Domains              []*DomainInfo
}

// DomainInfo is a domain bound to a vserver.
type DomainInfo struct {
	Name      string // lower-case FQDN without trailing dot
	VServer   string
	TTL       uint32
	BackupIP  netip.Addr // invalid = none
	BackupAny bool       // -backupIP *
}

// ZoneInfo is one authoritative zone with its static records.
type ZoneInfo struct {
	Apex     string // lower-case, no trailing dot ("" never)
	Implicit bool   // made for a GSLB domain outside every configured zone
	Records  []RecordInfo
}

// RecordInfo is one resource record in text form.
type RecordInfo struct {
	Type string // SOA NS A AAAA CNAME MX TXT SRV PTR
	Name string
	TTL  uint32
	Data []string // type-specific fields, as the zone package reads them
}
