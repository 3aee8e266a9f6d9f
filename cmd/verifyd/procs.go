package main

import "runtime"

// defaultProcs is GOMAXPROCS as the runtime chose it at start: the CPUs
// this process may use.
var defaultProcs = runtime.GOMAXPROCS(0)

// oneMoreProc gives the scheduler one P more than there are CPUs, unless
// the operator set GOMAXPROCS. On SQLite every acknowledged write waits for
// an fdatasync of the WAL (hundreds of microseconds on a virtual disk), and
// the driver's file I/O and locks are system calls too; the runtime cannot
// tell these from short calls, so the P of a goroutine blocked in one stays
// idle until sysmon takes it back. With one extra P the CPUs keep running
// the other goroutines meanwhile. On the 2-CPU machine of BENCHMARKS.md
// this took push approvals from about 40% of their floor to about 55%, and
// TOTP checks from about 6,000 to 7,500 a second.
func oneMoreProc(getenv func(string) string) {
	if getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(defaultProcs + 1)
}
