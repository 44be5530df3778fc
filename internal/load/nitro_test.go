package load

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentialsFile: the appliances' logins are read from a file only
// its owner can read; a password prints and logs as REDACTED.
func TestCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gslbd-nitro.json")
	os.WriteFile(p, []byte(`{"10.0.0.10": {"user": "gslbd", "password": "s3cret-pw"}}`), 0o644)
	if _, err := LoadCredentials(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a file others can read: %v", err)
	}
	os.Chmod(p, 0o600)
	c, err := LoadCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	cr, ok := c.lookup("10.0.0.10")
	if !ok || cr.User != "gslbd" || string(cr.Password) != "s3cret-pw" {
		t.Fatalf("login %+v", cr)
	}
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "password", cr.Password)
	if s := fmt.Sprint(cr.Password) + fmt.Sprintf("%v %s", cr.Password, cr.Password) + b.String(); strings.Contains(s, "s3cret") {
		t.Fatalf("the password shows: %s", s)
	}
	os.WriteFile(p, []byte(`{"10.0.0.10": {"password": "x"}}`), 0o600)
	if _, err := LoadCredentials(p); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("no user: %v", err)
	}
	os.WriteFile(p, []byte(`[1]`), 0o600)
	if _, err := LoadCredentials(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("not an object: %v", err)
	}
	if c, err := LoadCredentials(filepath.Join(dir, "none.json")); err != nil || c == nil {
		t.Fatalf("a missing file: %v", err)
	}
}
