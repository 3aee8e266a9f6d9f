package sqlstore

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestClaim: one server per SQLite file. A second claim fails while the
// first holder has the file open, and succeeds once it has closed it.
func TestClaim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.db")
	a := mustOpenFile(t, path, testKey)
	if err := a.Claim(); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if err := a.Claim(); err != nil {
		t.Fatalf("claiming again what one holds: %v", err)
	}
	b := mustOpenFile(t, path, testKey)
	if err := b.Claim(); !errors.Is(err, ErrInUse) {
		t.Fatalf("second claim: %v, want ErrInUse", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim(); err != nil {
		t.Fatalf("claim after the holder closed: %v", err)
	}
}
