package sqlstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/verifyd/verify"
)

// Sealed values. A TOTP secret is stored as
//
//	0x01 ‖ key id (4 bytes) ‖ nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag
//
// with the header (version and key id) and the factor SID as additional
// data: the SID so that a sealed secret copied into another row does not
// open, the header so that it cannot be relabelled. The key id is KeyID of
// the key that sealed it, so opening goes straight to that key, and
// "which rows are still under an old key" is a comparison of the first five
// bytes in SQL (reseal.go).
//
// Values sealed before key rotation existed carry no header: nonce ‖
// ciphertext, with the SID alone as additional data. They stay readable
// without a migration. A random nonce may begin with 0x01 and a known key
// id (one chance in 2^40 per value), so a value that does not open as
// version 1 is tried as such a legacy value, under each key of the ring in
// turn; GCM's tag tells which reading is right. Only legacy values ever
// cost more than one attempt, and a rotation turns them into version 1.

const (
	sealVersion = 0x01
	keyIDLen    = 4
	headerLen   = 1 + keyIDLen
)

// KeyID names a sealing key in the header of the values it seals: the first
// 4 bytes of SHA-256 over a fixed label and the key. It identifies, it does
// not protect: 32 bits reveal nothing useful about a 256-bit key, and a
// collision between two keys of one ring is refused by Open.
func KeyID(key []byte) [keyIDLen]byte {
	h := sha256.New()
	h.Write([]byte("verifyd sealing key id\x00"))
	h.Write(key)
	var id [keyIDLen]byte
	copy(id[:], h.Sum(nil))
	return id
}

// sealKey is one key of a ring, ready to use.
type sealKey struct {
	id     [keyIDLen]byte
	header [headerLen]byte
	aead   cipher.AEAD
}

// keyring is the primary key, which seals, and the keys that still open:
// the previous ones during a rotation, or the next one while every node
// learns it before it becomes primary (README, "Rotating the master key").
type keyring struct {
	primary *sealKey
	all     []*sealKey // primary first
	byID    map[[keyIDLen]byte]*sealKey
}

// newKeyring builds a ring from 32-byte AES-256 keys, the primary first.
// A key given twice counts once.
func newKeyring(primary []byte, others ...[]byte) (*keyring, error) {
	r := &keyring{byID: map[[keyIDLen]byte]*sealKey{}}
	seen := map[[keyIDLen]byte][]byte{}
	for i, k := range append([][]byte{primary}, others...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("secret key %d is %d bytes, want 32", i+1, len(k))
		}
		id := KeyID(k)
		if prev, ok := seen[id]; ok {
			if bytes.Equal(k, prev) {
				continue
			}
			return nil, fmt.Errorf("two secret keys share the key id %x: replace one", id)
		}
		seen[id] = k
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sk := &sealKey{id: id, aead: aead}
		sk.header[0] = sealVersion
		copy(sk.header[1:], id[:])
		r.byID[id] = sk
		r.all = append(r.all, sk)
	}
	r.primary = r.all[0]
	return r, nil
}

// ids lists the ring's key ids, primary first, for messages.
func (r *keyring) ids() string {
	var b bytes.Buffer
	for i, k := range r.all {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(hex.EncodeToString(k.id[:]))
	}
	return b.String()
}

// keyBox holds the ring a store uses. Every copy of a store (one per
// transaction) shares the box, so SetKeys reaches them all at once.
type keyBox struct{ p atomic.Pointer[keyring] }

func (b *keyBox) ring() *keyring { return b.p.Load() }

// SetKeys replaces the keys of a running store: primary seals from now on,
// and primary and others open. A server calls it when its key file changes,
// so that a rotation needs no restart. The new keys must pass CheckKeys
// first, or the store keeps the keys it had and SetKeys wraps ErrWrongKey.
func (db *DB) SetKeys(ctx context.Context, primary []byte, others ...[]byte) error {
	r, err := newKeyring(primary, others...)
	if err != nil {
		return fmt.Errorf("sqlstore: set keys: %w", err)
	}
	if err := db.checkRing(ctx, r); err != nil {
		return err
	}
	db.keys.p.Store(r)
	return nil
}

// PrimaryKeyID is the id of the key that seals.
func (db *DB) PrimaryKeyID() [keyIDLen]byte { return db.keys.ring().primary.id }

// seal encrypts a secret for the factor sid under the primary key.
func (s *store) seal(sid verify.Sid, secret []byte) ([]byte, error) {
	return s.keys.ring().seal(sid, secret)
}

// unseal reverses seal under whichever key of the ring sealed the value; it
// fails if none did or if the SID differs.
func (s *store) unseal(sid verify.Sid, sealed []byte) ([]byte, error) {
	plain, _, err := s.keys.ring().open(sid, sealed)
	return plain, err
}

func (r *keyring) seal(sid verify.Sid, secret []byte) ([]byte, error) {
	if secret == nil {
		return nil, nil
	}
	k := r.primary
	n := k.aead.NonceSize()
	out := make([]byte, headerLen+n, headerLen+n+len(secret)+k.aead.Overhead())
	copy(out, k.header[:])
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[headerLen:], secret, additional(k.header[:], sid)), nil
}

// errNoKey is wrapped by open when no key of the ring opens a value.
var errNoKey = errors.New("no secret key given opens it")

// open returns the plaintext and the key that opened it.
func (r *keyring) open(sid verify.Sid, sealed []byte) ([]byte, *sealKey, error) {
	if sealed == nil {
		return nil, nil, nil
	}
	n, o := r.primary.aead.NonceSize(), r.primary.aead.Overhead()
	if len(sealed) >= headerLen+n+o && sealed[0] == sealVersion {
		var id [keyIDLen]byte
		copy(id[:], sealed[1:headerLen])
		if k := r.byID[id]; k != nil {
			body := sealed[headerLen:]
			if p, err := k.aead.Open(nil, body[:n], body[n:], additional(sealed[:headerLen], sid)); err == nil {
				return p, k, nil
			}
		}
	}
	if len(sealed) < n+o {
		return nil, nil, errors.New("sealed secret too short")
	}
	for _, k := range r.all { // a legacy value: nonce ‖ ciphertext
		if p, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(sid)); err == nil {
			return p, k, nil
		}
	}
	if len(sealed) >= headerLen && sealed[0] == sealVersion {
		return nil, nil, fmt.Errorf("sealed by key id %x: %w (keys given: %s)", sealed[1:headerLen], errNoKey, r.ids())
	}
	return nil, nil, fmt.Errorf("sealed without a key id: %w (keys given: %s)", errNoKey, r.ids())
}

// additional is the GCM additional data of a version 1 value.
func additional(header []byte, sid verify.Sid) []byte {
	return append(append(make([]byte, 0, len(header)+len(sid)), header...), sid...)
}
