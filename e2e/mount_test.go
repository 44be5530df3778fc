package e2e

import "syscall"

func mountTmpfs(dir string) error {
	return syscall.Mount("gslbd-test", dir, "tmpfs", 0, "size=1m")
}

func remountReadOnly(dir string) error {
	return syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
}

func unmount(dir string) { syscall.Unmount(dir, syscall.MNT_DETACH) }
