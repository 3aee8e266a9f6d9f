package verify

import (
	"context"
	"fmt"
	"io"
	"time"
)

// APIKey is a revocable credential of an account (Twilio's Key resource,
// SK…): requests authenticate with the key's SID and secret instead of the
// account SID and auth token, so that each application or deployment can
// have its own and lose it alone. It is a Standard key in Twilio's terms:
// it reaches every Verify resource of the account, but it cannot manage
// keys; only the account's own credentials can.
type APIKey struct {
	Sid          Sid
	AccountSid   Sid
	FriendlyName string
	// SecretHash is the SHA-256 of the secret, as for auth tokens: the
	// secret is shown once, when the key is created, and never stored.
	SecretHash  []byte
	DateCreated time.Time
	DateUpdated time.Time
}

// MaxKeyFriendlyName is the longest FriendlyName of a key, as Twilio documents.
const MaxKeyFriendlyName = 64

// secretLength and secretAlphabet make a secret like Twilio's: 32 letters
// and digits, about 190 bits.
const (
	secretLength   = 32
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// newSecret draws a key secret from r without modulo bias: bytes at or
// above the largest multiple of the alphabet's size are drawn again.
func newSecret(r io.Reader) (string, error) {
	const limit = 256 - 256%len(secretAlphabet)
	out := make([]byte, 0, secretLength)
	buf := make([]byte, secretLength)
	for len(out) < secretLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("verify: new key secret: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < secretLength {
				out = append(out, secretAlphabet[int(b)%len(secretAlphabet)])
			}
		}
	}
	return string(out), nil
}

// AuthenticateKey checks an API key SID and secret and returns the key.
// Every failure is the same EAuthenticate error, as for accounts.
func (v *Verifier) AuthenticateKey(ctx context.Context, sid, secret string) (*APIKey, error) {
	return checkCredential(ctx, sid, PrefixAPIKey, secret, v.Store.FindAPIKey, func(k *APIKey) [][]byte { return [][]byte{k.SecretHash} })
}

// CreateAPIKey creates a key for the account and returns it with its
// secret, which nothing can show again.
func (v *Verifier) CreateAPIKey(ctx context.Context, account Sid, friendlyName *string) (*APIKey, string, error) {
	name := ""
	if friendlyName != nil {
		if err := checkLen(EParam, "FriendlyName", *friendlyName, MaxKeyFriendlyName); err != nil {
			return nil, "", err
		}
		if err := checkText(EParam, "FriendlyName", *friendlyName, false); err != nil {
			return nil, "", err
		}
		name = *friendlyName
	}
	sid, err := v.newSid(PrefixAPIKey)
	if err != nil {
		return nil, "", err
	}
	secret, err := newSecret(v.Rand)
	if err != nil {
		return nil, "", err
	}
	now := v.now()
	k := &APIKey{Sid: sid, AccountSid: account, FriendlyName: name, SecretHash: HashToken(secret), DateCreated: now, DateUpdated: now}
	if err := v.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// FetchAPIKey returns one of the account's keys; another account's key
// reads as not found.
func (v *Verifier) FetchAPIKey(ctx context.Context, account, sid Sid) (*APIKey, error) {
	if !sid.Valid(PrefixAPIKey) {
		return nil, keyNotFound(account, sid)
	}
	k, err := v.Store.FindAPIKey(ctx, sid)
	if IsCode(err, ENotFound) || err == nil && k.AccountSid != account {
		return nil, keyNotFound(account, sid)
	}
	return k, err
}

// UpdateAPIKey renames one of the account's keys.
func (v *Verifier) UpdateAPIKey(ctx context.Context, account, sid Sid, friendlyName *string) (*APIKey, error) {
	k, err := v.FetchAPIKey(ctx, account, sid)
	if err != nil {
		return nil, err
	}
	if friendlyName != nil {
		if err := checkLen(EParam, "FriendlyName", *friendlyName, MaxKeyFriendlyName); err != nil {
			return nil, err
		}
		if err := checkText(EParam, "FriendlyName", *friendlyName, false); err != nil {
			return nil, err
		}
		k.FriendlyName = *friendlyName
	}
	k.DateUpdated = v.now()
	if err := v.Store.UpdateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteAPIKey revokes one of the account's keys.
func (v *Verifier) DeleteAPIKey(ctx context.Context, account, sid Sid) error {
	if !sid.Valid(PrefixAPIKey) {
		return keyNotFound(account, sid)
	}
	if err := v.Store.DeleteAPIKey(ctx, account, sid); err != nil {
		if IsCode(err, ENotFound) {
			return keyNotFound(account, sid)
		}
		return err
	}
	return nil
}

// ListAPIKeys pages through the account's keys, oldest first.
func (v *Verifier) ListAPIKeys(ctx context.Context, account Sid, p Page) ([]*APIKey, bool, error) {
	return v.Store.ListAPIKeys(ctx, account, p)
}

func keyNotFound(account, sid Sid) error {
	return notFound("/Accounts/" + string(account) + "/Keys/" + string(sid) + ".json")
}
