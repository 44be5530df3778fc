package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	migrationConf  = regexp.MustCompile("(?s)```ns\\.conf migration\n(.*?)```")
	migrationShell = regexp.MustCompile("(?s)```sh migration\n(.*?)```")
)

// docStep is one step of the worked example: a command and the output
// the page shows for it, or a narrative line "# (...)" that the test acts
// out.
type docStep struct {
	cmd, narrative string
	want           []string
}

// TestMigrationDocExample runs the worked example of docs/migration.md as
// written: its ns.conf, and each command of its shell session in one bash,
// with gslbd and gslbctl as built from this tree and dig from the system.
// Each command's output must be the one shown (in any order, "..." for
// lines left out, a line ending "..." matching by its start); dig and
// gslbctl are asked again until it is, for up to 20 s (the monitors take a
// moment). The two web servers are real HTTP listeners at the page's
// addresses; the DNS and API ports are free ones instead of 5300 and 9443.
func TestMigrationDocExample(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Fatal("dig not found: apt-get install dnsutils (.ci/run does)")
	}
	page, err := os.ReadFile("../docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	cm, sm := migrationConf.FindSubmatch(page), migrationShell.FindSubmatch(page)
	if cm == nil || sm == nil {
		t.Fatal("docs/migration.md has no ```ns.conf migration or ```sh migration block")
	}
	dnsPort, apiPort := freePort(t), freePort(t)
	ports := strings.NewReplacer("5300", fmt.Sprint(dnsPort), "9443", fmt.Sprint(apiPort))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ns.conf"), []byte(ports.Replace(string(cm[1]))), 0o600); err != nil {
		t.Fatal(err)
	}
	web01, web02 := newBackendAt(t, "127.0.3.11:8080"), newBackendAt(t, "127.0.3.12:8080")
	acts := map[string]func(){
		"# (web01 and web02 now fail their /health)": func() { web01.SetCode(503); web02.SetCode(503) },
		"# (web02 answers /health again)":            func() { web02.SetCode(200) },
	}

	bin := t.TempDir()
	for _, name := range []string{"gslbd", "gslbctl"} {
		if err := os.Symlink(built(t, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	sh := exec.Command("bash", "--noprofile", "--norc")
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GSLBCTL_URL=https://127.0.0.1:"+fmt.Sprint(apiPort))
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, _ := sh.StdinPipe()
	out, _ := sh.StdoutPipe()
	sh.Stderr = sh.Stdout
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-sh.Process.Pid, syscall.SIGTERM)
		sh.Wait()
		if b, err := os.ReadFile(filepath.Join(dir, "gslbd.log")); err == nil && t.Failed() {
			t.Logf("gslbd.log:\n%s", b)
		}
	}()
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	// run sends one command to the shell and returns what it printed.
	n := 0
	run := func(cmd string) []string {
		n++
		marker := fmt.Sprintf("@@done-%d", n)
		if strings.HasSuffix(cmd, "&") {
			fmt.Fprintf(in, "%s\necho %s\n", cmd, marker)
		} else {
			fmt.Fprintf(in, "%s\necho %s $?\n", cmd, marker)
		}
		var got []string
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the shell ended during %q: %q", cmd, got)
				}
				if strings.HasPrefix(l, marker) {
					if st := strings.TrimSpace(strings.TrimPrefix(l, marker)); st != "" && st != "0" {
						got = append(got, "exit status "+st)
					}
					return got
				}
				got = append(got, l)
			case <-timeout:
				t.Fatalf("%q did not finish in 30 s: %q", cmd, got)
			}
		}
	}
	steps := parseDocSteps(ports.Replace(string(sm[1])))
	if len(steps) < 8 {
		t.Fatalf("only %d steps in the example", len(steps))
	}
	for _, st := range steps {
		if st.narrative != "" {
			act, ok := acts[st.narrative]
			if !ok {
				t.Fatalf("the test does not know how to act out %q", st.narrative)
			}
			act()
			continue
		}
		again := strings.HasPrefix(st.cmd, "dig ") || strings.HasPrefix(st.cmd, "gslbctl ")
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := run(st.cmd)
			if why := matchDocOutput(st.want, got); why == "" {
				break
			} else if !again || time.Now().After(deadline) {
				t.Fatalf("$ %s\n%s\ngot:\n%s\nwant:\n%s", st.cmd, why, strings.Join(got, "\n"), strings.Join(st.want, "\n"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The example saved nothing: the file is as the page shows it.
	if b, _ := os.ReadFile(filepath.Join(dir, "ns.conf")); string(b) != ports.Replace(string(cm[1])) {
		t.Errorf("ns.conf changed")
	}
	in.Close()
	_ = io.Discard
}

// parseDocSteps reads a shell session: "$ command" lines, each followed by
// its output, and "# (...)" narrative lines.
func parseDocSteps(text string) []docStep {
	var steps []docStep
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "$ "):
			steps = append(steps, docStep{cmd: strings.TrimPrefix(l, "$ ")})
		case strings.HasPrefix(l, "# ("):
			steps = append(steps, docStep{narrative: l})
		case len(steps) > 0 && steps[len(steps)-1].cmd != "":
			steps[len(steps)-1].want = append(steps[len(steps)-1].want, l)
		}
	}
	return steps
}

// matchDocOutput says why got is not the output want shows ("" if it is):
// the same lines in any order, spaces around them aside; a "..." line
// allows any further lines, a line ending "..." matches by its start.
func matchDocOutput(want, got []string) string {
	rest := make([]string, 0, len(got))
	for _, g := range got {
		rest = append(rest, strings.TrimSpace(g))
	}
	extra := false
	for _, w := range want {
		w = strings.TrimSpace(w)
		if w == "..." {
			extra = true
			continue
		}
		prefix, isPrefix := strings.CutSuffix(w, "...")
		found := -1
		for i, g := range rest {
			if g == w || isPrefix && strings.HasPrefix(g, prefix) {
				found = i
				break
			}
		}
		if found < 0 {
			return fmt.Sprintf("no line %q", w)
		}
		rest = append(rest[:found], rest[found+1:]...)
	}
	if !extra && len(rest) > 0 {
		return fmt.Sprintf("lines the page does not show: %q", rest)
	}
	return ""
}
