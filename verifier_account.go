package verify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
)

// HashToken returns the stored form of an auth token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Authenticate checks an account SID and auth token, comparing hashes in
// constant time. Every failure, unknown account included, is the same
// EAuthenticate error, so a caller cannot probe which accounts exist.
func (v *Verifier) Authenticate(ctx context.Context, sid, token string) (*Account, error) {
	fail := Errorf(EAuthenticate, "Authentication Error - invalid username")
	if !Sid(sid).Valid(PrefixAccount) {
		return nil, fail
	}
	a, err := v.Store.FindAccount(ctx, Sid(sid))
	if IsCode(err, ENotFound) {
		return nil, fail
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(a.TokenHash, HashToken(token)) != 1 {
		return nil, fail
	}
	return a, nil
}
