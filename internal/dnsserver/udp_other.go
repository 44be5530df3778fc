//go:build !linux

package dnsserver

import "net"

// Batched UDP (recvmmsg/sendmmsg) exists on Linux only.
func (s *Server) serveUDPBatched(c *net.UDPConn) bool { return false }

// setBuffers sizes a UDP socket's buffers as far as the system allows.
func setBuffers(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
}
