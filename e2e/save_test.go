package e2e

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/atomicfile"
	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/gslbd/gslbd/internal/nsconf"
)

const saveBase = `add gslb site s1 127.0.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
bind gslb vserver gv -serviceName a
bind gslb vserver gv -domainName www.save.test -TTL 5
`

// startFile runs a daemon on a configuration file in a fresh directory.
func startFile(t *testing.T, text string) (*daemon.Daemon, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ns.conf")
	if err := os.WriteFile(p, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	return startPath(t, p), p
}

func startPath(t *testing.T, p string) *daemon.Daemon {
	t.Helper()
	d, err := daemon.Start(daemon.Options{ConfigPath: p, Listen: []string{"127.0.0.1:0"},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestChangeIsAtomic: a batch with one bad line changes nothing (not the
// lines before it either) and names the line; a good batch is answered at
// once.
func TestChangeIsAtomic(t *testing.T) {
	d, _ := startFile(t, saveBase)
	before := d.Current().Config.String()
	_, err := d.Change(events.Origin{Via: "api"}, "add gslb service b 192.0.2.2 HTTP 80 -siteName s1\nbind gslb vserver gv -serviceName b\nbind gslb vserver gv -serviceName nosuch\n")
	l, ok := nsconf.AsList(err)
	if !ok || len(l) != 1 || l[0].Pos.Line != 3 || !strings.Contains(l[0].Msg, "nosuch") {
		t.Fatalf("error %v, want one error on line 3 naming nosuch", err)
	}
	if got := d.Current().Config.String(); got != before {
		t.Fatalf("a refused batch changed the configuration:\n%s", got)
	}
	if got := answerSet(t, d, "www.save.test"); got != "192.0.2.1" {
		t.Fatalf("answers %q after a refused batch", got)
	}
	if _, err := d.Change(events.Origin{Via: "api"}, "add gslb service b 192.0.2.2 HTTP 80 -siteName s1\nbind gslb vserver gv -serviceName b\nset gslb vserver gv -MIR ENABLED\n"); err != nil {
		t.Fatal(err)
	}
	if got := answerSet(t, d, "www.save.test"); got != "192.0.2.1,192.0.2.2" {
		t.Fatalf("answers %q after the change, want both services", got)
	}
	// A domain already bound to another vserver: refused, and the vserver
	// added on the line before is not there either.
	before = d.Current().Config.String()
	if _, err := d.Change(events.Origin{Via: "api"}, "add gslb vserver gv2 HTTP\nbind gslb vserver gv2 -domainName www.save.test -TTL 5\n"); err == nil {
		t.Fatal("binding a domain to a second vserver was accepted")
	}
	if got := d.Current().Config.String(); got != before {
		t.Fatalf("a refused batch changed the configuration:\n%s", got)
	}
}

// TestSaveAndRestart: changes saved, the daemon restarted from the file:
// the running configuration is identical; the previous file is kept as
// ns.conf.1; diff shows nothing once saved.
func TestSaveAndRestart(t *testing.T) {
	d, p := startFile(t, saveBase)
	if _, err := d.Change(events.Origin{Via: "api"}, "add gslb service b 192.0.2.2 HTTP 80 -siteName s1 -comment \"dc 2\"\nbind gslb vserver gv -serviceName b -weight 7\n"); err != nil {
		t.Fatal(err)
	}
	savedOnly, runningOnly, err := d.Diff()
	if err != nil {
		t.Fatal(err)
	}
	if len(savedOnly) != 0 || len(runningOnly) != 2 || !slices.ContainsFunc(runningOnly, func(l string) bool { return strings.Contains(l, "-weight 7") }) {
		t.Fatalf("diff before save: saved only %q, running only %q", savedOnly, runningOnly)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if savedOnly, runningOnly, _ = d.Diff(); len(savedOnly)+len(runningOnly) != 0 {
		t.Fatalf("diff after save: %q %q", savedOnly, runningOnly)
	}
	if b, _ := os.ReadFile(atomicfile.Version(p, 1)); string(b) != saveBase {
		t.Errorf("ns.conf.1 is not the previous file:\n%s", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("saved file mode %v, want the original 0640", fi.Mode().Perm())
	}
	running := d.Current().Config.Canonical()
	d.Close()
	d2 := startPath(t, p)
	if got := d2.Current().Config.Canonical(); got != running {
		t.Fatalf("after restart the running configuration differs:\n%s\n--- before:\n%s", got, running)
	}
	if saved, _ := os.ReadFile(p); d2.Current().Config.String() != string(saved) {
		t.Fatalf("the file read back and written again is not the file:\n%s\n--- file:\n%s", d2.Current().Config.String(), saved)
	}
	if got := answerSet(t, d2, "www.save.test"); got != "192.0.2.1" && got != "192.0.2.2" {
		t.Fatalf("answers %q after restart", got)
	}
}

// needRoot skips a test that mounts file systems, except in CI, which
// runs as root and must not skip it.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root to mount a file system, and CI runs as root: this test must not be skipped there")
		}
		t.Skip("needs root to mount a file system")
	}
}

// tmpfsDaemon runs a daemon on saveBase in a fresh 1 MiB tmpfs and returns the directory, the file and the daemon, and a
// function that asks its NITRO API to save.
func tmpfsDaemon(t *testing.T) (dir, p string, d *daemon.Daemon, apiSave func() (int, map[string]any)) {
	t.Helper()
	needRoot(t)
	dir = t.TempDir()
	if err := mountTmpfs(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmount(dir) })
	p = filepath.Join(dir, "ns.conf")
	os.WriteFile(p, []byte(saveBase), 0o600)
	d = startPath(t, p)
	users := nitro.NewUsers()
	users.Add("nsroot", nitroPassword, nitro.Superuser)
	srv := httptest.NewTLSServer(nitro.New(d, users, nitro.Options{}))
	t.Cleanup(srv.Close)
	return dir, p, d, func() (int, map[string]any) {
		return call(t, srv, "POST", "/nitro/v1/config/nsconfig?action=save", `{"nsconfig":{}}`,
			map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword})
	}
}

// TestSaveFailureChangesNothing: a save that fails half-way (the file
// system fills up while the new file is written) says why, and leaves the
// file, its kept versions and the running configuration as they were,
// with no temporary file behind. A writer that wrote in place, or kept
// the previous version before the new one was safely written, fails here.
func TestSaveFailureChangesNothing(t *testing.T) {
	dir, p, d, apiSave := tmpfsDaemon(t)
	// One good save first, so that there is a kept version to protect.
	if _, err := d.Change(events.Origin{Via: "api"}, "set gslb vserver gv -comment first\n"); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(p)
	kept, _ := os.ReadFile(atomicfile.Version(p, 1))
	if _, err := d.Change(events.Origin{Via: "api"}, "set gslb vserver gv -MIR ENABLED\n"); err != nil {
		t.Fatal(err)
	}
	running := d.Current().Config.String()
	filler := fillFileSystem(t, dir)
	check := func(how string) {
		t.Helper()
		if b, _ := os.ReadFile(p); string(b) != string(file) {
			t.Errorf("%s: file changed by a failed save:\n%s", how, b)
		}
		if b, _ := os.ReadFile(atomicfile.Version(p, 1)); string(b) != string(kept) {
			t.Errorf("%s: ns.conf.1 changed by a failed save:\n%s", how, b)
		}
		if _, err := os.Stat(atomicfile.Version(p, 2)); err == nil {
			t.Errorf("%s: a failed save made ns.conf.2", how)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if n := e.Name(); n != "ns.conf" && n != "ns.conf.1" && n != filepath.Base(filler) {
				t.Errorf("%s: left %s behind", how, n)
			}
		}
		if got := d.Current().Config.String(); got != running {
			t.Errorf("%s: running configuration changed by a failed save", how)
		}
	}
	err := d.Save()
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), p) {
		t.Fatalf("save on a full file system: %v", err)
	}
	check("save")
	code, out := apiSave()
	if code == 200 || !strings.Contains(fmt.Sprint(out["message"]), "no space left on device") {
		t.Fatalf("API save on a full file system: %d %v", code, out)
	}
	check("API save")
	// With room again the same save goes through: the failure was the
	// space, nothing else.
	os.Remove(filler)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), "-MIR ENABLED") {
		t.Fatalf("saved file:\n%s", b)
	}
	if b, _ := os.ReadFile(atomicfile.Version(p, 1)); string(b) != string(file) {
		t.Fatalf("ns.conf.1 is not the previous file:\n%s", b)
	}
}

// fillFileSystem writes a file into dir until its file system is full
// and returns its name.
func fillFileSystem(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for range 1 << 20 {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), "no space left on device") {
				t.Fatal(err)
			}
			return name
		}
	}
	t.Fatal("the file system never filled up")
	return ""
}

// TestSaveReadOnlySaysWhy: a save onto a read-only file system is an
// error that names the reason, from the daemon and through the API.
func TestSaveReadOnlySaysWhy(t *testing.T) {
	dir, _, d, apiSave := tmpfsDaemon(t)
	if _, err := d.Change(events.Origin{Via: "api"}, "set gslb vserver gv -MIR ENABLED\n"); err != nil {
		t.Fatal(err)
	}
	if err := remountReadOnly(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(); err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("save on a read-only file system: %v", err)
	}
	code, out := apiSave()
	if code == 200 || !strings.Contains(fmt.Sprint(out["message"]), "read-only file system") {
		t.Fatalf("API save on a read-only file system: %d %v", code, out)
	}
}

func TestSaveDemoRefused(t *testing.T) {
	d := start(t, saveBase)
	if err := d.Save(); err == nil || !strings.Contains(err.Error(), "no file") {
		t.Fatalf("save of a text-only configuration: %v", err)
	}
}
