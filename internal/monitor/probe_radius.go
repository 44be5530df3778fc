package monitor

// This file holds the RADIUS probe (NetScaler's RADIUS monitor): an
// Access-Request (RFC 2865) with the monitor's user and password, UP when
// the answer's code is one of -respCode (default 2, Access-Accept; the
// appliance's "-respCode 2-3" takes an Access-Reject too: the server
// answers, so it is up).

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// RADIUS codes and attributes (RFC 2865 §3, §5).
const (
	radAccessRequest = 1
	radUserName      = 1
	radUserPassword  = 2
	radNASIP         = 4
	radNASIdentifier = 32
)

var radCodes = map[byte]string{2: "Access-Accept", 3: "Access-Reject", 11: "Access-Challenge"}

func probeRADIUS(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	if m.Encrypted || m.RadKey == "" {
		// The appliance's encrypted secrets cannot be read here (the
		// configuration warns): without the shared secret no server
		// answers, so the probe is a ping of the server.
		return probePing(ctx, m, dst)
	}
	start := time.Now()
	var auth [16]byte
	if _, err := rand.Read(auth[:]); err != nil {
		return Result{Reason: err.Error()}
	}
	var idb [1]byte
	rand.Read(idb[:])
	req := radiusRequest(idb[0], auth, m)
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", dst.String())
	if err != nil {
		return failed(ctx, m, start, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(req); err != nil {
		return failed(ctx, m, start, err)
	}
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return failed(ctx, m, start, err)
		}
		resp := buf[:n]
		if n < 20 || resp[1] != idb[0] {
			continue // not the answer to this request
		}
		if l := int(binary.BigEndian.Uint16(resp[2:4])); l < 20 || l > n {
			return Result{RTT: time.Since(start), Reason: fmt.Sprintf("RADIUS answer with length %d in %d bytes", l, n)}
		} else {
			resp = resp[:l]
		}
		// The Response Authenticator proves the server knows the secret.
		h := md5.New()
		h.Write(resp[:4])
		h.Write(auth[:])
		h.Write(resp[20:])
		h.Write([]byte(m.RadKey))
		if !bytes.Equal(h.Sum(nil), resp[4:20]) {
			return Result{RTT: time.Since(start), Reason: "RADIUS answer with a bad authenticator (is -radKey the server's shared secret?)"}
		}
		code := int(resp[0])
		name := radCodes[resp[0]]
		if name == "" {
			name = fmt.Sprintf("code %d", code)
		}
		want := m.RespCodes
		if len(want) == 0 {
			want = [][2]int{{2, 2}}
		}
		if !codeOK(want, code) {
			return Result{RTT: time.Since(start), Reason: fmt.Sprintf("RADIUS %s (%d) not in %s", name, code, codesText(want))}
		}
		return Result{OK: true, RTT: time.Since(start), Reason: "RADIUS " + name}
	}
}

// radiusRequest builds an Access-Request with User-Name, the hidden
// User-Password (RFC 2865 §5.2) and the NAS's identity.
func radiusRequest(id byte, auth [16]byte, m *config.MonitorInfo) []byte {
	var attrs []byte
	attr := func(t byte, v []byte) {
		attrs = append(attrs, t, byte(len(v)+2))
		attrs = append(attrs, v...)
	}
	attr(radUserName, []byte(m.UserName))
	attr(radUserPassword, hidePassword([]byte(m.Password), []byte(m.RadKey), auth))
	nas := m.RadNASid
	if nas == "" {
		nas = "gslbd"
	}
	attr(radNASIdentifier, []byte(nas))
	if m.RadNASip.Is4() {
		ip := m.RadNASip.As4()
		attr(radNASIP, ip[:])
	}
	out := make([]byte, 20, 20+len(attrs))
	out[0], out[1] = radAccessRequest, id
	binary.BigEndian.PutUint16(out[2:4], uint16(20+len(attrs)))
	copy(out[4:20], auth[:])
	return append(out, attrs...)
}

// hidePassword is RFC 2865 §5.2: the password padded to 16 bytes, each
// block XORed with MD5(secret + the previous block), the first with the
// Request Authenticator.
func hidePassword(p, secret []byte, auth [16]byte) []byte {
	n := (len(p) + 15) / 16 * 16
	if n == 0 {
		n = 16
	}
	if n > 128 {
		n = 128
	}
	padded := make([]byte, n)
	copy(padded, p)
	out := make([]byte, n)
	prev := auth[:]
	for i := 0; i < n; i += 16 {
		h := md5.Sum(append(append([]byte{}, secret...), prev...))
		for j := range 16 {
			out[i+j] = padded[i+j] ^ h[j]
		}
		prev = out[i : i+16]
	}
	return out
}
