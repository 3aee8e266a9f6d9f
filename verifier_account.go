package verify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// MinAuthTokenLen is the shortest auth token an account may be given. Twilio's
// are 32 hex characters (128 bits); a shorter, chosen token such as "a" would
// fall to online guessing long before any rate limit mattered, and a token is
// stored only as an unsalted SHA-256, so it must carry its own entropy.
const MinAuthTokenLen = 32

// HashToken returns the stored form of an auth token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Login checks HTTP Basic credentials, an account SID and auth token or an
// API key SID and secret, and returns the account they act for.
func (v *Verifier) Login(ctx context.Context, user, secret string) (Sid, error) {
	if strings.HasPrefix(user, PrefixAPIKey) {
		k, err := v.AuthenticateKey(ctx, user, secret)
		if err != nil {
			return "", err
		}
		return k.AccountSid, nil
	}
	a, err := v.Authenticate(ctx, user, secret)
	if err != nil {
		return "", err
	}
	return a.Sid, nil
}

// Authenticate checks an account SID and auth token, comparing hashes in
// constant time. Every failure, unknown account included, is the same
// EAuthenticate error, so a caller cannot probe which accounts exist.
func (v *Verifier) Authenticate(ctx context.Context, sid, token string) (*Account, error) {
	return checkCredential(ctx, sid, PrefixAccount, token, v.Store.FindAccount, accountHashes)
}

// noHash stands for a missing secondary token in the comparison, so that
// the check costs the same with or without one. No token hashes to it.
var noHash = make([]byte, sha256.Size)

// accountHashes returns the hashes an account's token may match: the
// primary, and the secondary while there is one.
func accountHashes(a *Account) [][]byte {
	secondary := a.SecondaryHash
	if secondary == nil {
		secondary = noHash
	}
	return [][]byte{a.TokenHash, secondary}
}

// checkCredential finds the holder of a credential by its SID and compares
// the SHA-256 of secret with each hash it keeps, every one in constant time
// and all of them always. A malformed SID, an unknown one and a wrong
// secret are the same error.
func checkCredential[T any](ctx context.Context, sid, prefix, secret string,
	find func(context.Context, Sid) (T, error), hashes func(T) [][]byte) (T, error) {
	var none T
	fail := Errorf(EAuthenticate, "Authentication Error - invalid username")
	if !Sid(sid).Valid(prefix) {
		return none, fail
	}
	c, err := find(ctx, Sid(sid))
	if IsCode(err, ENotFound) {
		return none, fail
	}
	if err != nil {
		return none, err
	}
	h, match := HashToken(secret), 0
	for _, want := range hashes(c) {
		match |= subtle.ConstantTimeCompare(want, h)
	}
	if match != 1 {
		return none, fail
	}
	return c, nil
}
