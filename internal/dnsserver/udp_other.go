//go:build !linux

package dnsserver

import "net"

// Batched UDP (recvmmsg/sendmmsg) exists on Linux only.
func (s *Server) serveUDPBatched(c *net.UDPConn) bool { return false }
