package api

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendDateMatchesMarshalJSON compares the hand-written date with
// date.MarshalJSON over random instants in several zones, years outside
// 0..9999 (rendered by time.Format) and the zero time included.
func TestAppendDateMatchesMarshalJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.FixedZone("CEST", 2*3600), time.FixedZone("odd", -(9*3600 + 30*60 + 17))}
	times := []time.Time{
		{}, time.Unix(0, 0), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 1, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	}
	for range 20000 {
		times = append(times, time.Unix(rng.Int64N(1<<38)-(1<<37), rng.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, z := range zones {
			tz := tm.In(z)
			want, err := dateOf(tz).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if got := appendDate(nil, tz); string(got) != string(want) {
				t.Fatalf("appendDate(%v) = %s, want %s", tz, got, want)
			}
		}
	}
}
