// Package zone serves static authoritative zone data by the RFC 1034 §4.3.2
// algorithm: exact matches, CNAME chains inside the served zones, wildcards
// (RFC 4592), delegations with glue, empty non-terminals, NXDOMAIN/NODATA
// with the SOA and the RFC 2308 negative TTL, and minimal ANY (RFC 8482).
//
// Names that another component answers (GSLB domains) are registered as
// dynamic: they exist in the tree, and a Dynamic callback answers them.
//
// It imports miekg/dns only.
package zone
