// Package health defines what gslbd knows about a GSLB service's health and
// load, the one interface through which that knowledge arrives (Sink), and
// Store, where every source's view of a service meets: this site's
// monitors and load sources, the service's site over the metric exchange
// (MEP), and the administrator. Effective is the one pure rule that
// derives the state the answer engine uses from them.
//
// It imports only the standard library: the daemon translates the
// configuration into a Config.
package health
