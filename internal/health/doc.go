// Package health defines what gslbd knows about a GSLB service's health and
// load, and the one interface through which that knowledge arrives: Sink.
// Monitors and the site exchange (later issues) feed a Sink; tests feed it
// directly.
//
// It imports only the standard library.
package health
