package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// dropPrivileges makes a process started as root run as the user name
// from now on: its primary group, no supplementary groups, and no
// capabilities. Every thread changes (Go's Setuid and Setgid apply to
// all of them), so no goroutine keeps root. What needs privileges after
// this cannot have them: ping monitors then need ping sockets
// (net.ipv4.ping_group_range), and a reload cannot open a new port
// under 1024. Under systemd, run as the user with AmbientCapabilities
// instead (docs/operations.md).
func dropPrivileges(name string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("-user %s: gslbd is not running as root (it runs as uid %d already)", name, os.Geteuid())
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("-user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil || uid == 0 {
		return fmt.Errorf("-user %s: uid %s gid %s: not an unprivileged user", name, u.Uid, u.Gid)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("-user: setgroups: %v", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("-user: setgid %d: %v", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("-user: setuid %d: %v", uid, err)
	}
	return nil
}
