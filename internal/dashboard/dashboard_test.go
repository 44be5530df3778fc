package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestHandler: / goes to the page; the page, its script and style are
// served with a policy that allows nothing but the page's own; other
// paths are not found; nothing but GET and HEAD.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		has          string
	}{
		{"GET", "/", http.StatusFound, ""},
		{"GET", "/dashboard", http.StatusFound, ""},
		{"GET", "/dashboard/", http.StatusOK, `<script src="app.js"`},
		{"GET", "/dashboard/app.js", http.StatusOK, "EventSource"},
		{"GET", "/dashboard/app.css", http.StatusOK, ".state"},
		{"HEAD", "/dashboard/", http.StatusOK, ""},
		{"GET", "/dashboard/nosuch", http.StatusNotFound, ""},
		{"GET", "/elsewhere", http.StatusNotFound, ""},
		{"POST", "/dashboard/", http.StatusMethodNotAllowed, ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
			t.Errorf("%s %s: %d, want %d with %q", tc.method, tc.path, resp.StatusCode, tc.status, tc.has)
		}
		if loc := resp.Header.Get("Location"); tc.status == http.StatusFound && loc != Prefix {
			t.Errorf("%s redirects to %q", tc.path, loc)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, csp)
		}
	}
}

// TestNothingFromElsewhere: the page loads nothing from another origin
// (no CDN), writes nothing the API returns as HTML, and sets no inline
// style the policy would block.
func TestNothingFromElsewhere(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := static.ReadFile(path)
		s := string(b)
		if external.MatchString(s) || strings.Contains(s, "@import") {
			t.Errorf("%s loads something from elsewhere", path)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "setAttribute(\"style\"", "style=\""} {
			if strings.Contains(s, bad) {
				t.Errorf("%s uses %s", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
