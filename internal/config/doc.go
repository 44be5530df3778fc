// Package config turns parsed ns.conf commands into gslbd's configuration:
// Config is the mutable model that commands are applied to in order (as the
// appliance runs a saved file), Build checks every reference and rule and
// freezes it into an immutable Snapshot, and Write emits it back as ns.conf
// in canonical order.
//
// It imports nsconf, schema and nserr; never the DNS or GSLB packages.
package config
