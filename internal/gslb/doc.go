// Package gslb is gslbd's answer engine: it turns a config Snapshot and the
// health of each service into precomputed DNS answers, and answers queries
// by choosing among them.
//
// All work that depends only on configuration or health (eligibility, the
// failover chain, weighted round-robin sequences, source-IP hash tables,
// the wire bytes of every possible answer) happens in rebuild, when either
// changes. The query path (ServeDNS) parses the question in place, finds the
// domain in an immutable table loaded with one atomic read, picks a
// precomputed answer, and copies bytes: no allocation, no lock (source-IP
// persistence and the RTT method's LDNS table take one sharded lock).
// Everything unusual takes the slow path through miekg/dns and the zone
// package. What a method decides on arrives as one value (a
// dnsserver.Request, with what the query itself carries added), not as a
// parameter per feature.
//
// It imports config, zone, health, dnsserver (for its Request type) and
// miekg/dns.
package gslb
