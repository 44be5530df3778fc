// Command gslbd is the gslbd daemon: an authoritative DNS server that
// answers GSLB domains from a NetScaler-syntax configuration.
//
//	gslbd                      run the built-in demo on 127.0.0.1:5353
//	gslbd demo [-print-config] the same; -print-config shows its ns.conf
//	gslbd run -config ns.conf  serve a configuration (SIGHUP reloads it;
//	                           -metrics 127.0.0.1:9153 serves Prometheus metrics)
//	gslbd check ns.conf...     validate; errors as file:line:col: message
//	gslbd fmt ns.conf          print what save would write (-canonical: canonical form)
//	gslbd user add NAME        add an API user (password on stdin)
//	gslbd cert ca | site NAME  make the sites' CA / a site certificate (metric exchange)
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/cookie"
	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/handover"
	"github.com/gslbd/gslbd/internal/metrics"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/querylog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, strings.Split(s, ",")...); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "demo":
		return runDemo(args, stdout, stderr)
	case "run":
		return runServe(args, stdout, stderr)
	case "check":
		return runCheck(args, stdout, stderr)
	case "fmt":
		return runFmt(args, stdout, stderr)
	case "user":
		return runUser(args, os.Stdin, stdout, stderr)
	case "cert":
		return runCert(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "gslbd: unknown command %q\n%s", cmd, usage)
	return 2
}

const usage = `usage:
  gslbd                        run the built-in demo (DNS on 127.0.0.1:5353)
  gslbd demo [-print-config]   the same; -print-config prints its ns.conf
  gslbd run -config ns.conf [-listen addr:port,...] [-tcp-max-conns n] [-tcp-max-per-source n] [-tcp-idle-timeout d] [-tcp-io-timeout d]
  gslbd run ... [-dns-cookies=false] [-dns-cookie-secret FILE] [-dnstap unix:PATH|tcp:HOST:PORT] [-user NAME] [-handover PATH]
  gslbd run ... [-api 127.0.0.1:9443] [-api-http] [-api-cert f -api-key f] [-users f] [-metrics addr] [-nitro-credentials f]
  gslbd run ... [-location-file FILE [-location-format F]] [-site NAME] [-mep-certs DIR] [-mep-port 3009] [-mep-allow-plain] [-mep-plain-port 3011]
  gslbd user add [-users f | -config ns.conf] [-read-only] NAME   (password on stdin)
  gslbd cert ca [-dir mep]     make the deployment CA of the metric exchange
  gslbd cert site [-dir mep] [-ip A] NAME   make site NAME's certificate, signed by that CA
  gslbd check ns.conf...       validate; exit 1 on any error
  gslbd fmt [-canonical] ns.conf  print what save would write (-canonical: canonical form only)
`

func logger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	sig := signals()
	defer signal.Stop(sig)
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	printConfig := fs.Bool("print-config", false, "print the demo configuration and exit")
	backendPort := fs.Int("backend-port", daemon.DemoBackendPort, "port of the demo backends on 127.0.0.11-14 (0: a free port each)")
	listen := fs.String("listen", "", "dc1's DNS address instead of 127.0.0.1:5353")
	listen2 := fs.String("listen-dc2", "", "dc2's DNS address instead of 127.0.0.2:5353")
	mepPort := fs.Uint("mep-port", 3009, "the sites' metric exchange port (0: a free one)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *printConfig {
		stdout.Write(daemon.DemoConfig)
		return 0
	}
	if *mepPort > 65535 {
		fmt.Fprintln(stderr, "gslbd: -mep-port must be at most 65535")
		return 2
	}
	dm, err := daemon.StartDemo(daemon.DemoOptions{BackendPort: *backendPort, ListenDC1: *listen, ListenDC2: *listen2,
		MEPPort: uint16(*mepPort), Logger: logger(stderr, *level)})
	if err != nil {
		fmt.Fprintf(stderr, "gslbd: %v (other ports: -backend-port, -mep-port, -listen)\n", err)
		return 1
	}
	defer dm.Close()
	dig := func(d *daemon.Daemon) string {
		host, port, _ := net.SplitHostPort(d.UDPAddr())
		return fmt.Sprintf("dig @%s -p %s +short", host, port)
	}
	dc1, dc2 := dm.Site("dc1"), dm.Site("dc2")
	b := dm.Backends
	fmt.Fprintf(stdout, `gslbd demo is serving DNS on %s (site dc1) and %s (site dc2), UDP and TCP.
The two sites exchange their services' state over MEP (TLS, certificates made at start);
each monitors only its own services (127.0.0.11-14 are the demo backends).
Try, in another terminal:
  %s app.demo.example          # GSLB answer from dc1: round robin over both data centres
  %s app.demo.example          # the same from dc2
  %s storefront.demo.example   # least connection (from the backends' /metrics), source-IP persistence
  %s www.demo.example          # static CNAME into the GSLB name
Break dc2's gateway: dc2's monitor sees it, dc1 learns it over MEP:
  curl http://%s/break
  %s app.demo.example          # only 127.0.0.11 from now on
  curl http://%s/fix
Take all of dc2 down (its gslbd stops, its services fail), then back:
  curl %s/stop
  %s app.demo.example storefront.demo.example   # only dc1's services
  curl %s/start                  # dc1 learns dc2 again (LEARNING, then UP)
  gslbd demo -print-config                         # the ns.conf behind it
Press Ctrl-C to stop.
`, dc1.UDPAddr(), dc2.UDPAddr(), dig(dc1), dig(dc2), dig(dc1), dig(dc1), b.Addr(1), dig(dc1), b.Addr(1),
		dm.ControlURL, dig(dc1), dm.ControlURL)
	for s := range sig {
		if s != syscall.SIGHUP {
			break
		}
	}
	return 0
}

func runServe(args []string, stdout, stderr io.Writer) int {
	sig := signals()
	defer signal.Stop(sig)
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "ns.conf", "configuration file (NetScaler CLI syntax)")
	var listen listFlag
	fs.Var(&listen, "listen", "DNS address(es) host:port, overriding the ADNS services")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	var srv dnsserver.Options
	fs.IntVar(&srv.TCPMaxConns, "tcp-max-conns", 4096, "concurrent TCP connections; at the cap a new one closes the idlest")
	fs.IntVar(&srv.TCPMaxPerSource, "tcp-max-per-source", 100, "concurrent TCP connections from one client address (-1: no cap); more are closed at once")
	fs.DurationVar(&srv.TCPIdleTimeout, "tcp-idle-timeout", 10*time.Second, "close a TCP connection idle this long")
	fs.DurationVar(&srv.TCPIOTimeout, "tcp-io-timeout", 2*time.Second, "time to read the rest of a message or write an answer")
	cookies := fs.Bool("dns-cookies", true, "DNS cookies (RFC 7873, RFC 9018): answer with a server cookie; a client that sends a valid one is never rate limited")
	cookieSecret := fs.String("dns-cookie-secret", "", "file holding the 16-byte server cookie secret in hex, for servers that answer on one address (default: random, replaced every 26 hours)")
	var api apiFlags
	api.register(fs)
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://ADDR/metrics and Go profiles at /debug/pprof/ (host:port; off when empty)")
	nitroCreds := fs.String("nitro-credentials", "", "appliance logins for -loadSource NITRO (default: gslbd-nitro.json beside the configuration, if there)")
	site := fs.String("site", "", "the gslb site this process is (default: the site the file types LOCAL); one file then serves every site")
	locFile := fs.String("location-file", "", "static proximity's location database: a NetScaler location file, or a MaxMind/DB-IP .mmdb (re-read on SIGHUP)")
	locFormat := fs.String("location-format", "", "the location file's format, as add locationFile -format (default netscaler; mmdb for an .mmdb file)")
	handoverPath := fs.String("handover", "", "Unix socket path: take the DNS sockets from the gslbd serving there, if one is, then offer them there to the next (restarts lose no query)")
	runAs := fs.String("user", "", "started as root: run as this user once the listeners are open (no capabilities kept)")
	var tap querylog.Options
	fs.StringVar(&tap.Addr, "dnstap", "", "log every query and response as dnstap to a collector: unix:/path or tcp:host:port (off when empty)")
	fs.StringVar(&tap.Identity, "dnstap-identity", "", "the dnstap identity field (default: the host name)")
	var mo daemon.MEPOptions
	fs.StringVar(&mo.Certs, "mep-certs", "", "directory of the metric exchange's CA and this site's certificate (default: mep/ beside the configuration; `gslbd cert`)")
	mepPort := fs.Uint("mep-port", 3009, "metric exchange TLS port (every site uses the same)")
	plainPort := fs.Uint("mep-plain-port", 3011, "metric exchange plain port (HMAC with -sitePassword, no encryption)")
	fs.BoolVar(&mo.Ports.AllowPlain, "mep-allow-plain", false, "exchange over the plain port instead of TLS: authenticated by -sitePassword, NOT encrypted")
	fs.DurationVar(&mo.Timers.KeepAlive, "mep-keepalive", 0, "keep-alive timeout of site links unless `set gslb parameter -MEPKeepAliveTimeout` is written (default 2s)")
	fs.DurationVar(&mo.Timers.Heartbeat, "mep-heartbeat", 0, "heartbeat interval of site links (default 500ms)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *nitroCreds == "" {
		*nitroCreds = besides(*path, "gslbd-nitro.json")
	}
	if mo.Certs == "" {
		mo.Certs = besides(*path, "mep")
	}
	if *mepPort > 65535 || *plainPort > 65535 {
		fmt.Fprintln(stderr, "gslbd: -mep-port and -mep-plain-port must be at most 65535")
		return 2
	}
	mo.Ports.TLS, mo.Ports.Plain = uint16(*mepPort), uint16(*plainPort)
	if *cookies {
		jar, err := cookieJar(*cookieSecret)
		if err != nil {
			fmt.Fprintf(stderr, "gslbd: -dns-cookie-secret: %v\n", err)
			return 2
		}
		srv.Cookies = jar
	}
	if tap.Addr != "" {
		if _, _, err := querylog.ParseAddr(tap.Addr); err != nil {
			fmt.Fprintf(stderr, "gslbd: -dnstap: %v\n", err)
			return 2
		}
		if tap.Identity == "" {
			tap.Identity, _ = os.Hostname()
		}
		tap.Version = "gslbd " + metrics.Version()
	}
	var pred *handover.Predecessor
	var inherit []handover.Socket
	if *handoverPath != "" {
		var err error
		if pred, inherit, err = handover.Take(*handoverPath); err != nil {
			fmt.Fprintf(stderr, "gslbd: %v\n", err)
			return 1
		}
		if pred != nil {
			defer pred.Abort() // before READY: the old process keeps serving
			fmt.Fprintf(stdout, "gslbd taking %d sockets over from the gslbd at %s\n", len(inherit), *handoverPath)
		}
	}
	d, err := daemon.Start(daemon.Options{ConfigPath: *path, Listen: listen, Logger: logger(stderr, *level), Server: srv,
		NITROCredentials: *nitroCreds, Site: *site, MEP: mo, LocationFile: *locFile, LocationFormat: *locFormat, DNSTap: tap, Inherit: inherit})
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	mh, err := metricsHandler(d)
	if err != nil {
		d.Close()
		fmt.Fprintf(stderr, "gslbd: metrics: %v\n", err)
		return 1
	}
	if *metricsAddr != "" {
		stop, addr, err := serveMetrics(*metricsAddr, mh)
		if err != nil {
			d.Close()
			fmt.Fprintf(stderr, "gslbd: metrics: %v\n", err)
			return 1
		}
		defer stop()
		fmt.Fprintf(stdout, "gslbd metrics on http://%s/metrics\n", addr)
	}
	if api.addr != "" {
		stop, addr, err := serveAPI(api, *path, d, mh, logger(stderr, *level))
		if err != nil {
			d.Close()
			fmt.Fprintf(stderr, "gslbd: API: %v\n", err)
			return 1
		}
		defer stop()
		scheme := "https"
		if api.plainHTTP {
			scheme = "http"
		}
		fmt.Fprintf(stdout, "gslbd NITRO API on %s://%s/nitro/v1/\n", scheme, addr)
	}
	if *runAs != "" {
		if err := dropPrivileges(*runAs); err != nil {
			d.Close()
			fmt.Fprintf(stderr, "gslbd: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "gslbd running as %s (uid %d)\n", *runAs, os.Getuid())
	}
	fmt.Fprintf(stdout, "gslbd serving %s on %v\n", *path, d.Addrs())
	var offer *handover.Offerer
	if *handoverPath != "" {
		if pred != nil {
			if err := pred.Ready(time.Minute); err != nil {
				fmt.Fprintf(stderr, "gslbd: %v\n", err)
			} else {
				fmt.Fprintln(stdout, "gslbd: the old process answered its last query and stopped reading")
			}
		}
		if offer, err = handover.Offer(*handoverPath); err != nil {
			fmt.Fprintf(stderr, "gslbd: %v (restarts with -handover will not take over)\n", err)
		}
	}
	return waitOffering(d, sig, offer, stdout, stderr)
}

// waitOffering serves until SIGINT/SIGTERM (SIGHUP reloads) or until a
// successor at offer (nil: none) has taken the DNS sockets over.
func waitOffering(d *daemon.Daemon, sig chan os.Signal, offer *handover.Offerer, stdout, stderr io.Writer) int {
	var successors chan *handover.Successor // nil: never ready
	if offer != nil {
		defer offer.Close()
		successors = offer.C
	}
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				_ = d.Reload() // logged by the daemon
				continue
			}
			d.Close()
			return 0
		case next := <-successors:
			socks, err := d.Sockets()
			if err == nil {
				err = next.Send(socks)
			}
			for _, so := range socks {
				so.File.Close()
			}
			if err != nil || !next.WaitReady(time.Minute) {
				next.Close()
				fmt.Fprintf(stderr, "gslbd: a successor asked for the sockets and did not start (%v): still serving\n", err)
				continue
			}
			offer.Close()
			d.Drain()
			next.Done()
			fmt.Fprintln(stdout, "gslbd: handed over to the successor; stopping")
			d.Close()
			return 0
		}
	}
}

// cookieJar returns the DNS cookie jar: a random secret, or the one in
// file (32 hex digits; the error never shows the file's content).
func cookieJar(file string) (*cookie.Jar, error) {
	if file == "" {
		return cookie.NewJar(), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(s) != 16 {
		return nil, fmt.Errorf("%s: want 32 hexadecimal digits (16 bytes), as `openssl rand -hex 16` writes", file)
	}
	jar := &cookie.Jar{}
	jar.SetSecret([16]byte(s))
	return jar, nil
}

// metricsHandler serves d's metrics (one registry for both listeners).
func metricsHandler(d *daemon.Daemon) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	err := metrics.Register(reg, d.Monitors(), metrics.Changes{Bounds: daemon.ChangeBounds, Times: d.ChangeTimes, Results: d.ChangeResults},
		metrics.MEP{Links: d.Links, Lag: d.MEPLag}, metrics.DNS{Stats: d.DNSStats(), VServerHits: d.VServerHits, DomainHits: d.DomainHits, Tap: d.DNSTap(), RRL: d.RRL},
		metrics.GSLB{Services: d.ServiceHealth, VServers: d.VServerHealth})
	return metrics.Handler(reg), err
}

// serveMetrics serves /metrics (and profiles) on addr, unauthenticated,
// until stop is called.
func serveMetrics(addr string, h http.Handler) (stop func(), bound net.Addr, err error) {
	l, err := handover.ListenTCP(addr)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	// Profiles for the operator who opened this port (go tool pprof).
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10}
	go srv.Serve(l)
	return func() { srv.Close() }, l.Addr(), nil
}

// signals catches SIGHUP, SIGINT and SIGTERM from the very start, so that a
// SIGHUP during start-up is a reload once serving, not the default exit.
func signals() chan os.Signal {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	return sig
}

func printErr(w io.Writer, err error) {
	if l, ok := nsconf.AsList(err); ok {
		for _, e := range l {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintf(w, "gslbd: %v\n", err)
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: gslbd check ns.conf...")
		return 2
	}
	status := 0
	for _, p := range args {
		ld, err := daemon.LoadFile(p)
		if ld != nil {
			for _, w := range ld.Warnings {
				fmt.Fprintf(stderr, "%s: warning: %s\n", w.Pos, w.Msg)
			}
		}
		if err != nil {
			printErr(stderr, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%d sites, %d services, %d vservers, %d domains, %d zones)\n", p,
			len(ld.Snapshot.Sites), len(ld.Snapshot.Services), len(ld.Snapshot.VServers), ld.Snapshot.Domains.Len(), len(ld.Snapshot.Zones))
	}
	return status
}

func runFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	canonical := fs.Bool("canonical", false, "canonical order only: leave out comments and unmanaged commands, write every value as gslbd does")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: gslbd fmt [-canonical] ns.conf")
		return 2
	}
	ld, err := daemon.LoadFile(fs.Arg(0))
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	write := config.Write
	if *canonical {
		write = config.WriteCanonical
	}
	if err := write(stdout, ld.Config); err != nil {
		fmt.Fprintf(stderr, "gslbd: %v\n", errors.Unwrap(err))
		return 1
	}
	return 0
}
