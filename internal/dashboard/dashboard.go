// Package dashboard is gslbd's live web page: sites and their links,
// vservers with their services, states and reasons, the answer
// distribution per domain, the event timeline and the explain form.
//
// The page is static (HTML, CSS and a little JavaScript embedded in the
// binary, nothing from a CDN); everything it shows it reads from the
// NITRO API with the session cookie of a NITRO login, so it sees and
// may do exactly what its user may through the API, over the API's TLS.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the dashboard is served.
const Prefix = "/dashboard/"

// Handler serves the dashboard's files under Prefix, and redirects / to
// it. Every answer forbids framing and any script, style or connection
// that is not the page's own (Content-Security-Policy).
func Handler() http.Handler {
	sub, _ := fs.Sub(static, "static")
	files := http.StripPrefix(Prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case r.URL.Path == "/" || r.URL.Path == strings.TrimSuffix(Prefix, "/"):
			http.Redirect(w, r, Prefix, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, Prefix):
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
