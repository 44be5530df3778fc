package monitor

import (
	"crypto/md5"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// TestBindingWindowPast64: the failures counted are those of the last
// -retries probes, also when -retries is over 64 (the window's second
// word): four failures 70 successes ago no longer count.
func TestBindingWindowPast64(t *testing.T) {
	for _, retries := range []int{70, 127} {
		b := &binding{mon: mon(retries, 5, 1)}
		seq := "S" + "FFFF" + strings.Repeat("S", retries) + "F"
		for i, c := range seq {
			b.observe(Result{OK: c == 'S', Reason: string(c)}, time.Unix(0, 0))
			if b.state != health.Up {
				t.Fatalf("retries %d, after %d probes: %s, want UP (at most 4 of the last %d failed)", retries, i+1, b.state, retries)
			}
		}
		// Four more failures make five within the window.
		for range 4 {
			b.observe(Result{OK: false, Reason: "F"}, time.Unix(0, 0))
		}
		if b.state != health.Down || !strings.Contains(b.reason, "5 of the last") {
			t.Fatalf("retries %d: %s %q, want DOWN after 5 failures", retries, b.state, b.reason)
		}
	}
}

// TestServiceStateReasons: the reason given with a combined state names
// the monitor that decided it.
func TestServiceStateReasons(t *testing.T) {
	a, b := mon(1, 0, 1), mon(1, 0, 1)
	a.Name, b.Name = "a", "b"
	bs := []*binding{{mon: a, state: health.Up, reason: "HTTP 200"}, {mon: b, state: health.Down, reason: "connection refused"}}
	refs := []config.MonitorRef{{Monitor: a, Weight: 1}, {Monitor: b, Weight: 1}}
	for _, tc := range []struct {
		name      string
		threshold int
		disabled  bool
		state     health.State
		reason    string
	}{
		{name: "one down", state: health.Down, reason: "monitor b: connection refused"},
		{name: "threshold", threshold: 2, state: health.Down, reason: "UP monitors weigh 1, below threshold 2; monitor b: connection refused"},
		{name: "threshold reached", threshold: 1, state: health.Up, reason: "UP monitors weigh 1, threshold 1"},
		{name: "all disabled", disabled: true, state: health.Up, reason: "no enabled monitor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := []config.MonitorRef{refs[0], refs[1]}
			r[0].Disabled, r[1].Disabled = tc.disabled, tc.disabled
			if st, why := serviceState(r, bs, tc.threshold); st != tc.state || why != tc.reason {
				t.Errorf("got %s %q, want %s %q", st, why, tc.state, tc.reason)
			}
		})
	}
	// Under a threshold with the others out of service, the reason says so.
	bs[1].state = health.OutOfService
	if st, why := serviceState(refs, bs, 2); st != health.Down || why != "UP monitors weigh 1, below threshold 2; monitors out of service" {
		t.Errorf("threshold with one out of service: %s %q", st, why)
	}
}

// TestSpread: a binding's first probe starts at an offset within its
// interval that depends on the service, the backend probed and the
// monitor, the same every time.
func TestSpread(t *testing.T) {
	const interval = 5 * time.Second
	keys := []jobKey{{"svc", "", "m"}, {"svc", "b1", "m"}, {"svc", "b2", "m"}, {"svc", "", "m2"}, {"svc2", "", "m"}}
	seen := map[time.Duration]bool{}
	for _, k := range keys {
		d := spread(k, interval)
		if d < 0 || d >= interval || d != spread(k, interval) {
			t.Fatalf("%+v: spread %v, want a fixed offset in [0, %v)", k, d, interval)
		}
		seen[d] = true
	}
	if len(seen) != len(keys) {
		t.Fatalf("%d offsets for %d bindings: %v", len(seen), len(keys), seen)
	}
	if d := spread(keys[0], 0); d != 0 {
		t.Fatalf("no interval: spread %v", d)
	}
}

// TestRADIUSRequest: the Access-Request's length field, its attributes
// (User-Name, User-Password hidden in 16-byte blocks up to 128, the NAS's
// identifier, "gslbd" by default, and its address when set) and the
// password hiding of RFC 2865 §5.2, undone as a server would.
func TestRADIUSRequest(t *testing.T) {
	var auth [16]byte
	copy(auth[:], "0123456789abcdef")
	for _, tc := range []struct {
		password string
		hidden   int // User-Password length
		nasID    string
		nasIP    string
	}{
		{password: "", hidden: 16},
		{password: "short", hidden: 16, nasID: "site-a"},
		{password: strings.Repeat("p", 16), hidden: 16},
		{password: strings.Repeat("p", 20), hidden: 32, nasIP: "192.0.2.7"},
		{password: strings.Repeat("p", 128), hidden: 128},
		{password: strings.Repeat("p", 200), hidden: 128},
	} {
		m := &config.MonitorInfo{UserName: "probe", Password: tc.password, RadKey: "s3cret", RadNASid: tc.nasID}
		if tc.nasIP != "" {
			m.RadNASip = netip.MustParseAddr(tc.nasIP)
		}
		req := radiusRequest(9, auth, m)
		if req[0] != radAccessRequest || req[1] != 9 || int(binary.BigEndian.Uint16(req[2:4])) != len(req) || string(req[4:20]) != string(auth[:]) {
			t.Fatalf("password %d bytes: header %x, length %d", len(tc.password), req[:20], len(req))
		}
		attrs := map[byte][]byte{}
		for a := req[20:]; len(a) > 0; a = a[a[1]:] {
			if len(a) < 2 || int(a[1]) > len(a) || a[1] < 2 {
				t.Fatalf("password %d bytes: bad attribute framing %x", len(tc.password), a)
			}
			attrs[a[0]] = a[2:a[1]]
		}
		wantNAS := tc.nasID
		if wantNAS == "" {
			wantNAS = "gslbd"
		}
		if string(attrs[radUserName]) != "probe" || string(attrs[radNASIdentifier]) != wantNAS {
			t.Errorf("password %d bytes: attributes %q", len(tc.password), attrs)
		}
		if ip, ok := attrs[radNASIP]; ok != (tc.nasIP != "") || ok && netip.AddrFrom4([4]byte(ip)).String() != tc.nasIP {
			t.Errorf("NAS-IP-Address %v, want %q", ip, tc.nasIP)
		}
		hidden := attrs[radUserPassword]
		if len(hidden) != tc.hidden {
			t.Fatalf("password %d bytes: User-Password of %d bytes, want %d", len(tc.password), len(hidden), tc.hidden)
		}
		clear, prev := make([]byte, len(hidden)), auth[:]
		for i := 0; i < len(hidden); i += 16 {
			h := md5.Sum(append([]byte("s3cret"), prev...))
			for j := range 16 {
				clear[i+j] = hidden[i+j] ^ h[j]
			}
			prev = hidden[i : i+16]
		}
		want := tc.password[:min(len(tc.password), 128)]
		if got := strings.TrimRight(string(clear), "\x00"); got != want {
			t.Errorf("password %d bytes: revealed %q", len(tc.password), got)
		}
	}
}
