// Package dnsserver runs DNS listeners: UDP workers and a TCP server that
// follows RFC 7766 (pipelined queries, idle timeout, per-message I/O
// timeout, a cap on connections). It moves bytes only; a Handler turns a
// query into a response.
//
// It is on the hot path: no allocation per UDP query, nothing logged per
// query. It imports the standard library and golang.org/x/sys/unix
// (recvmmsg/sendmmsg on Linux).
package dnsserver
