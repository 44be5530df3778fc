package dnsserver

import (
	"github.com/gslbd/gslbd/internal/cookie"
	"github.com/gslbd/gslbd/internal/rrl"
)

// What happened to the queries that carried a DNS cookie, the indexes of
// Counts' and Stats' cookie counters.
const (
	CookieValid     = iota // a valid server cookie: the client is who it says (never rate limited)
	CookieNew              // a client cookie alone, or with a server cookie not (or no longer) valid: a new one sent
	CookieMalformed        // a COOKIE option of a wrong length, or two: FORMERR
	CookieBad              // rate limited, slipped as BADCOOKIE with a new server cookie
	NumCookieResults
)

// CookieResultNames name the cookie counters (the metric's label).
var CookieResultNames = [NumCookieResults]string{"valid", "new", "malformed", "badcookie"}

// answer runs the handler on one query with the defences around it: the
// query's DNS cookie is read (RFC 7873: a malformed one gets FORMERR),
// the handler leaves room for the cookie under the client's size, the
// response gets the client's cookie and our server cookie, and a UDP
// response is rate limited (lim non-nil) unless the query's server
// cookie was valid. It returns nil to send nothing.
func (s *Server) answer(dst, q []byte, req Request, lim *rrl.Limiter, cnt *Counts) []byte {
	jar := s.opts.Cookies
	var ck cookie.Query
	var resp []byte
	if jar != nil {
		ck = cookie.Find(q)
		switch ck.Status {
		case cookie.Malformed:
			if q[2]&0x80 != 0 {
				return nil // a response: never answered
			}
			cnt.cookie[CookieMalformed]++
			resp = cookieFormErr(dst, q) // rate limited below, as any error
		case cookie.Client:
			req.Reserve = cookie.OptionLen
		}
	}
	if resp == nil {
		resp = s.h.ServeDNS(dst, q, req)
	}
	if len(resp) == 0 {
		return nil
	}
	opt, valid := -1, false
	if ck.Status == cookie.Client {
		if opt = cookie.LastOPT(resp); opt >= 0 {
			resp, valid = addCookie(jar, resp, opt, &ck, req)
		}
		if valid {
			cnt.cookie[CookieValid]++
		} else {
			cnt.cookie[CookieNew]++
		}
	}
	if lim == nil || req.TCP || valid {
		return resp
	}
	switch lim.Check(req.Src, resp, req.Now.Unix()) {
	case rrl.Drop:
		return nil
	case rrl.Truncate:
		if opt >= 0 {
			// A client with a cookie learns the server cookie instead
			// (BIND does the same): its next query is not limited.
			cnt.cookie[CookieBad]++
			return badCookie(resp, opt)
		}
		return truncated(resp)
	}
	return resp
}

// addCookie appends the COOKIE option to the response's OPT record at
// opt, its last record.
func addCookie(jar *cookie.Jar, resp []byte, opt int, ck *cookie.Query, req Request) ([]byte, bool) {
	resp, valid := jar.AppendOption(resp, ck, req.Src, uint32(req.Now.Unix()))
	rdlen := len(resp) - (opt + 11)
	resp[opt+9], resp[opt+10] = byte(rdlen>>8), byte(rdlen)
	return resp, valid
}

// badCookie turns a response with our cookie into BADCOOKIE (RFC 7873
// §5.2.3): the header and the question, no records, and the OPT record
// with the extended RCODE and the COOKIE option only.
func badCookie(resp []byte, opt int) []byte {
	// The COOKIE option is the OPT record's last, added by addCookie.
	optHead := [11]byte(resp[opt : opt+11])
	ck := [cookie.OptionLen]byte(resp[len(resp)-cookie.OptionLen:])
	resp = truncated(resp)
	if resp == nil {
		return nil
	}
	resp[2] &^= 0x02 // not TC: the client asks again over UDP, with the cookie
	resp[3] = resp[3]&0xf0 | cookie.BadCookie&0x0f
	resp[11] = 1
	optHead[5] = cookie.BadCookie >> 4 // the extended RCODE's upper bits
	optHead[9], optHead[10] = 0, cookie.OptionLen
	resp = append(resp, optHead[:]...)
	return append(resp, ck[:]...)
}

// cookieFormErr replies FORMERR to a query with a malformed COOKIE
// option: the header, with its ID, opcode and RD copied, and an OPT
// record (the query had one, RFC 6891 §7).
func cookieFormErr(dst, q []byte) []byte {
	return append(dst[:0], q[0], q[1], 0x80|q[2]&0x79, 1, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0)
}
