// Package nserr holds NetScaler/NITRO error codes and the Error type that
// carries one. Config checks and (later) the NITRO API report errors with
// these codes so that a message reads as it would on the appliance.
//
// It imports only the standard library.
package nserr
