// Package schema is the one source of NetScaler CLI/NITRO argument facts:
// which commands exist, their positional and named arguments, value kinds,
// enumerations, ranges and defaults. The ns.conf parser and writer, the
// config validator and (later) NITRO and the docs all read it.
//
// It imports only nserr and the standard library.
package schema
