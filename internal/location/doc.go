// Package location is the location database of static proximity
// (docs/proximity.md, "Static proximity"): address ranges with six
// qualifiers, loaded from NetScaler's location file formats, MaxMind and
// DB-IP MMDB files and `add location` entries into an immutable structure
// that the answer path searches without allocating.
//
// It imports the standard library and the MMDB reader; nothing of gslbd.
package location
