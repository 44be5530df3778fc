package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dashboard"
	"github.com/gslbd/gslbd/internal/handover"
	"github.com/gslbd/gslbd/internal/nitro"
)

// apiFlags are the NITRO API options of `gslbd run`.
type apiFlags struct {
	addr      string
	plainHTTP bool
	cert, key string
	users     string
}

func (a *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.addr, "api", "127.0.0.1:9443", "NITRO API address (HTTPS; empty: no API)")
	fs.BoolVar(&a.plainHTTP, "api-http", false, "serve the API over plain HTTP (only behind a TLS proxy you trust)")
	fs.StringVar(&a.cert, "api-cert", "", "API certificate (default: gslbd-api.crt beside the configuration, self-signed at first start)")
	fs.StringVar(&a.key, "api-key", "", "API private key (default: gslbd-api.key beside the configuration)")
	fs.StringVar(&a.users, "users", "", "API users file (default: gslbd-users.json beside the configuration; `gslbd user add`)")
}

// besides names a file in the configuration's directory.
func besides(config, name string) string { return filepath.Join(filepath.Dir(config), name) }

// serveAPI starts the NITRO API for d until stop is called.
// Besides NITRO it serves GET /metrics to the API's users (Basic
// authentication for scrapers) and the dashboard (/dashboard/), so that
// one authenticated listener is enough.
func serveAPI(a apiFlags, config string, d *daemon.Daemon, metricsHandler http.Handler, log *slog.Logger) (stop func(), bound net.Addr, err error) {
	usersPath := a.users
	if usersPath == "" {
		usersPath = besides(config, "gslbd-users.json")
	}
	users, err := nitro.LoadUsers(usersPath)
	if err != nil {
		return nil, nil, err
	}
	if users.Len() == 0 {
		log.Warn("no API users: nobody can log in until one is added", "add", "gslbd user add -users "+usersPath+" nsroot")
	}
	l, err := handover.ListenTCP(a.addr) // SO_REUSEPORT: a successor listens beside this process
	if err != nil {
		return nil, nil, err
	}
	if !a.plainHTTP {
		certPath, keyPath := a.cert, a.key
		if certPath == "" {
			certPath = besides(config, "gslbd-api.crt")
		}
		if keyPath == "" {
			keyPath = besides(config, "gslbd-api.key")
		}
		cert, made, err := nitro.Certificate(certPath, keyPath)
		if err != nil {
			l.Close()
			return nil, nil, err
		}
		if made {
			log.Info("generated a self-signed API certificate", "cert", certPath)
		}
		l = tls.NewListener(l, nitro.TLSConfig(cert))
	}
	api := nitro.New(d, users, nitro.Options{Logger: log, UsersPath: usersPath})
	protectedMetrics := api.Protect(metricsHandler)
	page := dashboard.Handler()
	// NITRO paths go to the API as they are: a ServeMux would redirect
	// adc-nitro-go's /nitro/v1/config//<binding> (307), which a client
	// does not follow on DELETE.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/nitro/"):
			api.ServeHTTP(w, r)
		case r.URL.Path == "/metrics":
			protectedMetrics.ServeHTTP(w, r)
		default:
			// The page itself holds no data: what it shows comes from
			// NITRO with the session cookie of a NITRO login.
			page.ServeHTTP(w, r)
		}
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go srv.Serve(l)
	return func() { srv.Close() }, l.Addr(), nil
}

// runUser is `gslbd user add [-users f | -config ns.conf] [-read-only] NAME`,
// the password read from the first line of standard input.
func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: echo PASSWORD | gslbd user add [-users file | -config ns.conf] [-read-only] NAME")
		return 2
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("users", "", "users file (default: gslbd-users.json beside -config)")
	config := fs.String("config", "ns.conf", "configuration file whose directory holds the users file")
	readOnly := fs.Bool("read-only", false, "the user may only read")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: echo PASSWORD | gslbd user add [-users file | -config ns.conf] [-read-only] NAME")
		return 2
	}
	if *path == "" {
		*path = besides(*config, "gslbd-users.json")
	}
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	pw = strings.TrimRight(pw, "\r\n")
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "gslbd: reading the password: %v\n", err)
		return 2
	}
	if err := nitro.CheckPassword(pw); err != nil {
		fmt.Fprintf(stderr, "gslbd: %v (give it on standard input)\n", err)
		return 2
	}
	users, err := nitro.LoadUsers(*path)
	if err != nil {
		fmt.Fprintf(stderr, "gslbd: %v\n", err)
		return 1
	}
	role := nitro.Superuser
	if *readOnly {
		role = nitro.ReadOnly
	}
	if err := users.Add(fs.Arg(0), pw, role); err != nil {
		fmt.Fprintf(stderr, "gslbd: %v\n", err)
		return 1
	}
	if err := users.SaveUsers(*path); err != nil {
		fmt.Fprintf(stderr, "gslbd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "user %s saved in %s\n", fs.Arg(0), *path)
	return 0
}
