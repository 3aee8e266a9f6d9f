package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// masterKeys are the master keys a process was given: primary seals and
// derives access tokens; previous still open what they sealed, and still
// accept the tokens they derived, during a rotation.
type masterKeys struct {
	primary  []byte
	previous [][]byte
}

// The labels of the subkeys derived from a master key (subkey): one seals
// secrets at rest, the other signs access tokens.
const (
	sealLabel  = "secrets at rest"
	tokenLabel = "access tokens"
)

// sealing returns the at-rest keys derived from the master keys, for
// sqlstore.Open: the primary's first.
func (k masterKeys) sealing() (primary []byte, previous [][]byte) { return k.derive(sealLabel) }

// tokenKeys returns the access-token keys derived from the master keys,
// for verify.Verifier: the primary's first.
func (k masterKeys) tokenKeys() (primary []byte, previous [][]byte) { return k.derive(tokenLabel) }

// derive returns the subkeys labelled label of the primary and of each
// previous key, in order.
func (k masterKeys) derive(label string) (primary []byte, previous [][]byte) {
	for _, p := range k.previous {
		previous = append(previous, subkey(p, label))
	}
	return subkey(k.primary, label), previous
}

// loadKey returns the primary master key (see loadKeys).
func loadKey(cfg config) ([]byte, error) {
	k, err := loadKeys(cfg)
	return k.primary, err
}

// loadKeys returns the master keys: VERIFYD_SECRET_KEY if set, else the key
// file beside the database, created on first start; plus the previous keys
// of VERIFYD_PREVIOUS_SECRET_KEYS and of the key file's further lines. It
// refuses to make a new key for a database that already exists, since the
// secrets in it could then never be read again.
func loadKeys(cfg config) (masterKeys, error) {
	var (
		k   masterKeys
		err error
	)
	if cfg.SecretKey != "" {
		if k.primary, err = decodeKey(cfg.SecretKey); err != nil {
			return k, err
		}
	} else if k, err = keyFile(cfg.DB); err != nil {
		return k, err
	}
	return withPrevious(k, cfg.PreviousKeys)
}

// withPrevious adds the comma-separated keys of VERIFYD_PREVIOUS_SECRET_KEYS
// to k's previous keys.
func withPrevious(k masterKeys, list string) (masterKeys, error) {
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := decodeKey(s)
		if err != nil {
			return k, fmt.Errorf("VERIFYD_PREVIOUS_SECRET_KEYS: %w", err)
		}
		k.previous = append(k.previous, p)
	}
	return k, nil
}

// keyFilePath is where a SQLite database's master keys are kept.
func keyFilePath(db string) string { return db + ".key" }

// keyFile reads the key file of the SQLite database db, creating it with a
// fresh key if neither it nor the database exists. The file holds one key
// per line, hex or base64: the primary first, then the previous keys that
// still open what they sealed ("verifyd rotate-key --new-key" writes them).
// Blank lines and lines starting with # are ignored; a file of one line, as
// every release before rotation wrote, is a primary key alone.
func keyFile(db string) (masterKeys, error) {
	path := keyFilePath(db)
	b, err := os.ReadFile(path)
	if err == nil {
		return parseKeyFile(path, b)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return masterKeys{}, fmt.Errorf("read key file: %w", err)
	}
	if _, err := os.Stat(db); err == nil {
		return masterKeys{}, fmt.Errorf("database %s exists but its key file %s does not: restore the key file or set VERIFYD_SECRET_KEY", db, path)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return masterKeys{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return masterKeys{}, fmt.Errorf("create key file: %w", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(key)); err != nil {
		f.Close()
		return masterKeys{}, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return masterKeys{}, fmt.Errorf("write key file: %w", err)
	}
	return masterKeys{primary: key}, f.Close()
}

// parseKeyFile reads the keys of a key file.
func parseKeyFile(path string, b []byte) (masterKeys, error) {
	var k masterKeys
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := decodeKey(line)
		if err != nil {
			return k, fmt.Errorf("key file %s, line %d: %w", path, i+1, err)
		}
		if k.primary == nil {
			k.primary = key
		} else {
			k.previous = append(k.previous, key)
		}
	}
	if k.primary == nil {
		return k, fmt.Errorf("key file %s holds no key", path)
	}
	return k, nil
}

// writeKeyFile replaces the key file of db with k, atomically: a new file
// beside it, synced, renamed over the old one, and the directory synced, so
// that a crash leaves the old keys or the new ones, never a torn file.
func writeKeyFile(db string, k masterKeys) error {
	path := keyFilePath(db)
	var b strings.Builder
	b.WriteString("# verifyd master keys: the first seals, the others still open (verifyd rotate-key)\n")
	for _, key := range append([][]byte{k.primary}, k.previous...) {
		b.WriteString(hex.EncodeToString(key) + "\n")
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("write key file: sync directory: %w", err)
		}
	}
	return nil
}

// decodeKey accepts 32 bytes as hex or as standard or URL-safe base64.
func decodeKey(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("the secret key must be 32 bytes, hex or base64 encoded")
}

// subkey derives an independent key for one purpose, so the at-rest
// encryption key and the token MAC key are never the same bytes.
func subkey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("verifyd " + purpose))
	return m.Sum(nil)
}
