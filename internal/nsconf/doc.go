// Package nsconf reads and writes NetScaler CLI / ns.conf text: a lexer
// (quotes and escapes as the appliance), a parser that resolves commands and
// argument names by unique prefix against the schema and checks each value's
// kind, enum and range, and a writer that quotes only where needed.
//
// It knows syntax, not meaning: references between entities are checked by
// package config. It imports schema and nserr only, and it never touches
// the file system (callers hand it readers), so it is safe to fuzz.
package nsconf
