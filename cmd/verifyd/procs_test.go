package main

import (
	"runtime"
	"testing"
)

// TestOneMoreProc: serve and bench run with one P more than the CPUs the
// runtime chose, however often they start in one process, and leave an
// operator's GOMAXPROCS alone.
func TestOneMoreProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	none := func(string) string { return "" }
	oneMoreProc(none)
	oneMoreProc(none)
	if got := runtime.GOMAXPROCS(0); got != defaultProcs+1 {
		t.Errorf("GOMAXPROCS = %d, want %d", got, defaultProcs+1)
	}
	runtime.GOMAXPROCS(defaultProcs)
	oneMoreProc(func(k string) string {
		if k == "GOMAXPROCS" {
			return "7"
		}
		return ""
	})
	if got := runtime.GOMAXPROCS(0); got != defaultProcs {
		t.Errorf("with GOMAXPROCS set, GOMAXPROCS = %d, want it untouched (%d)", got, defaultProcs)
	}
}
