package monitor

import (
	"testing"
	"time"
)

// TestLatenessHistogram: 1 ms buckets up to 10 s (later ones in the last),
// negative lateness counted as 0; quantiles give the upper bound of the
// bucket where the count passes q of the samples, below counts what
// started less than a bound late.
func TestLatenessHistogram(t *testing.T) {
	var h histogram
	if q := h.quantile(0.5); q != 0 {
		t.Fatalf("empty: p50 %v, want 0", q)
	}
	for _, d := range []time.Duration{-time.Millisecond, 0, 500 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond,
		2 * time.Millisecond, 2 * time.Millisecond, 7 * time.Millisecond, 9 * time.Millisecond, 20 * time.Second} {
		h.add(d)
	}
	if h.n != 10 || h.max != 20*time.Second || h.sum != 20*time.Second+23*time.Millisecond {
		t.Fatalf("n %d, max %v, sum %v; want 10, 20s, 20.023s", h.n, h.max, h.sum)
	}
	want := map[int]uint64{0: 3, 1: 2, 2: 2, 7: 1, 9: 1, 10000: 1}
	for i, c := range h.buckets {
		if c != want[i] {
			t.Fatalf("bucket %d: %d, want %d", i, c, want[i])
		}
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Millisecond}, {0.2, time.Millisecond}, {0.3, 2 * time.Millisecond}, {0.5, 3 * time.Millisecond},
		{0.7, 8 * time.Millisecond}, {0.8, 10 * time.Millisecond}, {0.9, 10001 * time.Millisecond}, {0.99, 10001 * time.Millisecond},
		{1, 20 * time.Second},
	} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("quantile %v: %v, want %v", tc.q, got, tc.want)
		}
	}
	for _, tc := range []struct {
		bound time.Duration
		want  uint64
	}{{0, 0}, {time.Millisecond, 3}, {2 * time.Millisecond, 5}, {10 * time.Millisecond, 9}, {time.Hour, 10}} {
		if got := h.below(tc.bound); got != tc.want {
			t.Errorf("below %v: %d, want %d", tc.bound, got, tc.want)
		}
	}
}
