package e2e

import (
	"log/slog"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// start runs a daemon serving conf on 127.0.0.1 (a free port, UDP and TCP).
func start(t *testing.T, conf string) *daemon.Daemon {
	t.Helper()
	return startWith(t, conf, func(*daemon.Options) {})
}

// startWith is start with options changed by opt.
func startWith(t *testing.T, conf string, opt func(*daemon.Options)) *daemon.Daemon {
	t.Helper()
	o := daemon.Options{
		ConfigText: []byte(conf),
		ConfigPath: t.Name() + ".conf",
		Listen:     []string{"127.0.0.1:0"},
		Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	opt(&o)
	d, err := daemon.Start(o)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// addr returns the daemon's address for a transport.
func addr(d *daemon.Daemon, proto string) string {
	if proto == "tcp" {
		return d.TCPAddr()
	}
	return d.UDPAddr()
}
