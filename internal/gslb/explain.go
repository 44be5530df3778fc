package gslb

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/miekg/dns"
)

// Trace is why a query would get its answer: the path the answer path
// takes for it, with the figures it compared.
type Trace struct {
	Domain   string `json:"domain"`
	QType    string `json:"type"`
	Resolver string `json:"resolver"`
	// Client is the address the decision used: the resolver, or the ECS
	// subnet's.
	Client string `json:"client,omitempty"`
	ECS    string `json:"ecs,omitempty"`
	View   string `json:"view,omitempty"`
	// VServer is the vserver of the domain, Serving the one whose
	// services answer (its backup when it has none).
	VServer    string      `json:"vserver,omitempty"`
	Serving    string      `json:"serving,omitempty"`
	Method     string      `json:"method,omitempty"`
	Fallback   string      `json:"fallback,omitempty"` // lbrrreason text: why the method fell back at rebuild
	Candidates []Candidate `json:"candidates,omitempty"`
	Steps      []string    `json:"steps"`
	Rcode      string      `json:"rcode"`
	Answer     []string    `json:"answer"`
	TTL        uint32      `json:"ttl,omitempty"`
	Scope      int         `json:"ecsscope,omitempty"`
}

// Candidate is a service the method chose among.
type Candidate struct {
	Service string `json:"service"`
	Address string `json:"address"`
	Site    string `json:"site,omitempty"`
	Weight  int    `json:"weight"`
}

// begin records the domain's vserver and candidates.
func (tr *Trace) begin(d *domainEntry, view string) {
	vs := d.vs
	tr.VServer, tr.Serving, tr.Method, tr.View = d.vs.status.Name, vs.status.Serving, vs.status.Method, view
	tr.Fallback = vs.status.LBRRReasonText
	for _, c := range vs.dec.cands {
		tr.Candidates = append(tr.Candidates, Candidate{Service: c.svc.Name, Address: viewAddr(c.svc, view).String(), Site: c.svc.Site, Weight: c.weight})
	}
	if view != "" {
		tr.Steps = append(tr.Steps, fmt.Sprintf("view %q: a DNS policy put the client in it (services at their view addresses)", view))
	}
	if vs.backup {
		tr.Steps = append(tr.Steps, fmt.Sprintf("vserver %s has no service UP: its backup %s answers", tr.VServer, tr.Serving))
	}
	tr.Steps = append(tr.Steps, fmt.Sprintf("%d candidates, method %s", len(vs.dec.cands), tr.Method))
}

// explainAllowed reports whether a client may ask for traces over DNS.
func (t *table) explainAllowed(a netip.Addr) bool {
	for _, p := range t.explainFrom {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// explainTXT answers _explain.<name> TXT with the trace of <name> A for
// the asking client (its ECS subnet too): one TXT record per line.
func (t *table) explainTXT(owner, name string, resp *dns.Msg, r *request) {
	var ecs netip.Prefix
	if r.hasECS {
		ecs = r.ecs
	}
	tr, err := t.engine.Explain(name, dns.TypeA, r.Src, ecs, r.Local, r.TCP)
	if err != nil {
		resp.Rcode = dns.RcodeServerFailure
		return
	}
	lines := []string{fmt.Sprintf("%s A from %s: %s %s", tr.Domain, tr.Resolver, tr.Rcode, strings.Join(tr.Answer, " "))}
	if tr.VServer != "" {
		lines = append(lines, fmt.Sprintf("vserver %s (answering from %s), method %s", tr.VServer, tr.Serving, tr.Method))
	}
	lines = append(lines, tr.Steps...)
	for i, l := range lines {
		var parts []string
		for len(l) > 255 {
			parts, l = append(parts, l[:255]), l[255:]
		}
		parts = append(parts, l)
		resp.Answer = append(resp.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
			Txt: append([]string{fmt.Sprintf("%02d", i)}, parts...)})
	}
}

// Explain answers a hypothetical query without answering it: the same
// code as ServeDNS decides, but no counter, persistence session or
// resolver sighting changes, so the trace's answer is the one the next
// real query from that resolver (with that ECS subnet) gets. qtype 0 is A.
func (e *Engine) Explain(name string, qtype uint16, resolver netip.Addr, ecs netip.Prefix, local netip.Addr, tcp bool) (*Trace, error) {
	if qtype == 0 {
		qtype = dns.TypeA
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if ecs.IsValid() {
		m.SetEdns0(1232, false)
		fam := uint16(1)
		if ecs.Addr().Is6() {
			fam = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam,
			SourceNetmask: uint8(ecs.Bits()), Address: net.IP(ecs.Masked().Addr().AsSlice())})
	}
	q, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", name, err)
	}
	tr := &Trace{Domain: strings.TrimSuffix(dns.Fqdn(name), "."), QType: dns.TypeToString[qtype], Resolver: resolver.String(), Steps: []string{}, Answer: []string{}}
	if ecs.IsValid() {
		tr.ECS = ecs.String()
	}
	r := request{Request: dnsserver.Request{Src: resolver, Local: local, TCP: tcp, Now: time.Now()}, dry: true, trace: tr}
	resp := e.serve(make([]byte, 0, 4096), q, &r)
	if resp == nil {
		tr.Rcode = "no answer (dropped)"
		return tr, nil
	}
	out := new(dns.Msg)
	if err := out.Unpack(resp); err != nil {
		return nil, fmt.Errorf("explain %s: the answer does not unpack: %w", name, err)
	}
	tr.Rcode = dns.RcodeToString[out.Rcode]
	for _, rr := range out.Answer {
		switch x := rr.(type) {
		case *dns.A:
			tr.Answer = append(tr.Answer, x.A.String())
		case *dns.AAAA:
			tr.Answer = append(tr.Answer, x.AAAA.String())
		case *dns.CNAME:
			tr.Answer = append(tr.Answer, x.Target)
		default:
			tr.Answer = append(tr.Answer, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		tr.TTL = rr.Header().Ttl
	}
	if o := out.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if s, ok := opt.(*dns.EDNS0_SUBNET); ok {
				tr.Scope = int(s.SourceScope)
			}
		}
	}
	if tr.VServer == "" {
		tr.Steps = append(tr.Steps, "not a GSLB domain: answered from the zones")
	}
	return tr, nil
}
