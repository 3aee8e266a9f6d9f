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
	"strings"
)

// loadKey returns the 32-byte master key: VERIFYD_SECRET_KEY if set, else
// the key file beside the database, created on first start. It refuses to
// make a new key for a database that already exists, since the secrets in it
// could then never be read again.
func loadKey(cfg config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return decodeKey(cfg.SecretKey)
	}
	path := cfg.DB + ".key"
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if _, err := os.Stat(cfg.DB); err == nil {
		return nil, fmt.Errorf("database %s exists but its key file %s does not: restore the key file or set VERIFYD_SECRET_KEY", cfg.DB, path)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(key)); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	return key, f.Close()
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
