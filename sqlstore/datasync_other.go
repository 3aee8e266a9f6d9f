//go:build !linux

package sqlstore

import "os"

// datasync flushes f to the disk; fsync where fdatasync is not available.
func datasync(f *os.File) error { return f.Sync() }
