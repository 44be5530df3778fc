package config

// This file holds static proximity's location database as the
// configuration names it: custom ranges (add/rm location), the
// locationParameter singleton, and the location files (add/rm
// locationFile, locationFile6). The files themselves are read by the
// daemon (internal/daemon/location.go), not here: a configuration change
// does not re-read a database of a million ranges.

import (
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// NetScaler's error codes for custom locations (docs §4.6).
const (
	errLocationQualifiers nserr.Code = 1846 // more than six qualifiers
	errLocationLength     nserr.Code = 1847 // longer than 256 characters
	errLocationCoords     nserr.Code = 1977 // longitude and latitude go together
	errLocationFamily     nserr.Code = 2028 // IPfrom and IPto of different families
	errNoLocation         nserr.Code = 3014 // no such custom location
)

// CustomLocation is `add location <IPfrom> <IPto> <preferredLocation>
// [-longitude] [-latitude]`.
type CustomLocation struct {
	// Name is the table key: the two addresses in canonical form.
	Name     string
	From, To netip.Addr
	// Location holds the qualifiers as given (NA.US.CA."San Jose".*.*).
	Location string
	Args     Args // longitude, latitude
	Pos      nsconf.Pos
}

func (l *CustomLocation) clone() *CustomLocation { x := *l; x.Args = l.Args.clone(); return &x }

func locationKey(from, to netip.Addr) string { return from.String() + " " + to.String() }

// LocationFile is `add locationFile <path> [-format]` (or locationFile6):
// one of each at a time, a new one replacing the one before.
type LocationFile struct {
	Path string
	Args Args // format
	Pos  nsconf.Pos
}

func (f LocationFile) clone() LocationFile { f.Args = f.Args.clone(); return f }

func (f *LocationFile) same(o *LocationFile) bool {
	return f.Path == o.Path && f.Pos == o.Pos && slices.EqualFunc(f.Args.vals, o.Args.vals, sameVal)
}

// LocationInfo is the checked location configuration.
type LocationInfo struct {
	// File and File6 are the paths of the IPv4 and IPv6 location files
	// ("": none), relative ones resolved against the configuration's
	// directory; Format and Format6 their formats.
	File, Format, File6, Format6 string
	// Custom are the custom ranges, in the order added.
	Custom []location.Custom
	// Context and Labels are set locationParameter's -context and
	// -q1label..-q6label (shown, and the qualifiers' names).
	Context string
	Labels  [location.NumQualifiers]string
}

// SameFiles reports whether both name the same files in the same formats.
func (l *LocationInfo) SameFiles(o *LocationInfo) bool {
	return l.File == o.File && l.Format == o.Format && l.File6 == o.File6 && l.Format6 == o.Format6
}

// location applies add/rm location.
func (a *applier) location() *nsconf.Error {
	c, cmd := a.c, a.cmd
	from, err1 := netip.ParseAddr(a.pos("IPfrom"))
	to, err2 := netip.ParseAddr(a.pos("IPto"))
	if err := errors.Join(err1, err2); err != nil {
		return a.errf(nserr.InvalidIP, "location: %v", err)
	}
	from, to = from.Unmap(), to.Unmap()
	name := locationKey(from, to)
	l, ok := c.Locations.Get(name)
	if ok {
		a.owner = l
	}
	if cmd.Spec.Verb == "rm" {
		if !ok {
			return a.errf(errNoLocation, "location %s: no such custom location", name)
		}
		c.Locations.Delete(name)
		return nil
	}
	if ok {
		return a.errf(nserr.Exist, "location %s: already exists", name)
	}
	if from.Is4() != to.Is4() {
		return a.errf(errLocationFamily, "location %s: IPfrom and IPto are of different families", name)
	}
	if to.Less(from) {
		return a.errf(nserr.Inval, "location %s: IPto is below IPfrom", name)
	}
	q := a.pos("preferredLocation")
	if _, err := location.ParseQualifiers(q); err != nil {
		code := nserr.ArgValBad
		switch {
		case len(q) > 256:
			code = errLocationLength
		case strings.Contains(err.Error(), "more than"):
			code = errLocationQualifiers
		}
		return a.errf(code, "location %s: %v", name, err)
	}
	args := a.optArgs()
	if args.Has("longitude") != args.Has("latitude") {
		return a.errf(errLocationCoords, "location %s: -longitude and -latitude go together", name)
	}
	for _, k := range []struct {
		name  string
		limit float64
	}{{"longitude", 180}, {"latitude", 90}} {
		if v, ok := args.Val(k.name); ok {
			x, err := strconv.ParseFloat(v.Values[0], 64)
			if err != nil || x < -k.limit || x > k.limit {
				return &nsconf.Error{Pos: v.Pos, Code: nserr.ArgValBad,
					Msg: "location " + name + ": -" + k.name + " " + strconv.Quote(v.Values[0]) + " is not a number from -" +
						strconv.FormatFloat(k.limit, 'f', -1, 64) + " to " + strconv.FormatFloat(k.limit, 'f', -1, 64)}
			}
		}
	}
	l = &CustomLocation{Name: name, From: from, To: to, Location: q, Args: args, Pos: cmd.Pos}
	c.Locations.Put(name, l)
	a.owner = l
	return nil
}

// locationParameter applies set/unset locationParameter.
func (a *applier) locationParameter() {
	a.owner = locParamKey
	if a.cmd.Spec.Verb == "set" {
		a.merge(&a.c.LocationParam)
	} else {
		a.unset(&a.c.LocationParam)
	}
}

// locationFile applies add/rm locationFile and locationFile6.
func (a *applier) locationFile() *nsconf.Error {
	f, key := &a.c.LocationFile, docKey(locFileKey)
	if a.cmd.Spec.Group == "locationFile6" {
		f, key = &a.c.LocationFile6, locFile6Key
	}
	a.owner = key
	if a.cmd.Spec.Verb == "rm" {
		p := a.pos("Locationfile")
		if f.Path == "" || p != "" && p != f.Path {
			return a.errf(nserr.NoEnt, "%s %s: no such location file", a.cmd.Spec.Group, p)
		}
		*f = LocationFile{}
		return nil
	}
	*f = LocationFile{Path: a.pos("Locationfile"), Args: a.optArgs(), Pos: a.cmd.Pos}
	return nil
}

// locations builds the LocationInfo. dir resolves relative file paths.
func (b *builder) locations() {
	c := b.c
	li := LocationInfo{Context: get(&c.LocationParam, "locationParameter", "context")}
	for i := range li.Labels {
		li.Labels[i] = c.LocationParam.Get("q" + strconv.Itoa(i+1) + "label")
	}
	path := func(p string) string {
		if p == "" || filepath.IsAbs(p) || c.doc == nil {
			return p
		}
		return filepath.Join(filepath.Dir(c.doc.File), p)
	}
	li.File, li.Format = path(c.LocationFile.Path), get(&c.LocationFile.Args, "locationFile", "format")
	li.File6, li.Format6 = path(c.LocationFile6.Path), get(&c.LocationFile6.Args, "locationFile6", "format")
	for _, l := range c.Locations.All() {
		q, _ := location.ParseQualifiers(l.Location) // checked when added
		if li.Context != "custom" {
			location.FillContinent(&q)
		}
		if l.Args.Has("longitude") {
			q.Lon, _ = strconv.ParseFloat(l.Args.Get("longitude"), 64)
			q.Lat, _ = strconv.ParseFloat(l.Args.Get("latitude"), 64)
			q.HasCoords = true
		}
		li.Custom = append(li.Custom, location.Custom{From: l.From, To: l.To, Loc: q})
	}
	b.s.Locations = li
}

// locationArg reads a -location (gslbd's, on sites and services): nil
// when unset or wrong (an error then).
func (b *builder) locationArg(args *Args, what string) *location.Location {
	v, ok := args.Val("location")
	if !ok || len(v.Values) == 0 {
		return nil
	}
	l, err := location.ParseQualifiers(v.Values[0])
	if err != nil {
		b.errf(v.Pos, nserr.ArgValBad, "%s: -location: %v", what, err)
		return nil
	}
	if get(&b.c.LocationParam, "locationParameter", "context") != "custom" {
		location.FillContinent(&l)
	}
	return &l
}

// locationSettings writes set locationParameter and the location files
// (after set gslb parameter, docs §2.3).
func (w *writer) locationSettings(c *Config) {
	if !(w.doc != nil && slices.EqualFunc(c.LocationParam.vals, w.doc.locParam, sameVal) && w.raw(locParamKey, slotMain)) {
		w.putEntity(w.entity("locationParameter", nil, nil, &c.LocationParam, nsconf.Pos{}, false))
	}
	for i, x := range []struct {
		f     *LocationFile
		key   docKey
		group string
	}{{&c.LocationFile, locFileKey, "locationFile"}, {&c.LocationFile6, locFile6Key, "locationFile6"}} {
		if w.doc != nil && x.f.same(&w.doc.locFiles[i]) && w.raw(x.key, slotMain) {
			continue
		}
		if x.f.Path == "" {
			continue
		}
		k := w.key(x.f.Pos)
		text, _ := format("add", x.group, []string{x.f.Path}, nil, x.f.Args.vals, omitUnless(w.doc.line(k)))
		w.add(text, k)
	}
}

// customLocations writes the add location lines (after the DNS records,
// docs §2.3).
func (w *writer) customLocations(c *Config) {
	for _, l := range c.Locations.All() {
		if w.raw(l, slotMain) {
			continue
		}
		w.putEntity(w.entity("location", []string{l.From.String(), l.To.String(), l.Location}, nil, &l.Args, l.Pos, true))
	}
}
