package nitro

import (
	"net/netip"

	"github.com/gslbd/gslbd/internal/config"
)

// The location database's resources (docs §4.7): location (custom
// ranges, key ipfrom, deleted with ?args=ipto:<ip>), locationparameter (a
// singleton; its load figures come from the backend's Stat), and
// locationfile / locationfile6 (one file each, deleted without a key).
func init() {
	resources["location"] = &resource{group: "location", list: listLocations}
	resources["locationparameter"] = &resource{group: "locationParameter", singleton: true, list: func(c *config.Config, _ string) []obj {
		o := obj{}
		putArgs(o, "locationParameter", &c.LocationParam, "set")
		putDefaults(o, "locationParameter", "set")
		return []obj{o}
	}}
	for _, x := range []struct {
		res, group string
		file       func(c *config.Config) *config.LocationFile
	}{
		{"locationfile", "locationFile", func(c *config.Config) *config.LocationFile { return &c.LocationFile }},
		{"locationfile6", "locationFile6", func(c *config.Config) *config.LocationFile { return &c.LocationFile6 }},
	} {
		resources[x.res] = &resource{group: x.group, keyless: true, list: func(c *config.Config, key string) []obj {
			f := x.file(c)
			if f.Path == "" || key != "" && key != f.Path {
				return nil
			}
			o := row(obj{"Locationfile": f.Path}, x.group, &f.Args, "add")
			putDefaults(o, x.group, "add")
			return []obj{o}
		}}
	}
}

// listLocations lists the custom ranges, those starting at key when set.
func listLocations(c *config.Config, key string) []obj {
	var from netip.Addr
	if key != "" {
		a, err := netip.ParseAddr(key)
		if err != nil {
			return nil
		}
		from = a.Unmap()
	}
	var out []obj
	for _, l := range c.Locations.All() {
		if key != "" && l.From != from {
			continue
		}
		out = append(out, row(obj{"ipfrom": l.From.String(), "ipto": l.To.String(), "preferredlocation": l.Location}, "location", &l.Args, "add"))
	}
	return out
}
