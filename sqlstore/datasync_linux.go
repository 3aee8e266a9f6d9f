package sqlstore

import (
	"os"
	"syscall"
)

// datasync flushes f's data (and the size, which reading it back needs)
// without its other metadata: fdatasync, as SQLite uses on Linux.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
