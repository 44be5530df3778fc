package config

import "strings"

// Table keeps named entities in insertion order with case-insensitive
// lookup (names are case-insensitive in gslbd, as the issue asks).
type Table[T any] struct {
	order []string // lower-cased keys in insertion order
	m     map[string]T
}

func key(name string) string { return strings.ToLower(name) }

// Get returns the entity with this name.
func (t *Table[T]) Get(name string) (T, bool) {
	v, ok := t.m[key(name)]
	return v, ok
}

// Put adds or replaces an entity, keeping its place if it existed.
func (t *Table[T]) Put(name string, v T) {
	if t.m == nil {
		t.m = map[string]T{}
	}
	k := key(name)
	if _, ok := t.m[k]; !ok {
		t.order = append(t.order, k)
	}
	t.m[k] = v
}

// Delete removes an entity.
func (t *Table[T]) Delete(name string) {
	k := key(name)
	if _, ok := t.m[k]; !ok {
		return
	}
	delete(t.m, k)
	for i, o := range t.order {
		if o == k {
			t.order = append(t.order[:i:i], t.order[i+1:]...)
			break
		}
	}
}

// Rename changes an entity's key in place.
func (t *Table[T]) Rename(old, new string, v T) {
	ko, kn := key(old), key(new)
	delete(t.m, ko)
	t.m[kn] = v
	for i, o := range t.order {
		if o == ko {
			t.order[i] = kn
		}
	}
}

// Len returns the number of entities.
func (t *Table[T]) Len() int { return len(t.order) }

// All returns the entities in insertion order.
func (t *Table[T]) All() []T {
	out := make([]T, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, t.m[k])
	}
	return out
}

// Clone returns a shallow copy of the table (entities are shared).
func (t *Table[T]) Clone() Table[T] {
	c := Table[T]{order: append([]string(nil), t.order...), m: make(map[string]T, len(t.m))}
	for k, v := range t.m {
		c.m[k] = v
	}
	return c
}
