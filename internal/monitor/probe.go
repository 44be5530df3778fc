package monitor

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// Limits that keep a hostile or broken server from costing more than a
// bounded amount of memory per probe.
const (
	maxHeaderBytes = 64 << 10  // HTTP status line + headers
	maxBodyBytes   = 256 << 10 // body searched by -recv
	maxECVBytes    = 64 << 10  // TCP/UDP-ECV response searched by -recv
)

// prober runs one probe against dst. ctx carries the response timeout.
type prober func(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result

// probers are the probe functions of the monitor types. TCP, and the
// types gslbd does not probe otherwise (a load warning says so), are a
// TCP connect: probeTCP.
var probers = map[string]prober{
	"PING": probePing, "LDNS-PING": probePing,
	"HTTP":     probeHTTP,
	"HTTP-ECV": probeHTTPECV,
	"TCP-ECV":  probeTCPECV,
	"UDP-ECV":  probeUDPECV,
	"DNS":      probeDNS, "LDNS-DNS": probeDNS, "DNS-TCP": probeDNS,
	"STOREFRONT": probeStoreFront,
	"LOAD":       probeSNMP, "SNMP": probeSNMP,
	"RADIUS": probeRADIUS,
}

// proberFor returns the probe function of a monitor type.
func proberFor(m *config.MonitorInfo) prober {
	if p, ok := probers[m.Type]; ok {
		return p
	}
	if config.OverUDP(m.Type) {
		return probePing // a TCP connect means nothing to a UDP server
	}
	return probeTCP
}

// connectOnly reports whether a monitor's probe is a bare TCP connect,
// which the scheduler starts inline (startConnect never blocks).
func connectOnly(m *config.MonitorInfo) bool {
	_, other := probers[m.Type]
	return !other && !m.Secure && !config.OverUDP(m.Type)
}

// connectResult is the Result of a bare connect that ended in err.
func connectResult(ctx context.Context, m *config.MonitorInfo, start time.Time, err error) Result {
	if err != nil {
		return failed(ctx, m, start, err)
	}
	return Result{OK: true, RTT: time.Since(start), Reason: "connected"}
}

// failure describes why a probe failed, in the words an operator wants in a
// log line: "probe timed out after 2s", "connection refused".
func failure(ctx context.Context, err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("probe timed out after %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, errTooLarge):
		return err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server before a full response"
	}
	if ctx.Err() != nil {
		return fmt.Sprintf("probe timed out after %s", timeout)
	}
	return err.Error()
}

// failed is the Result of a probe that ended in err after starting at start.
func failed(ctx context.Context, m *config.MonitorInfo, start time.Time, err error) Result {
	return Result{RTT: time.Since(start), Reason: failure(ctx, err, m.RespTimeout)}
}

// dial connects over TCP, with TLS when the monitor is -secure. The whole
// exchange is bounded by the context's deadline.
func dial(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if !m.Secure {
		return c, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: !m.SSLVerify, ServerName: m.SSLServerName, MinVersion: tls.VersionTLS10}
	if cfg.ServerName == "" {
		cfg.ServerName = dst.Addr().String()
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

func probeTCP(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	if !m.Secure {
		// Connect, then reset instead of FIN: no TIME_WAIT left behind
		// per probe (10,000 services probed every second would
		// otherwise keep 600,000 sockets in TIME_WAIT).
		return connectResult(ctx, m, start, connectReset(ctx, dst))
	}
	c, err := dial(ctx, m, dst)
	if err != nil {
		return failed(ctx, m, start, err)
	}
	rtt := time.Since(start)
	c.Close()
	return Result{OK: true, RTT: rtt, Reason: "TLS handshake completed"}
}

// errTooLarge is returned when a response passes a size limit.
var errTooLarge = errors.New("response too large")

// limitedReader fails with errTooLarge past n bytes, instead of the plain
// EOF of io.LimitReader, so that the log says what happened.
type limitedReader struct {
	r    io.Reader
	n    int64
	what string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%w: %s", errTooLarge, l.what)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// hasHeader reports whether the CRLF-separated header lines name the
// header (case-insensitively).
func hasHeader(lines, name string) bool {
	for line := range strings.SplitSeq(lines, "\n") {
		if n, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

// httpExchange sends one request and reads the status, headers and, when
// body is set, up to maxBodyBytes of the body.
func httpExchange(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort, requestLine string, body bool) (*http.Response, []byte, time.Duration, error) {
	start := time.Now()
	c, err := dial(ctx, m, dst)
	if err != nil {
		return nil, nil, time.Since(start), err
	}
	defer c.Close()
	method, target, _ := strings.Cut(strings.TrimSpace(requestLine), " ")
	if target == "" {
		target = "/"
	}
	target, proto, found := strings.Cut(strings.TrimSpace(target), " ")
	if !found {
		proto = "HTTP/1.1"
	}
	// Host names the server as a URL would (RFC 9110 §7.2): the
	// -sslServerName, or the address, with the port unless it is the
	// scheme's default.
	host := m.SSLServerName
	if host == "" {
		host = dst.Addr().String()
		if dst.Addr().Is6() {
			host = "[" + host + "]"
		}
		if p := dst.Port(); !(p == 80 && !m.Secure || p == 443 && m.Secure) {
			host += ":" + strconv.Itoa(int(p))
		}
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s %s\r\n", method, target, proto)
	custom := strings.TrimRight(m.CustomHeaders, "\r\n")
	// A header of -customHeaders replaces gslbd's own (administrators
	// write "Host: www.example.net\r\n" there): two Host headers are a
	// bad request (RFC 9112 §3.2).
	for _, h := range [][2]string{{"Host", host}, {"User-Agent", "gslbd-monitor"}, {"Connection", "close"}} {
		if !hasHeader(custom, h[0]) {
			fmt.Fprintf(&req, "%s: %s\r\n", h[0], h[1])
		}
	}
	if custom != "" {
		req.WriteString(custom)
		req.WriteString("\r\n")
	}
	req.WriteString("\r\n")
	if _, err := c.Write(req.Bytes()); err != nil {
		return nil, nil, time.Since(start), err
	}
	lr := &limitedReader{r: c, n: maxHeaderBytes, what: fmt.Sprintf("headers over %d KiB", maxHeaderBytes>>10)}
	br := bufio.NewReaderSize(lr, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	rtt := time.Since(start)
	if err != nil {
		var ne net.Error
		if !errors.Is(err, errTooLarge) && !errors.As(err, &ne) && !errors.Is(err, io.EOF) &&
			!errors.Is(err, io.ErrUnexpectedEOF) && ctx.Err() == nil {
			err = fmt.Errorf("malformed HTTP response: %v", err)
		}
		return nil, nil, rtt, err
	}
	if !body {
		return resp, nil, rtt, nil
	}
	// The headers are read: the body gets its own budget.
	lr.n = maxBodyBytes + 1
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil && len(b) == 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
		return resp, nil, rtt, err
	}
	return resp, b, rtt, nil
}

func codeOK(codes [][2]int, code int) bool {
	for _, r := range codes {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

func codesText(codes [][2]int) string {
	var parts []string
	for _, r := range codes {
		if r[0] == r[1] {
			parts = append(parts, strconv.Itoa(r[0]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
	}
	return strings.Join(parts, " ")
}

// trofs reports whether a response asks to be taken out of service.
func trofs(m *config.MonitorInfo, code int, body []byte) bool {
	if m.TROFSCode != 0 && code == m.TROFSCode {
		return true
	}
	return m.TROFSString != "" && bytes.Contains(body, []byte(m.TROFSString))
}

func probeHTTP(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	resp, body, rtt, err := httpExchange(ctx, m, dst, m.HTTPRequest, m.TROFSString != "")
	if err != nil {
		return Result{RTT: rtt, Reason: failure(ctx, err, m.RespTimeout)}
	}
	if trofs(m, resp.StatusCode, body) {
		return Result{OK: true, OutOfService: true, RTT: rtt, Reason: fmt.Sprintf("HTTP %d: out of service (trofs)", resp.StatusCode)}
	}
	if !codeOK(m.RespCodes, resp.StatusCode) {
		return Result{RTT: rtt, Reason: fmt.Sprintf("HTTP %d not in %s", resp.StatusCode, codesText(m.RespCodes))}
	}
	return Result{OK: true, RTT: rtt, Reason: fmt.Sprintf("HTTP %d", resp.StatusCode)}
}

// probeHTTPECV sends -send as the request line and looks for -recv in the
// body (NetScaler HTTP-ECV). Without -recv any response is UP.
func probeHTTPECV(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	send := m.Send
	if send == "" {
		send = "GET /"
	}
	resp, body, rtt, err := httpExchange(ctx, m, dst, send, true)
	if err != nil {
		return Result{RTT: rtt, Reason: failure(ctx, err, m.RespTimeout)}
	}
	if trofs(m, resp.StatusCode, body) {
		return Result{OK: true, OutOfService: true, RTT: rtt, Reason: fmt.Sprintf("HTTP %d: out of service (trofs)", resp.StatusCode)}
	}
	if m.Recv != "" && !bytes.Contains(body, []byte(m.Recv)) {
		what := "body"
		if len(body) >= maxBodyBytes {
			what = fmt.Sprintf("first %d KiB of the body", maxBodyBytes>>10)
		}
		return Result{RTT: rtt, Reason: fmt.Sprintf("HTTP %d: %s does not contain -recv %q", resp.StatusCode, what, m.Recv)}
	}
	return Result{OK: true, RTT: rtt, Reason: fmt.Sprintf("HTTP %d", resp.StatusCode)}
}

// probeTCPECV connects, sends -send and reads until -recv matches, the
// server closes, or maxECVBytes. Without -recv a connect (and send) is UP.
func probeTCPECV(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	c, err := dial(ctx, m, dst)
	if err != nil {
		return failed(ctx, m, start, err)
	}
	defer c.Close()
	if m.Send != "" {
		if _, err := io.WriteString(c, m.Send); err != nil {
			return failed(ctx, m, start, err)
		}
	}
	if m.Recv == "" {
		return Result{OK: true, RTT: time.Since(start), Reason: "connected"}
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for len(buf) < maxECVBytes {
		n, err := c.Read(chunk[:min(len(chunk), maxECVBytes-len(buf))])
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, []byte(m.Recv)) {
			return Result{OK: true, RTT: time.Since(start), Reason: "response contains -recv"}
		}
		if errors.Is(err, io.EOF) {
			return Result{RTT: time.Since(start), Reason: fmt.Sprintf("response (%d bytes) does not contain -recv %q", len(buf), m.Recv)}
		}
		if err != nil {
			return failed(ctx, m, start, err)
		}
	}
	return Result{RTT: time.Since(start), Reason: fmt.Sprintf("first %d KiB of the response do not contain -recv %q", maxECVBytes>>10, m.Recv)}
}

// probeUDPECV sends -send in one datagram. With -recv the answer must match;
// without, the probe fails only on an ICMP unreachable within the timeout
// (NetScaler UDP-ECV).
func probeUDPECV(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", dst.String())
	if err != nil {
		return failed(ctx, m, start, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := io.WriteString(c, m.Send); err != nil {
		return failed(ctx, m, start, err)
	}
	buf := make([]byte, maxECVBytes)
	n, err := c.Read(buf)
	rtt := time.Since(start)
	if err != nil {
		var ne net.Error
		if m.Recv == "" && errors.As(err, &ne) && ne.Timeout() {
			return Result{OK: true, RTT: rtt, Reason: "no ICMP unreachable"}
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return Result{RTT: rtt, Reason: "ICMP port unreachable"}
		}
		return Result{RTT: rtt, Reason: failure(ctx, err, m.RespTimeout)}
	}
	if m.Recv != "" && !bytes.Contains(buf[:n], []byte(m.Recv)) {
		return Result{RTT: rtt, Reason: fmt.Sprintf("response (%d bytes) does not contain -recv %q", n, m.Recv)}
	}
	return Result{OK: true, RTT: rtt, Reason: "response received"}
}
