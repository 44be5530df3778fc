//go:build !linux

package main

import "errors"

// dropPrivileges is Linux's only.
func dropPrivileges(name string) error { return errors.New("-user: only on Linux") }
