package monitor

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"net"
	"testing"
)

// radiusResponder is a RADIUS server on loopback (RFC 2865, the part a
// monitor uses): it reveals the User-Password with its shared secret and
// answers Access-Accept for the right user and password, Access-Reject
// otherwise, signed with the Response Authenticator. A request signed with
// another secret decodes to garbage, as on a real server.
func radiusResponder(t *testing.T, secret, user, password string) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := buf[:n]
			if n < 20 || req[0] != 1 {
				continue
			}
			var auth [16]byte
			copy(auth[:], req[4:20])
			gotUser, hidden := "", []byte(nil)
			for a := req[20:]; len(a) >= 2 && int(a[1]) <= len(a); a = a[a[1]:] {
				switch a[0] {
				case 1:
					gotUser = string(a[2:a[1]])
				case 2:
					hidden = a[2:a[1]]
				}
			}
			// Reveal: the same XOR chain as hiding.
			clear, prev := make([]byte, len(hidden)), auth[:]
			for i := 0; i+16 <= len(hidden); i += 16 {
				h := md5.Sum(append([]byte(secret), prev...))
				for j := range 16 {
					clear[i+j] = hidden[i+j] ^ h[j]
				}
				prev = hidden[i : i+16]
			}
			code := byte(3)
			if gotUser == user && string(bytes.TrimRight(clear, "\x00")) == password {
				code = 2
			}
			resp := make([]byte, 20)
			resp[0], resp[1] = code, req[1]
			binary.BigEndian.PutUint16(resp[2:4], 20)
			h := md5.New()
			h.Write(resp[:4])
			h.Write(auth[:])
			h.Write([]byte(secret))
			copy(resp[4:20], h.Sum(nil))
			pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String()
}

// TestProbeRADIUS: an Access-Request with the monitor's user, password
// and secret; -respCode decides which answers are UP.
func TestProbeRADIUS(t *testing.T) {
	a := radiusResponder(t, "s3cret-key", "probe", "a password longer than sixteen bytes")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m RADIUS -userName probe -password "a password longer than sixteen bytes" -radKey s3cret-key`), a), true, "Access-Accept")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m RADIUS -userName probe -password wrong -radKey s3cret-key`), a), false, "Access-Reject (3) not in 2")
	// -respCode 2-3 (as Gateway configurations write it): a reject is UP.
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m RADIUS -respCode 2-3 -userName probe -password wrong -radKey s3cret-key`), a), true, "Access-Reject")
	// Another shared secret: the server cannot read the password, and the
	// answer's authenticator does not check out.
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m RADIUS -respCode 2-3 -userName probe -password x -radKey other -resptimeout 500 MSEC`), a), false, "bad authenticator")
}

// TestProbeRADIUSShortLength: an answer whose length field is below the
// 20-byte header is a failed probe with the reason, not a panic.
func TestProbeRADIUSShortLength(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		n, from, err := pc.ReadFrom(buf)
		if err != nil || n < 20 {
			return
		}
		resp := make([]byte, 20)
		resp[0], resp[1] = 2, buf[1]
		binary.BigEndian.PutUint16(resp[2:4], 4)
		pc.WriteTo(resp, from)
	}()
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m RADIUS -userName probe -password x -radKey k`), pc.LocalAddr().String()), false, "length 4 in 20 bytes")
}
