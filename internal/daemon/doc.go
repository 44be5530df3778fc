// Package daemon wires gslbd together: it loads a configuration, builds the
// answer engine, opens the DNS listeners and reloads on request. A reload
// builds and checks the new configuration and opens its new sockets before
// anything changes; if any step fails the old configuration keeps serving.
//
// It is the top of the import graph: nothing imports it but cmd/.
package daemon
