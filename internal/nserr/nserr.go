package nserr

import "fmt"

// Code is a NITRO errorcode.
type Code int

// Codes used by gslbd. Names follow the NITRO catalogue (docs §4.6).
const (
	Done             Code = 0
	NoEnt            Code = 258  // No such resource
	Exist            Code = 273  // Resource already exists
	Inval            Code = 278  // Invalid argument
	NoSuchCmd        Code = 1088 // No such command
	CmdAmbiguous     Code = 1089 // Ambiguous command name
	NoSuchArg        Code = 1090 // No such argument
	ArgValMissing    Code = 1091 // Argument value missing
	ArgsMutex        Code = 1092 // Arguments are mutually exclusive
	ArgPrereq        Code = 1093 // Argument prerequisite missing
	ArgsTooFew       Code = 1094 // Too few arguments
	ArgOrderBad      Code = 1096 // Argument out of order
	ArgMissing       Code = 1095 // Required argument missing
	ArgValBad        Code = 1097 // Invalid argument value
	ArgAmbiguous     Code = 1099 // Ambiguous argument name
	ArgValAmbiguous  Code = 1105 // Ambiguous argument value
	StrMaxLen        Code = 1106 // String too long
	IntMaxVal        Code = 1108 // Integer above maximum
	IntMinVal        Code = 1109 // Integer below minimum
	InvalidIP        Code = 1110 // Invalid IP address
	InvalidNetmask   Code = 1111 // Invalid netmask
	BadQuotes        Code = 1115 // Unmatched quote
	InvalidName      Code = 1075 // Invalid name
	SiteNotFound     Code = 1796 // GSLB site not found
	InvalidTTL       Code = 1806 // Invalid TTL value
	SiteRequired     Code = 1810 // Site information must be specified for a GSLB service
	SameIPBound      Code = 1813 // A GSLB service with the same IP is already bound
	TypeMismatch     Code = 1820 // Service type mismatch
	BackupConflict   Code = 1824 // Backup vserver chain conflict
	SiteIPExists     Code = 1832 // Site IP already exists
	LocalSiteExists  Code = 1834 // Local site already exists
	NoService        Code = 1835 // GSLB service does not exist
	NoVServer        Code = 1837 // GSLB vserver does not exist
	NoDomain         Code = 1839 // Domain does not exist
	DomainNotBound   Code = 1840 // Domain not bound to this vserver
	DomainBound      Code = 1842 // Domain already bound to a GSLB vserver
	MaxSites         Code = 1850 // Maximum number of sites is 32
	PersistIDInUse   Code = 1852 // Persistence id in use
	PersistIDNeeded  Code = 1861 // Persistence id required
	PublicIPInUse    Code = 1857 // Public IP and port already used
	SitePersistType  Code = 1885 // Site persistence only for HTTP/SSL
	SitePrefixNeeded Code = 1886 // Site prefix required for HTTPRedirect
	StaticAConflict  Code = 1893 // GSLB domain conflicts with an A record
	CNAMENoDynamic   Code = 1925 // CNAME vserver: no dynamic methods
	CNAMEMix         Code = 1924 // CNAME vserver: services must all be CNAME
	CNAMENeedsEDR    Code = 1931 // CNAME vserver requires EDR
	CNAMENoMIR       Code = 1932 // CNAME vserver: no MIR
	MaxChildSites    Code = 1935 // Maximum number of child sites
	MixedFamily      Code = 1952 // Mixed IPv4/IPv6 binding
	BackupIPFamily   Code = 1954 // Backup IP family mismatch
	BackupRecordType Code = 1955 // Primary and backup must have the same record type
	StaticAAAAConfl  Code = 1951 // GSLB domain conflicts with an AAAA record
	MixedSiteFamily  Code = 1961 // Mixed IPv4/IPv6 site IPs
	MaxAAAA          Code = 1962 // Max 5 IPv6 addresses per name
	MaxA             Code = 1963 // Max 25 IPv4 addresses per name
	ZoneExists       Code = 1982 // Zone already configured
	CNAMELoop        Code = 2006 // CNAME loop
	ECSMIR           Code = 765  // ECS and MIR are mutually exclusive

	// Warnings (a change applied, with X-NITRO-WARNING: <code> - <text>).
	TriggerMonitorLocal Code = 1947 // -triggerMonitor is always ALWAYS for the local site
	// NoEffect is gslbd's own: an argument accepted and saved that gslbd
	// does not act on yet (outside NetScaler's catalogue).
	NoEffect Code = 9001

	// NITRO session and request errors (docs §4.2, §4.6).
	Perm              Code = 257  // Operation not permitted
	Acces             Code = 269  // Permission denied
	NoUser            Code = 354  // Invalid username or password
	SessionExpired    Code = 444  // Session expired or killed; log in again
	NotLoggedIn       Code = 1027 // Not logged in or connection timed out
	InvalidObjectName Code = 1232 // Invalid object name
	InvalidJSON       Code = 1233 // Invalid JSON input
	InvalidJSONType   Code = 1234 // Invalid JSON data type
	InvalidMethod     Code = 1237 // Invalid HTTP method for the resource
	InvalidAction     Code = 1240 // Invalid action
	BulkFailed        Code = 1243 // Bulk operation failed
	MaxLimit          Code = 1072 // Maximum resource limit reached
)

// Error is an error with a NITRO code. Msg names the subject first, as
// `gslb vserver "app": unknown service "svc9"`.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// New returns an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
