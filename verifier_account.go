package verify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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
// API key SID and secret, and returns the account they act for. A right
// auth token that is not kept sealed yet is sealed (sealOnLogin).
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
	v.sealOnLogin(ctx, a, secret)
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

// TokenRole names one of an account's two auth tokens: each is sealed in
// a column of its own, and the role is part of what it is sealed for.
type TokenRole int

const (
	TokenPrimary   TokenRole = iota // the token that signs webhooks
	TokenSecondary                  // the token being rotated in, if any
)

// ErrNoSigningToken is wrapped by SigningToken when the account's primary
// token is kept only as a hash: it was set before migration 0008 and has
// not logged in since (nor been given to serve as VERIFYD_AUTH_TOKEN).
var ErrNoSigningToken = errors.New("verify: the account's auth token is not kept sealed yet; it will be at its next login")

// SigningToken returns the account's primary auth token, the key of the
// X-Twilio-Signature on the webhooks verifyd sends (docs/delivery.md §2.4:
// sign with the primary). When the token is not kept sealed yet the error
// wraps ErrNoSigningToken. The webhook sender must then not send the
// callback unsigned (a receiver that validates would refuse it, and one
// that does not would learn to trust anyone): it counts the attempt as
// failed without sending, so the outbox retries it on the webhook schedule
// (delivery.md §2.5) and a login meanwhile lets it go out signed; at the
// schedule's end it is dropped like any failed delivery. Its log line
// names the account and the remedy (log in once with the primary token,
// or restart serve with it in VERIFYD_AUTH_TOKEN). The token must never
// be logged or returned to a client.
func (v *Verifier) SigningToken(ctx context.Context, account Sid) (string, error) {
	return v.Store.SigningToken(ctx, account)
}

// sealOnLogin keeps the token that just logged in sealed if its role has
// none sealed yet: how accounts made before migration 0008 come to have a
// signing token. Login runs only on a miss of the API's login cache, and
// the Account it read says whether anything is missing, so a sealed
// account costs nothing more and an unsealed one one conditional write. A
// failure is not the login's: the credentials were right, and the next
// login tries again.
func (v *Verifier) sealOnLogin(ctx context.Context, a *Account, token string) {
	role, sealed := TokenPrimary, a.TokenSealed
	if subtle.ConstantTimeCompare(a.TokenHash, HashToken(token)) != 1 {
		role, sealed = TokenSecondary, a.SecondarySealed
	}
	if !sealed {
		_, _ = v.Store.SealToken(ctx, a.Sid, role, token)
	}
}
