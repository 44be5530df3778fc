package config

import (
	"maps"
	"slices"
	"strings"
)

// Entity is what a Table holds: a pointer to a model type that can copy
// itself deeply (its Args and binding slices included).
type Entity[T any] interface {
	comparable
	clone() T
}

// Table keeps named entities in insertion order with case-insensitive
// lookup (names are case-insensitive in gslbd, as the issue asks).
//
// Tables are copy-on-write: Clone shares every entity with the copy, and
// Edit copies an entity into this table before it is changed. So a change
// costs the entities it touches, not the size of the configuration, and an
// entity whose pointer is the same in two tables is unchanged (the
// incremental Build relies on it). Only Edit's result may be modified; Get
// and All return entities that other configurations may share.
type Table[T Entity[T]] struct {
	order []string // lower-cased keys in insertion order
	m     map[string]T
	// own holds the keys whose entity this table created or copied: Edit
	// may change them in place.
	own map[string]bool
	// changed is set by every change since the table was cloned.
	changed bool
	// shared, sharedOrder: m and order are another table's too (after
	// Clone); the first change copies them, so a change that does not
	// touch a table does not copy its 10,000 keys, and an edit keeps the
	// order shared (the incremental Build sees that nothing moved).
	shared, sharedOrder bool
	// over holds the entities edited while m is shared (Get looks here
	// first), so that an edit does not copy the whole index either; Clone
	// folds it into a new index once it holds more than overMax.
	over map[string]T
	// touched are the keys put, edited, deleted or renamed since Clone.
	touched []string
	// rec, while a Document loads, learns every entity a command changes.
	rec *recorder
}

const overMax = 64

// unshare gives the table its own map before a change, and its own order
// too when the change adds, removes or renames.
func (t *Table[T]) unshare(order bool) {
	if t.shared {
		m := maps.Clone(t.m)
		maps.Copy(m, t.over)
		t.m, t.over, t.shared = m, nil, false
	}
	if order && t.sharedOrder {
		t.order, t.sharedOrder = slices.Clone(t.order), false
	}
}

func key(name string) string { return strings.ToLower(name) }

// Get returns the entity with this name, read-only.
func (t *Table[T]) Get(name string) (T, bool) { return t.get(key(name)) }

func (t *Table[T]) get(k string) (T, bool) {
	if v, ok := t.over[k]; ok {
		return v, true
	}
	v, ok := t.m[k]
	return v, ok
}

// Edit returns the entity with this name for changing: a copy private to
// this table, made on the first Edit after a Clone.
func (t *Table[T]) Edit(name string) (T, bool) {
	k := key(name)
	v, ok := t.get(k)
	if !ok {
		return v, false
	}
	if !t.own[k] {
		v = v.clone()
		if t.shared {
			if t.over == nil {
				t.over = map[string]T{}
			}
			t.over[k] = v
		} else {
			t.m[k] = v
		}
		t.mine(k)
		t.touched = append(t.touched, k)
	}
	t.changed = true
	t.rec.note(v)
	return v, true
}

func (t *Table[T]) mine(k string) {
	if t.own == nil {
		t.own = map[string]bool{}
	}
	t.own[k] = true
}

// Put adds or replaces an entity, keeping its place if it existed. The
// table owns v from then on.
func (t *Table[T]) Put(name string, v T) {
	k := key(name)
	_, exists := t.get(k)
	t.unshare(!exists)
	if t.m == nil {
		t.m = map[string]T{}
	}
	if !exists {
		t.order = append(t.order, k)
	}
	t.m[k] = v
	t.mine(k)
	t.touched = append(t.touched, k)
	t.changed = true
	t.rec.note(v)
}

// Delete removes an entity.
func (t *Table[T]) Delete(name string) {
	k := key(name)
	v, ok := t.get(k)
	if !ok {
		return
	}
	t.rec.note(v)
	t.unshare(true)
	delete(t.m, k)
	delete(t.own, k)
	t.touched = append(t.touched, k)
	if i := slices.Index(t.order, k); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
	t.changed = true
}

// Rename changes an entity's key in place; v must come from Edit.
func (t *Table[T]) Rename(old, new string, v T) {
	ko, kn := key(old), key(new)
	t.rec.note(v)
	t.unshare(true)
	t.touched = append(t.touched, ko, kn)
	delete(t.m, ko)
	delete(t.own, ko)
	t.m[kn] = v
	t.mine(kn)
	if i := slices.Index(t.order, ko); i >= 0 {
		t.order[i] = kn
	}
	t.changed = true
}

// Len returns the number of entities.
func (t *Table[T]) Len() int { return len(t.order) }

// All returns the entities in insertion order, read-only.
func (t *Table[T]) All() []T {
	out := make([]T, 0, len(t.order))
	for _, k := range t.order {
		v, _ := t.get(k)
		out = append(out, v)
	}
	return out
}

// Changed reports whether the table changed since it was cloned.
func (t *Table[T]) Changed() bool { return t.changed }

// Clone returns a copy sharing every entity, and the index until one of
// the two changes. Both tables lose ownership: whichever is changed next
// copies the index and the entity it edits. Clone is a change-path
// operation: it must not run while another goroutine clones or edits the
// same table.
func (t *Table[T]) Clone() Table[T] {
	t.own, t.sharedOrder = nil, true
	if len(t.over) > overMax {
		n := Table[T]{order: t.order, sharedOrder: true}
		n.m = maps.Clone(t.m)
		maps.Copy(n.m, t.over)
		return n
	}
	t.shared = true
	return Table[T]{order: t.order, m: t.m, over: maps.Clone(t.over), shared: true, sharedOrder: true}
}
