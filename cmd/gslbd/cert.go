package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/gslbd/gslbd/internal/mep"
)

// runCert: `gslbd cert ca` makes the deployment's CA, `gslbd cert site
// NAME` a site's certificate signed by it (docs/mep.md, "Certificates").
func runCert(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "ca" && args[0] != "site") {
		fmt.Fprint(stderr, "usage: gslbd cert ca [-dir D] [-force] | gslbd cert site [-dir D] [-ip A,...] NAME\n")
		return 2
	}
	what := args[0]
	fl := flag.NewFlagSet("cert "+what, flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", "mep", "directory of the CA and the site certificates (what `gslbd run -mep-certs` reads)")
	years := fl.Int("years", 10, "validity in years")
	force := fl.Bool("force", false, "replace an existing CA (every site certificate must then be made again)")
	var ips listFlag
	if what == "site" {
		fl.Var(&ips, "ip", "the site's IP address(es), written into the certificate")
	}
	if err := fl.Parse(args[1:]); err != nil {
		return 2
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "gslbd cert: %v\n", err)
		return 1
	}
	caCert, caKey := filepath.Join(*dir, "ca.crt"), filepath.Join(*dir, "ca.key")
	switch what {
	case "ca":
		if fl.NArg() != 0 {
			fmt.Fprint(stderr, "usage: gslbd cert ca [-dir D] [-force]\n")
			return 2
		}
		if _, err := os.Stat(caKey); err == nil && !*force {
			fmt.Fprintf(stderr, "gslbd cert: %s exists; -force replaces it (and every site certificate must be made again)\n", caKey)
			return 1
		}
		c, k, err := mep.NewCA("gslbd deployment CA", *years)
		if err == nil {
			err = writePair(caCert, c, caKey, k)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gslbd cert: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "CA written to %s (keep %s secret; copy %s to every site)\n", caCert, caKey, caCert)
	case "site":
		if fl.NArg() != 1 {
			fmt.Fprint(stderr, "usage: gslbd cert site [-dir D] [-ip A,...] NAME\n")
			return 2
		}
		name := fl.Arg(0)
		var addrs []netip.Addr
		for _, s := range ips {
			a, err := netip.ParseAddr(s)
			if err != nil {
				fmt.Fprintf(stderr, "gslbd cert: -ip %q: not an IP address\n", s)
				return 2
			}
			addrs = append(addrs, a)
		}
		cp, err1 := os.ReadFile(caCert)
		kp, err2 := os.ReadFile(caKey)
		if err := errors.Join(err1, err2); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(stderr, "gslbd cert: no CA in %s: run `gslbd cert ca -dir %s` first\n", *dir, *dir)
			} else {
				fmt.Fprintf(stderr, "gslbd cert: %v\n", err)
			}
			return 1
		}
		c, k, err := mep.NewSiteCert(cp, kp, name, addrs, *years)
		_, certFile, keyFile := mep.CertFiles(*dir, name)
		if err == nil {
			err = writePair(certFile, c, keyFile, k)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gslbd cert: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "site %s: %s and %s (with %s, for `gslbd run -site %s -mep-certs %s`)\n", name, certFile, keyFile, caCert, name, *dir)
	}
	return 0
}

// writePair writes a certificate (0644) and its key (0600), each through
// a temporary file renamed into place.
func writePair(certFile string, cert []byte, keyFile string, key []byte) error {
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{keyFile, key, 0o600}, {certFile, cert, 0o644}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.b, f.mode); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.path); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
