package config

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

// TestIndexMatchesMap: a chain of random edits (sets, deletes, re-adds,
// through overlay and folds) reads exactly as a plain map edited the same
// way, and every earlier Index keeps reading as it was.
func TestIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type state struct {
		x    Index[*int]
		want map[string]*int
	}
	var history []state
	x, want := IndexOf(map[string]*int{}), map[string]*int{}
	folds := 0
	for step := range 400 {
		e := x.Edit()
		for range 1 + rng.IntN(5) {
			k := fmt.Sprintf("k%d", rng.IntN(150))
			if rng.IntN(3) == 0 {
				e.Delete(k)
				delete(want, k)
			} else {
				v := step
				e.Set(k, &v)
				want[k] = &v
			}
			if got, ok := e.Get(k); ok != (want[k] != nil) || got != want[k] {
				t.Fatalf("step %d: edit reads %s as %v %v", step, k, got, ok)
			}
		}
		before := x.base
		x = e.Index()
		if x.base != before {
			folds++
		}
		history = append(history, state{x, maps.Clone(want)})
		for _, h := range []state{history[len(history)-1], history[rng.IntN(len(history))]} {
			got := maps.Collect(h.x.All())
			if !maps.Equal(got, h.want) || h.x.Len() != len(h.want) {
				t.Fatalf("step %d: index %v (len %d), want %v", step, got, h.x.Len(), h.want)
			}
			for k, v := range h.want {
				if g, ok := h.x.Get(k); !ok || g != v {
					t.Fatalf("step %d: Get(%s)", step, k)
				}
			}
			if _, ok := h.x.Get("absent"); ok {
				t.Fatal("absent key found")
			}
		}
		prev := history[max(0, len(history)-2)]
		sameKeys := len(prev.want) == len(want)
		for k := range want {
			sameKeys = sameKeys && prev.want[k] != nil
		}
		if x.SameKeys(prev.x) != sameKeys || prev.x.SameKeys(x) != sameKeys {
			t.Fatalf("step %d: SameKeys %v, want %v", step, x.SameKeys(prev.x), sameKeys)
		}
	}
	if folds < 5 {
		t.Fatalf("only %d folds: the overlay path was not exercised through folds", folds)
	}
}
