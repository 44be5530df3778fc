package daemon

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/location"
)

// loadLocations reads the location database (Options.LocationFile) and
// hands it to the engine; nothing to read is no error. A file that does
// not read leaves the previous database in use.
func (d *Daemon) loadLocations() error {
	path := d.opts.LocationFile
	if path == "" {
		return nil
	}
	format := strings.ToLower(d.opts.LocationFormat)
	if format == "" {
		format = "netscaler"
		if strings.HasSuffix(strings.ToLower(path), ".mmdb") {
			format = "mmdb"
		}
	}
	start := time.Now()
	var b location.Builder
	var st location.FileStats
	var err error
	if format == "mmdb" {
		st, err = location.ReadMMDB(path, &b)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			st, err = location.ReadFile(bufio.NewReaderSize(f, 1<<20), format, &b)
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("location file %s: %w", path, err)
	}
	db := b.Build()
	for _, e := range st.FirstErrors {
		d.log.Warn("location file: row skipped", "file", path, "err", e)
	}
	d.log.Info("location database loaded", "file", path, "format", format, "entries", st.Entries, "errors", st.Errors,
		"overlaps", b.Overlaps, "took", time.Since(start).Round(time.Millisecond))
	d.engine.SetLocations(db)
	return nil
}
