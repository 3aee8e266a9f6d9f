//go:build !unix

package sqlstore

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// lockFile is not implemented off Unix: there Claim takes no lock, and
// running two servers on one file is the operator's mistake to avoid.
func lockFile(*os.File) error { return nil }
