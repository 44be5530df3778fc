// Command gslbctl is NetScaler's CLI for gslbd, over NITRO:
//
//	gslbctl [-url https://127.0.0.1:9443] [-user nsroot] [-cacert gslbd-api.crt]   interactive
//	gslbctl -c 'show gslb vserver gv'                                               one command
//	gslbctl -f batch.conf [-k]                                                      a batch; -k keeps going
//
// The password comes from $GSLBCTL_PASSWORD, or is asked for; $GSLBCTL_URL,
// if set, replaces the default -url.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/gslbd/gslbd/internal/shell"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gslbctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defURL := "https://127.0.0.1:9443"
	if u := os.Getenv("GSLBCTL_URL"); u != "" {
		defURL = u
	}
	base := fs.String("url", defURL, "gslbd's NITRO API (default from $GSLBCTL_URL if set)")
	user := fs.String("user", "nsroot", "user name")
	cacert := fs.String("cacert", "", "CA certificate to trust (gslbd-api.crt for a self-signed gslbd)")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate")
	one := fs.String("c", "", "run one command and exit")
	batch := fs.String("f", "", "run the commands of a file and exit")
	keep := fs.Bool("k", false, "with -f: keep going after an error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	tc := &tls.Config{InsecureSkipVerify: *insecure, MinVersion: tls.VersionTLS12}
	if *cacert != "" {
		pem, err := os.ReadFile(*cacert)
		if err != nil {
			fmt.Fprintf(stderr, "gslbctl: %v\n", err)
			return 2
		}
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(pem)
	}
	client := &nitro.Client{Base: *base, UserAgent: "gslbctl", HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}}
	password := os.Getenv("GSLBCTL_PASSWORD")
	if password == "" && term.IsTerminal(int(stdin.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return 2
		}
		password = string(b)
	}
	ctx := context.Background()
	if err := client.Login(ctx, *user, password); err != nil {
		fmt.Fprintf(stderr, "gslbctl: login to %s: %v\n", *base, err)
		return 1
	}
	defer client.Logout(ctx)
	sh := &shell.Shell{Client: client, Out: stdout}
	switch {
	case *one != "":
		if err := sh.Run(ctx, *one); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case *batch != "":
		f, err := os.Open(*batch)
		if err != nil {
			fmt.Fprintf(stderr, "gslbctl: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := sh.RunBatch(ctx, *batch, f, *keep); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if !term.IsTerminal(int(stdin.Fd())) {
		if err := sh.RunBatch(ctx, "stdin", stdin, *keep); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	return interactive(ctx, sh, stdin, stdout)
}

// interactive is the prompt: line editing and history (arrows), Tab
// completion of commands, options and names.
func interactive(ctx context.Context, sh *shell.Shell, stdin *os.File, stdout io.Writer) int {
	old, err := term.MakeRaw(int(stdin.Fd()))
	if err != nil {
		fmt.Fprintf(stdout, "gslbctl: %v\n", err)
		return 1
	}
	defer term.Restore(int(stdin.Fd()), old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{stdin, stdout}, "> ")
	sh.Out = t
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		return sh.Complete(ctx, line, pos)
	}
	for {
		line, err := t.ReadLine()
		if err != nil {
			return 0
		}
		switch strings.TrimSpace(line) {
		case "exit", "quit":
			return 0
		case "":
			continue
		}
		if err := sh.Run(ctx, line); err != nil {
			fmt.Fprintln(t, err)
		}
	}
}
