package config

import (
	"iter"
	"maps"
)

// Index is a read-only map from names to values that a change copies
// cheaply: an edit yields a new Index that shares this one's base map and
// carries the changed keys in a small overlay, folded into a new base once
// it holds more than overMax keys. Snapshots keep their 1,000-domain
// indexes this way, so that a change to one vserver does not copy them.
// The zero V marks a removed key and cannot be stored.
type Index[V comparable] struct {
	base *layer[V]
	over map[string]V // keys changed since base; the zero V: removed
	n    int
}

type layer[V comparable] struct{ m map[string]V }

// Get returns the value for k.
func (x Index[V]) Get(k string) (V, bool) {
	var zero V
	if v, ok := x.over[k]; ok {
		return v, v != zero
	}
	if x.base == nil {
		return zero, false
	}
	v, ok := x.base.m[k]
	return v, ok
}

// Len is the number of keys.
func (x Index[V]) Len() int { return x.n }

// All yields every key and value (in no order).
func (x Index[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		var zero V
		if x.base != nil {
			for k, v := range x.base.m {
				if _, changed := x.over[k]; !changed && !yield(k, v) {
					return
				}
			}
		}
		for k, v := range x.over {
			if v != zero && !yield(k, v) {
				return
			}
		}
	}
}

// Layers returns the base map and the overlay for a lookup on a hot path
// that indexes with string(bytes) (which allocates nothing only as a
// direct map index): the overlay first (a zero value there: absent), then
// the base. Neither may be changed.
func (x Index[V]) Layers() (base, over map[string]V) {
	if x.base == nil {
		return nil, x.over
	}
	return x.base.m, x.over
}

// SameKeys reports whether x and y hold the same keys; cheap when y was
// edited from x (or x from y) without folding.
func (x Index[V]) SameKeys(y Index[V]) bool {
	if x.n != y.n {
		return false
	}
	if x.base != y.base {
		for k := range x.All() {
			if _, ok := y.Get(k); !ok {
				return false
			}
		}
		return true
	}
	for k := range x.over {
		_, a := x.Get(k)
		if _, b := y.Get(k); a != b {
			return false
		}
	}
	for k := range y.over {
		_, a := x.Get(k)
		if _, b := y.Get(k); a != b {
			return false
		}
	}
	return true
}

// IndexEdit collects changes to an Index; Index makes the result.
type IndexEdit[V comparable] struct {
	from Index[V]
	set  map[string]V
}

// Edit starts changing a copy of x (x itself never changes).
func (x Index[V]) Edit() *IndexEdit[V] { return &IndexEdit[V]{from: x, set: map[string]V{}} }

// Get returns the value for k as edited so far.
func (e *IndexEdit[V]) Get(k string) (V, bool) {
	var zero V
	if v, ok := e.set[k]; ok {
		return v, v != zero
	}
	return e.from.Get(k)
}

// Set stores v (not the zero V) under k.
func (e *IndexEdit[V]) Set(k string, v V) { e.set[k] = v }

// Delete removes k.
func (e *IndexEdit[V]) Delete(k string) {
	var zero V
	e.set[k] = zero
}

// Index returns the edited Index; e must not be used after (its edits may
// become the new Index's base).
func (e *IndexEdit[V]) Index() Index[V] {
	var zero V
	x := e.from
	n := x.n
	for k, v := range e.set {
		_, had := x.Get(k)
		if has := v != zero; has != had {
			if has {
				n++
			} else {
				n--
			}
		}
	}
	if x.base == nil && len(x.over) == 0 { // a first build: the edits are the index
		for k, v := range e.set {
			if v == zero {
				delete(e.set, k)
			}
		}
		return Index[V]{base: &layer[V]{m: e.set}, n: len(e.set)}
	}
	if len(x.over)+len(e.set) <= overMax && x.base != nil {
		over := make(map[string]V, len(x.over)+len(e.set))
		maps.Copy(over, x.over)
		maps.Copy(over, e.set)
		return Index[V]{base: x.base, over: over, n: n}
	}
	m := make(map[string]V, n)
	for k, v := range x.All() {
		if _, changed := e.set[k]; !changed {
			m[k] = v
		}
	}
	for k, v := range e.set {
		if v != zero {
			m[k] = v
		}
	}
	return Index[V]{base: &layer[V]{m: m}, n: n}
}

// IndexOf makes an Index of m, which it owns from then on.
func IndexOf[V comparable](m map[string]V) Index[V] {
	return Index[V]{base: &layer[V]{m: m}, n: len(m)}
}
