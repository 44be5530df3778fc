package nsconf

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLex(t *testing.T) {
	cases := []struct {
		name string
		line string
		want []string
	}{
		{"plain", "add gslb vserver v1 HTTP", []string{"add", "gslb", "vserver", "v1", "HTTP"}},
		{"double quotes with escapes", `-rule "HTTP.REQ.HEADER(\"x\").EXISTS" -c "a\\b"`, []string{"-rule", `HTTP.REQ.HEADER("x").EXISTS`, "-c", `a\b`}},
		{"single quotes are literal", `-comment 'say "hi" \n'`, []string{"-comment", `say "hi" \n`}},
		{"quotes join with text", `ab"c d"e`, []string{"abc de"}},
		{"tabs and CR", "add\tgslb  site\r", []string{"add", "gslb", "site"}},
		{"empty quoted", `-comment ""`, []string{"-comment", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := Lex(tc.line, 1, "f")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tk := range toks {
				got = append(got, tk.Text)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuotedDashIsAValue(t *testing.T) {
	c, err := ParseLine(`add gslb vserver v HTTP -comment "-not an option"`)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("comment"); got != "-not an option" {
		t.Fatalf("got %q", got)
	}
	if got := Format(c); got != `add gslb vserver v HTTP -comment "-not an option"` {
		t.Fatalf("format: got %s", got)
	}
}

func TestAbbreviations(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ad gs vs v1 http -lbm round -ttl 5", ""}, // -ttl is not an add option
		{"add serv x 10.0.0.1", ""},                // service or server
		{"add gslb s x", ""},                       // site, service or serviceGroup
		{"add gslb serviceg g HTTP -siteName s", "add gslb serviceGroup g HTTP -siteName s"},
		{"rm gslb service s1", "rm gslb service s1"}, // exact beats the prefix of serviceGroup
		{"ad gs vs v1 http -lbm round -backupLB leastc", "add gslb vserver v1 HTTP -lbMethod ROUNDROBIN -backupLBMethod LEASTCONNECTION"},
		{"ADD GSLB SITE s1 10.0.0.1 -metricex DIS", "add gslb site s1 10.0.0.1 -metricExchange DISABLED"},
		{"bind gslb vserver v -dom www.Example.COM. -TTL 5", "bind gslb vserver v -domainName www.example.com -TTL 5"},
		{"add gslb service s 10.0.0.1 ssl * -siteN site1", "add gslb service s 10.0.0.1 SSL 65535 -siteName site1"},
	}
	for _, tc := range cases {
		c, err := ParseLine(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := Format(c); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// endless produces a line of n bytes without a newline, then a good line.
type endless struct{ n, sent int }

func (e *endless) Read(p []byte) (int, error) {
	if e.sent >= e.n+40 {
		return 0, io.EOF
	}
	if e.sent >= e.n {
		tail := []byte("\nadd gslb vserver after HTTP\n")
		k := copy(p, tail[min(e.sent-e.n, len(tail)):])
		e.sent += k
		if k == 0 {
			return 0, io.EOF
		}
		return k, nil
	}
	k := min(len(p), e.n-e.sent)
	for i := range k {
		p[i] = 'a'
	}
	e.sent += k
	return k, nil
}

func TestHundredMegabyteLine(t *testing.T) {
	f, err := Parse("big.conf", &endless{n: 100 << 20})
	l, ok := AsList(err)
	if !ok || len(l) != 1 || !strings.Contains(l[0].Error(), "big.conf:1: line is longer than") {
		t.Fatalf("got %v, want one line-too-long error", err)
	}
	if len(f.Cmds) != 1 || f.Cmds[0].Get("name") != "after" || f.Cmds[0].Pos.Line != 2 {
		t.Fatalf("the line after the long one: got %+v", f.Cmds)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"add gslb vserver v1 HTTP -lbMethod ROUNDROBIN -comment \"a b\"",
		"bind gslb vserver v1 -domainName www.example.com -TTL 5 -backupIP 10.0.0.1",
		"add gslb site s1 LOCAL 10.0.0.1 -publicIP 1.2.3.4 -backupParentlist a b c",
		"add gslb service s1 10.0.0.2 SSL 443 -siteName s1 -cip ENABLED X-Forwarded-For",
		"add dns txtRec example.com \"a\\\"b\" 'c d'",
		"add lb vserver x HTTP 1.2.3.4 80",
		"set gslb parameter -ldnsProbeOrder PING DNS TCP",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseLine(line)
		if err != nil || c == nil || c.Spec == nil {
			return
		}
		// Round trip: what the writer emits parses to the same line.
		out := Format(c)
		c2, err := ParseLine(out)
		if err != nil {
			t.Fatalf("written form %q of %q does not parse: %v", out, line, err)
		}
		if out2 := Format(c2); out2 != out {
			t.Fatalf("not a fixed point:\n%q\n%q", out, out2)
		}
	})
}

// Found by FuzzParse: a line of white space other than blanks and tabs
// crashed the parser.
func TestWhitespaceOnlyLine(t *testing.T) {
	for _, line := range []string{"\v", "\f", " \v\t\r", "\v\n"} {
		if _, err := ParseLine(line); err != nil {
			t.Errorf("%q: %v", line, err)
		}
		f, err := Parse("ws.conf", strings.NewReader(line+"\nadd gslb vserver v HTTP\n"))
		if err != nil || len(f.Cmds) != 1 {
			t.Errorf("%q in a file: %v, %d commands", line, err, len(f.Cmds))
		}
	}
}

// TestQuoteKeepsTheAppliancesSpelling: a value is written the way the
// appliance writes it, so a value that comes back from the lexer keeps its
// spelling: backslashes that are not escapes stay single (\r\n in
// -customHeaders), and the ones the lexer would read as escapes are
// doubled.
func TestQuoteKeepsTheAppliancesSpelling(t *testing.T) {
	cases := []struct{ value, written string }{
		{`Host: www.example.com\r\n`, `"Host: www.example.com\r\n"`},
		{`GET /status\r\n\r\n`, `"GET /status\r\n\r\n"`},
		{`.*/.*\+xml`, `".*/.*\+xml"`},
		{`say "hi"`, `"say \"hi\""`},
		{`ends with \`, `"ends with \\"`},
		{`two \\ backslashes`, `"two \\\ backslashes"`},
		{`quote after backslash \"`, `"quote after backslash \\\""`},
		{`plain`, `plain`},
	}
	for _, tc := range cases {
		if got := Quote(tc.value); got != tc.written {
			t.Errorf("Quote(%q) = %s, want %s", tc.value, got, tc.written)
		}
		toks, err := Lex("x "+Quote(tc.value), 1, "")
		if err != nil || len(toks) != 2 || toks[1].Text != tc.value {
			t.Errorf("%s reads back as %v (%v), want %q", Quote(tc.value), toks, err, tc.value)
		}
	}
}
