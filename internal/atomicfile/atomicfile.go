// Package atomicfile replaces files so that a crash, a kill or a full disk
// at any moment leaves either the old or the new content under the name,
// never a mix or a truncated file, and keeps the last versions beside it.
//
// Write follows the sequence that survives power loss on Linux file
// systems: the new content goes to a temporary file in the same directory,
// which is synced; the current file is linked as the newest backup
// (NAME.1, older ones shifting to NAME.2 ... NAME.keep); the temporary file
// is renamed over NAME; the directory is synced so that the rename itself
// is durable. Only the rename changes what NAME holds, and a rename is
// atomic.
//
// One writer per file at a time: callers serialise their saves.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempPrefix starts the names of temporary files, which a later Write
// removes if a crash left them behind.
const tempPrefix = ".tmp-"

// Write replaces the file at path with data, keeping up to keep previous
// versions as path.1 (newest) to path.keep. On error the file and its
// versions are as they were, and no temporary file is left.
func Write(path string, data []byte, perm os.FileMode, keep int) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStale(dir, base)
	f, err := os.CreateTemp(dir, tempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := rotate(path, keep); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: keeping the previous version: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save %s: syncing %s: %w", path, dir, err)
	}
	return nil
}

// Version names the n-th previous version of path (1 is the newest).
func Version(path string, n int) string { return path + "." + strconv.Itoa(n) }

// rotate shifts path.1..path.keep-1 up by one and links the current file
// as path.1. Every step is a rename or a link: a crash between two steps
// loses at most the oldest version, never the current file.
func rotate(path string, keep int) error {
	if keep <= 0 {
		return nil
	}
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil // first save: nothing to keep
	}
	for n := keep - 1; n >= 1; n-- {
		if err := os.Rename(Version(path, n), Version(path, n+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	newest := Version(path, 1)
	if err := os.Remove(newest); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Link(path, newest)
}

// removeStale deletes temporary files of base left by an interrupted Write.
func removeStale(dir, base string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix+base+"-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
