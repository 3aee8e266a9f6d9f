package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// A verifyd heap is small: 2–8 MB live serving TOTP checks, whether over
// thousands of factors or a million. At Go's default (GOGC=100, a
// collection each time the heap doubles) the collector then runs every few
// megabytes allocated, and a request allocates kilobytes (a page of 50
// factors about 100 KB): in a factor-list run the 16-connection bench
// collected 75 times a second, and each cycle preempts every running
// goroutine (runtime.asyncPreempt was 10 % of the CPU profile). So the
// tuner lets a small heap grow to gcMaxGoal before a collection, which
// GOGC=100 reaches only with 8 MB live; a larger heap runs as it did.
//
// The goal is what bounds the memory this costs. The 1,000,000-factor
// server of BENCHMARKS.md holds about 85 MB outside its heap (the binary,
// SQLite's page caches), and its target is 100 MB in all: with a goal of
// 16 MB it peaked at 97 MB (95 MB without the tuner); with 48 MB at 125 MB.
const gcMaxGoal = 16 << 20

// maxGCPercent caps the percent a tiny live heap would ask for.
const maxGCPercent = 1600

// gcPercentFor is the GOGC that runs the next collection when a heap of
// live bytes has grown to goal bytes, but never sooner than Go's default
// of 100 would.
func gcPercentFor(live, goal uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	if goal <= 2*live {
		return 100
	}
	p := ((goal-live)*100 + live - 1) / live
	if p > maxGCPercent {
		return maxGCPercent
	}
	return int(p)
}

// gcTuner sets GOGC after every collection from the live heap that
// collection found (gcPercentFor). A sentinel object with a finalizer
// hears of each cycle: it is garbage as soon as it is made, so every
// collection finalizes it, and the finalizer makes the next one.
type gcTuner struct {
	goal uint64
	// mu orders adjust and stop, so that no adjustment lands after stop
	// has given GOGC back; percent and stopped are under it.
	mu      sync.Mutex
	percent int
	stopped bool
	sample  []metrics.Sample
	// tuned counts the adjustments made, for tests.
	tuned atomic.Int64
}

// processTuner is the process's one tuner: serve and bench may run more
// than once in a process (the tests do), and one tuner is enough.
var processTuner struct {
	once sync.Once
	t    *gcTuner
}

// startGCTuner tunes GOGC for the rest of the process, unless the operator
// set GOGC: then the collector runs as they said. GOMEMLIMIT, if set,
// still bounds the heap as Go documents.
func startGCTuner(getenv func(string) string) {
	processTuner.once.Do(func() { processTuner.t = newGCTuner(getenv, gcMaxGoal) })
}

// newGCTuner starts a tuner, or returns nil if GOGC is set.
func newGCTuner(getenv func(string) string, goal uint64) *gcTuner {
	if getenv("GOGC") != "" {
		return nil
	}
	t := &gcTuner{goal: goal, percent: 100, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.arm()
	return t
}

type gcSentinel struct{ _ [16]byte }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if t.adjust() {
			t.arm()
		}
	})
}

// adjust sets GOGC for the live heap just measured, and reports whether
// the tuner still runs. Setting GOGC stops the world briefly, so a percent
// within a fifth of the current one is left.
func (t *gcTuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	p := gcPercentFor(t.sample[0].Value.Uint64(), t.goal)
	if p*5 >= t.percent*4 && p*4 <= t.percent*5 {
		return true
	}
	debug.SetGCPercent(p)
	t.percent = p
	t.tuned.Add(1)
	return true
}

// stop ends the tuning and gives GOGC back its default, for tests.
func (t *gcTuner) stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(100)
}
