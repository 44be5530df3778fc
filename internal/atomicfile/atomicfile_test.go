package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/nsconf"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteKeepsVersions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ns.conf")
	for i := 1; i <= 5; i++ {
		if err := Write(p, []byte(fmt.Sprintf("v%d\n", i)), 0o640, 3); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{p: "v5\n", Version(p, 1): "v4\n", Version(p, 2): "v3\n", Version(p, 3): "v2\n"} {
		if got := read(t, path); got != want {
			t.Errorf("%s = %q, want %q", filepath.Base(path), got, want)
		}
	}
	if _, err := os.Stat(Version(p, 4)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a fourth version is kept (keep 3): %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	// keep 0: no versions made.
	q := filepath.Join(dir, "other")
	Write(q, []byte("a"), 0o600, 0)
	Write(q, []byte("b"), 0o600, 0)
	if _, err := os.Stat(Version(q, 1)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keep 0 made a version: %v", err)
	}
	noTemps(t, dir)
}

func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ns.conf")
	stale := filepath.Join(dir, tempPrefix+"ns.conf-123")
	os.WriteFile(stale, []byte("half a fi"), 0o600)
	if err := Write(p, []byte("x"), 0o600, 1); err != nil {
		t.Fatal(err)
	}
	noTemps(t, dir)
}

// tmpfs mounts a small tmpfs for the test (root only: CI runs as root).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("mounting a tmpfs needs root, and CI runs as root: this test must not be skipped there")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("gslbd-test", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestWriteFullDisk: a save that does not fit fails with the reason and
// leaves the file and its versions as they were.
func TestWriteFullDisk(t *testing.T) {
	dir := tmpfs(t, "64k")
	p := filepath.Join(dir, "ns.conf")
	Write(p, []byte("v1\n"), 0o600, 2)
	Write(p, []byte("v2\n"), 0o600, 2)
	err := Write(p, bytes.Repeat([]byte("x"), 1<<20), 0o600, 2)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want ENOSPC naming %s", err, p)
	}
	if got := read(t, p); got != "v2\n" {
		t.Errorf("file now %q, want v2", got)
	}
	if got := read(t, Version(p, 1)); got != "v1\n" {
		t.Errorf("version 1 now %q, want v1", got)
	}
	noTemps(t, dir)
}

// TestWriteReadOnly: on a read-only file system the save fails with
// EROFS, naming the file. (That the file is untouched says nothing here:
// nothing can change a read-only file. The full file system test above is
// the one where a careless writer would leave a damaged file.)
func TestWriteReadOnly(t *testing.T) {
	dir := tmpfs(t, "64k")
	p := filepath.Join(dir, "ns.conf")
	Write(p, []byte("v1\n"), 0o600, 2)
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	err := Write(p, []byte("v2\n"), 0o600, 2)
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want EROFS naming %s", err, p)
	}
}

// content is version n of the crash test's file: several pages long (a
// torn write would show), and checkable from its first line.
// testdata/saver writes the same.
func content(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# version %d\n", n)
	for i := range 500 {
		fmt.Fprintf(&b, "add gslb vserver v%d_%d HTTP\n", n, i)
	}
	return b.Bytes()
}

// recent caches content(n) for the versions the crash test sees again
// and again (the file and its three kept versions).
var recent = map[int][]byte{}

// version returns n if b is exactly content(n).
func version(b []byte) (int, bool) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	n, err := strconv.Atoi(strings.TrimPrefix(string(line), "# version "))
	if err != nil {
		return 0, false
	}
	want, ok := recent[n]
	if !ok {
		if len(recent) > 64 {
			clear(recent)
		}
		want = content(n)
		recent[n] = want
	}
	return n, bytes.Equal(b, want)
}

// TestCrashAtRandomMoments: a child process saves in a loop and is killed
// with SIGKILL at random moments, 1,000 times. After every kill the file
// and each kept version are complete copies of one saved version, the
// file is never older than its versions, and temporary files left by the
// kill are cleaned by the next save.
func TestCrashAtRandomMoments(t *testing.T) {
	kills := 1000
	if testing.Short() {
		kills = 100
	}
	// A kill is not a power cut: what must hold is the order of the
	// rename and links, which tmpfs keeps; its no-op fsync saves a
	// thousand disk syncs (the disk case runs in the tests above).
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		dir = tmpfs(t, "64m")
	}
	p := filepath.Join(dir, "ns.conf")
	if err := Write(p, content(0), 0o600, 3); err != nil {
		t.Fatal(err)
	}
	// The child is built without the race detector: a thousand starts of
	// an instrumented binary took two minutes.
	saver := filepath.Join(t.TempDir(), "saver")
	if out, err := exec.Command("go", "build", "-o", saver, "./testdata/saver").CombinedOutput(); err != nil {
		t.Fatalf("building the saver: %v\n%s", err, out)
	}
	r := rand.New(rand.NewPCG(1, 2))
	last := 0
	for i := range kills {
		cmd := exec.Command(saver, p)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := out.Read(make([]byte, 16)); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: the child did not start saving: %v\n%s", i, err, stderr.String())
		}
		time.Sleep(time.Duration(r.IntN(10000)) * time.Microsecond) // the random moment of the kill
		cmd.Process.Kill()
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: child ended with %v, not by the kill:\n%s", i, err, stderr.String())
		}
		b := must(os.ReadFile(p))
		n, ok := version(b)
		if !ok {
			t.Fatalf("kill %d: %s is not a complete saved version", i, p)
		}
		if _, err := nsconf.Parse(p, bytes.NewReader(b)); err != nil {
			t.Fatalf("kill %d: %s does not parse: %v", i, p, err)
		}
		prev := n
		for k := 1; k <= 3; k++ {
			b, err := os.ReadFile(Version(p, k))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			v, ok := version(b)
			if !ok {
				t.Fatalf("kill %d: %s is not a complete saved version", i, Version(p, k))
			}
			if v > prev {
				t.Fatalf("kill %d: version %d in %s is newer than %d before it", i, v, Version(p, k), prev)
			}
			prev = v
		}
		if n <= last {
			t.Fatalf("kill %d: version %d after %d: the child saved nothing", i, n, last)
		}
		last = n
	}
	t.Logf("%d kills; %d versions saved (%.1f per child)", kills, last, float64(last)/float64(kills))
	if err := Write(p, content(0), 0o600, 3); err != nil {
		t.Fatal(err)
	}
	noTemps(t, dir)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestWriteKeepOne: with one version kept, every save replaces path.1
// with the file it replaces.
func TestWriteKeepOne(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ns.conf")
	for _, v := range []string{"v1\n", "v2\n", "v3\n"} {
		if err := Write(p, []byte(v), 0o600, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, p); got != "v3\n" {
		t.Errorf("file %q, want v3", got)
	}
	if got := read(t, Version(p, 1)); got != "v2\n" {
		t.Errorf("version 1 %q, want v2", got)
	}
	if _, err := os.Stat(Version(p, 2)); err == nil {
		t.Error("a second version with keep 1")
	}
}
