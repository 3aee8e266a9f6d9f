package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// TestGCPercentFor: a small live heap may grow to the goal before the
// next collection, within a cap for tiny heaps; a heap that GOGC=100
// lets grow further keeps Go's default.
func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, goal uint64
		want       int
	}{
		{2 * mb, 16 * mb, 700}, // the 1,000,000-factor server's live heap
		{4 * mb, 16 * mb, 300},
		{3 * mb, 16 * mb, 434}, // rounded up
		{8 * mb, 16 * mb, 100}, // at half the goal: Go's default
		{30 * mb, 16 * mb, 100},
		{512 << 10, 16 * mb, maxGCPercent}, // 3,100 % capped
		{0, 16 * mb, maxGCPercent},
	} {
		if got := gcPercentFor(c.live, c.goal); got != c.want {
			t.Errorf("gcPercentFor(%d KB, %d MB) = %d, want %d", c.live>>10, c.goal/mb, got, c.want)
		}
	}
}

// gogc is the GOGC the runtime uses now.
func gogc(t *testing.T) int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("no /gc/gogc:percent")
	}
	return int(s[0].Value.Uint64())
}

// TestGCTuner: collections raise GOGC for this test's small heap to what
// gcPercentFor gives, and an operator's GOGC leaves the collector alone.
func TestGCTuner(t *testing.T) {
	if got := newGCTuner(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	}, 64<<20); got != nil {
		t.Fatal("a tuner started although GOGC was set")
	}
	// Other tests start serve, and with it the process's tuner, which
	// would set GOGC beside this test's: stop it, and start none after.
	processTuner.once.Do(func() {})
	processTuner.t.stop()
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuner := newGCTuner(func(string) string { return "" }, 64<<20)
	defer tuner.stop()
	deadline := time.Now().Add(10 * time.Second)
	for tuner.tuned.Load() == 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs on its own goroutine
	}
	if tuner.tuned.Load() == 0 {
		t.Fatal("no collection tuned GOGC")
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	want := gcPercentFor(s[0].Value.Uint64(), 64<<20)
	got := gogc(t)
	// The live heap moves a little between the tuner's reading and ours,
	// and the tuner leaves a percent within a fifth of the right one.
	if got*5 < want*4 || got*4 > want*5 {
		t.Errorf("GOGC = %d, want about %d for a live heap of %d bytes", got, want, s[0].Value.Uint64())
	}
	if got <= 100 {
		t.Errorf("GOGC = %d: a test's heap is far below 64 MB, so it should be raised", got)
	}
	tuner.stop()
	n := tuner.tuned.Load()
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if tuner.tuned.Load() != n || gogc(t) != 100 {
		t.Errorf("after stop: %d more adjustments, GOGC %d (want none, 100)", tuner.tuned.Load()-n, gogc(t))
	}
}
