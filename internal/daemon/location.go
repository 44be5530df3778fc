package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/location"
)

// locFiles is what the location database was read from: the
// configuration's add locationFile / locationFile6, or -location-file.
type locFiles struct {
	file, format, file6, format6 string
	custom                       bool // locationParameter -context custom
}

// locState is the location database the daemon read and what show
// locationParameter says of it.
type locState struct {
	from  locFiles
	read  bool // from was read (or tried): a change naming the same files does not read again
	stats map[string]any
}

// wantedLocFiles returns the files a snapshot asks for; -location-file
// replaces the configuration's IPv4 and IPv6 files.
func (d *Daemon) wantedLocFiles(s *config.Snapshot) locFiles {
	if d.opts.LocationFile != "" {
		format := strings.ToLower(d.opts.LocationFormat)
		if format == "" {
			format = "netscaler"
			if strings.HasSuffix(strings.ToLower(d.opts.LocationFile), ".mmdb") {
				format = "mmdb"
			}
		}
		return locFiles{file: d.opts.LocationFile, format: format, custom: s.Locations.Context == "custom"}
	}
	l := s.Locations
	return locFiles{file: l.File, format: l.Format, file6: l.File6, format6: l.Format6, custom: l.Context == "custom"}
}

// updateLocations reads the location files when the snapshot names other
// files than were read, or when force (start, reload: the files may have
// changed), and hands the database to the engine. -location-file that
// does not read is an error (the previous database stays in use); the
// configuration's files that do not read are logged and shown by show
// locationParameter, and static proximity answers by the backup method
// until they read (an appliance's file names /var/netscaler/locdb paths
// that need not exist on this host).
func (d *Daemon) updateLocations(s *config.Snapshot, force bool) error {
	want := d.wantedLocFiles(s)
	if d.loc.read && d.loc.from == want && !force {
		return nil
	}
	if d.opts.LocationFile != "" && s.Locations.File != "" && !d.loc.read {
		d.log.Info("location database from -location-file; the configuration's add locationFile is not read",
			"file", d.opts.LocationFile, "configured", s.Locations.File)
	}
	start := time.Now()
	b := location.Builder{CustomContext: want.custom}
	stats := map[string]any{"databasemode": "Not applicable", "flushing": "Idle", "loading": "Idle", "status": "Idle"}
	if want.file != "" {
		stats["Locationfile"], stats["format"] = want.file, want.format
	}
	if want.file6 != "" {
		stats["Locationfile6"], stats["format6"] = want.file6, want.format6
	}
	var errs []error
	for _, f := range []struct{ path, format, suffix string }{{want.file, want.format, ""}, {want.file6, want.format6, "6"}} {
		if f.path == "" {
			continue
		}
		st, err := readLocationFile(f.path, f.format, &b)
		stats["lines"+f.suffix] = strconv.Itoa(st.Lines)
		stats["errors"+f.suffix] = strconv.Itoa(st.Errors)
		stats["entries"+f.suffix] = strconv.Itoa(st.Entries)
		stats["warnings"+f.suffix] = "0"
		if err != nil {
			errs = append(errs, fmt.Errorf("location file %s: %w", f.path, err))
			continue
		}
		stats["databasemode"] = "File"
		for _, e := range st.FirstErrors {
			d.log.Warn("location file: row skipped", "file", f.path, "err", e)
		}
		d.log.Info("location file read", "file", f.path, "format", f.format, "entries", st.Entries, "errors", st.Errors)
	}
	err := errors.Join(errs...)
	if err != nil && d.opts.LocationFile != "" {
		return err // the previous database stays
	}
	if err != nil {
		d.log.Error("location database: static proximity answers by the backup method for what the file would hold", "err", err)
		stats["status"] = err.Error()
	}
	db := b.Build()
	d.log.Info("location database loaded", "ranges", db.Len(), "overlaps", b.Overlaps, "took", time.Since(start).Round(time.Millisecond))
	d.loc = locState{from: want, read: true, stats: stats}
	if want.file == "" && want.file6 == "" {
		db = nil
	}
	d.engine.SetLocations(db)
	return nil
}

func readLocationFile(path, format string, b *location.Builder) (location.FileStats, error) {
	if format == "mmdb" {
		return location.ReadMMDB(path, b)
	}
	f, err := os.Open(path)
	if err != nil {
		return location.FileStats{}, err
	}
	defer f.Close()
	return location.ReadFile(bufio.NewReaderSize(f, 1<<20), format, b)
}

// locationStatus is show locationParameter's read-only part (NITRO
// locationparameter): the files and what loading them found.
func (d *Daemon) locationStatus() map[string]map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := map[string]any{}
	for k, v := range d.loc.stats {
		f[k] = v
	}
	// custom: the add location ranges; Static: every range static
	// proximity looks up (the files' and the custom ones).
	custom := 0
	if d.current != nil {
		custom = len(d.current.Snapshot.Locations.Custom)
	}
	files := 0
	for _, k := range []string{"entries", "entries6"} {
		if s, ok := f[k].(string); ok {
			n, _ := strconv.Atoi(s)
			files += n
		}
	}
	f["custom"], f["Static"] = strconv.Itoa(custom), strconv.Itoa(files+custom)
	return map[string]map[string]any{"": f}
}
