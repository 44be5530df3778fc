// Package mep is gslbd's metric exchange between sites: links over TLS
// (port 3009) or an authenticated plain channel (3011), their state
// machine (CONNECTING, LEARNING, UP, SUSPECT, DOWN), and what travels on
// them (service state and load, heartbeats). Frames and payloads are in
// internal/mep/wire; what a peer reports goes into the health store,
// which decides the effective state of the peer's services
// (docs/mep.md).
package mep
