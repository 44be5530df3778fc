//go:build !linux

package dnsserver

import (
	"bufio"
	"net"
)

// pending reports whether a query's bytes are waiting in r's buffer
// (elsewhere than Linux the kernel's are not peeked at).
func pending(_ net.Conn, r *bufio.Reader) bool { return r != nil && r.Buffered() > 0 }
