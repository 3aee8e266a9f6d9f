package verify

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// AuthToken describes an auth token of an account without the token
// itself: what Twilio's Accounts v1 AuthTokens resources answer.
type AuthToken struct {
	AccountSid Sid
	// DateCreated is when the token was made; DateUpdated when it last
	// changed role (made, or promoted to primary).
	DateCreated time.Time
	DateUpdated time.Time
}

// newAuthToken draws an auth token shaped like Twilio's: 32 lower-case hex
// characters (128 bits), which twilio-go accepts as a credential.
func newAuthToken(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("verify: new auth token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// secondaryNotFound and promoteNotFound are Twilio's answers when there is
// no secondary token to delete or promote: 20404 on the resource's path.
func secondaryNotFound() error { return notFound("/AuthTokens/Secondary") }
func promoteNotFound() error   { return notFound("/AuthTokens/Promote") }

// CreateSecondaryToken makes a new secondary auth token for the account and
// returns it, the one time it can be shown: the store keeps its hash, to
// log in, and the token sealed with the master key, to sign webhooks once
// it is promoted (SigningToken). Both tokens are then valid until one of
// them is promoted or deleted. A secondary token the account had is
// replaced, and stops working: a client that lost the answer to a create
// can create again (Twilio documents no error for this case, and an error
// would only make a retry harder).
func (v *Verifier) CreateSecondaryToken(ctx context.Context, account Sid) (AuthToken, string, error) {
	token, err := newAuthToken(v.Rand)
	if err != nil {
		return AuthToken{}, "", err
	}
	now := v.now()
	if err := v.Store.SetSecondaryToken(ctx, account, HashToken(token), now); err != nil {
		return AuthToken{}, "", err
	}
	// A second write, not one: the store hashes nothing and the Verifier
	// seals nothing. Until it lands the secondary is unsealed, which only
	// matters if it is promoted meanwhile (its first login would seal it).
	if _, err := v.Store.SealToken(ctx, account, TokenSecondary, token); err != nil {
		return AuthToken{}, "", err
	}
	return AuthToken{AccountSid: account, DateCreated: now, DateUpdated: now}, token, nil
}

// DeleteSecondaryToken revokes the account's secondary auth token; 20404
// if it has none.
func (v *Verifier) DeleteSecondaryToken(ctx context.Context, account Sid) error {
	if err := v.Store.DeleteSecondaryToken(ctx, account); err != nil {
		if IsCode(err, ENotFound) {
			return secondaryNotFound()
		}
		return err
	}
	return nil
}

// PromoteSecondaryToken makes the account's secondary auth token its
// primary one; the old primary stops working at once. 20404 if there is no
// secondary token, as Twilio answers. The answer describes the new primary.
func (v *Verifier) PromoteSecondaryToken(ctx context.Context, account Sid) (AuthToken, error) {
	before, err := v.Store.PromoteSecondaryToken(ctx, account)
	if err != nil {
		if IsCode(err, ENotFound) {
			return AuthToken{}, promoteNotFound()
		}
		return AuthToken{}, err
	}
	return AuthToken{AccountSid: account, DateCreated: before.SecondaryCreated, DateUpdated: v.now()}, nil
}

// ListAccounts pages through every account, oldest first: an operator's
// view (verifyd accounts list), which no API route offers.
func (v *Verifier) ListAccounts(ctx context.Context, p Page) ([]*Account, bool, error) {
	return v.Store.ListAccounts(ctx, p)
}

// DeleteAccount deletes an account with everything it owns (verifyd
// accounts remove); its credentials and API keys stop working.
func (v *Verifier) DeleteAccount(ctx context.Context, sid Sid) error {
	if !sid.Valid(PrefixAccount) {
		return Errorf(EParam, "Invalid account SID %q: must be AC followed by 32 hex characters", sid)
	}
	return v.Store.DeleteAccount(ctx, sid)
}
