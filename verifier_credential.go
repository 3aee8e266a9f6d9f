package verify

import (
	"context"
	"strings"
	"time"
)

// CredentialParams are the parameters of Twilio's Credential create and
// update (Notify v1, Conversations v1), plus verifyd's KeyId and TeamId for
// APNs token mode. nil means "not sent"; on update an empty string clears
// (an empty Certificate turns a certificate credential into a token-mode
// one, given PrivateKey, KeyId and TeamId).
type CredentialParams struct {
	Type         *string
	FriendlyName *string
	Certificate  *string
	PrivateKey   *string
	Sandbox      *bool
	APIKey       *string // Twilio's ApiKey, the legacy GCM/FCM server key: refused
	Secret       *string
	KeyID        *string
	TeamID       *string
}

// secretSent reports whether p changes anything that must be validated
// again: a rename or a Sandbox switch leaves the stored keys as they were,
// so a credential whose certificate expired can still be renamed.
func (p CredentialParams) secretSent() bool {
	return p.Certificate != nil || p.PrivateKey != nil || p.Secret != nil || p.KeyID != nil || p.TeamID != nil
}

// CreatePushCredential validates and stores a new credential of the
// account. Type gcm, and the legacy ApiKey, are refused: nothing can be
// delivered with them any more.
func (v *Verifier) CreatePushCredential(ctx context.Context, account Sid, p CredentialParams) (*PushCredential, error) {
	if p.Type == nil || *p.Type == "" {
		return nil, missing(EParam, "Type")
	}
	// Conversations' own examples send "FcM": match case-insensitively.
	t := CredentialType(strings.ToLower(*p.Type))
	switch t {
	case CredentialAPN, CredentialFCM:
	case "gcm":
		return nil, Errorf(EParam, "Invalid parameter Type: gcm is not supported, Google shut GCM down; create an fcm credential with the service account JSON in Secret")
	default:
		return nil, Errorf(EParam, "Invalid parameter Type: must be apn or fcm")
	}
	sid, err := v.newSid(PrefixPushCredential)
	if err != nil {
		return nil, err
	}
	now := v.now()
	c := &PushCredential{Sid: sid, AccountSid: account, Type: t, Secret: &CredentialSecret{}, DateCreated: now, DateUpdated: now}
	if err := applyCredentialParams(c, p, now); err != nil {
		return nil, err
	}
	if err := v.Store.CreatePushCredential(ctx, c); err != nil {
		return nil, err
	}
	c.Secret = nil
	return c, nil
}

// FetchPushCredential returns one of the account's credentials, without its
// secret; another account's reads as not found.
func (v *Verifier) FetchPushCredential(ctx context.Context, account, sid Sid) (*PushCredential, error) {
	if !sid.Valid(PrefixPushCredential) {
		return nil, credentialNotFound(sid)
	}
	return v.Store.FindPushCredential(ctx, account, sid)
}

// UpdatePushCredential changes what p carries, validating the resulting
// keys as create does when any of them was sent. It reads, merges and
// writes in one transaction that locks the row, so two updates on two nodes
// cannot each keep half of the other's keys.
func (v *Verifier) UpdatePushCredential(ctx context.Context, account, sid Sid, p CredentialParams) (*PushCredential, error) {
	if !sid.Valid(PrefixPushCredential) {
		return nil, credentialNotFound(sid)
	}
	if p.Type != nil {
		return nil, Errorf(EParam, "Invalid parameter Type: a credential's type cannot change")
	}
	var c *PushCredential
	err := v.Store.Tx(ctx, func(st Store) error {
		if _, err := st.FindPushCredential(ctx, account, sid); err != nil {
			return err
		}
		var err error
		if c, err = st.OpenPushCredential(ctx, sid); err != nil {
			return err
		}
		now := v.now()
		if err := applyCredentialParams(c, p, now); err != nil {
			return err
		}
		c.DateUpdated = now
		return st.UpdatePushCredential(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	c.Secret = nil
	return c, nil
}

// DeletePushCredential deletes one of the account's credentials, unless a
// service of the account names it: that is refused (EParam, naming the
// service) rather than leave the service pointing at nothing, which would
// only show later as pushes that never arrive. The check and the delete
// run in one transaction that locks the credential, and a service update
// naming it locks it too (checkServiceCredentials), so neither can slip
// between the other's check and write.
func (v *Verifier) DeletePushCredential(ctx context.Context, account, sid Sid) error {
	if !sid.Valid(PrefixPushCredential) {
		return credentialNotFound(sid)
	}
	return v.Store.Tx(ctx, func(st Store) error {
		if _, err := st.FindPushCredential(ctx, account, sid); err != nil {
			return err
		}
		users, err := st.ServicesUsingCredential(ctx, account, sid)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Errorf(EParam, "Credential %s is in use by service %s: set its Push.ApnCredentialSid or Push.FcmCredentialSid to another credential or to empty first", sid, users[0])
		}
		return st.DeletePushCredential(ctx, account, sid)
	})
}

// ListPushCredentials pages through the account's credentials, oldest
// first, without their secrets.
func (v *Verifier) ListPushCredentials(ctx context.Context, account Sid, p Page) ([]*PushCredential, bool, error) {
	return v.Store.ListPushCredentials(ctx, account, p)
}

// checkServiceCredentials checks the push credential SIDs that p sets on a
// service: each must name a credential of the account, of the type the
// parameter is for. st is the service's transaction; FindPushCredential
// locks the credential there until it commits, so a concurrent delete
// waits and then sees the reference.
func checkServiceCredentials(ctx context.Context, st Store, account Sid, p ServiceParams) error {
	for _, f := range []struct {
		name string
		val  *string
		want CredentialType
	}{
		{"Push.ApnCredentialSid", p.PushApnCredentialSid, CredentialAPN},
		{"Push.FcmCredentialSid", p.PushFcmCredentialSid, CredentialFCM},
	} {
		if f.val == nil || *f.val == "" {
			continue
		}
		c, err := st.FindPushCredential(ctx, account, Sid(*f.val))
		if IsCode(err, ENotFound) {
			return Errorf(EInvalidParam, "Invalid parameter %s: credential %s was not found", f.name, *f.val)
		}
		if err != nil {
			return err
		}
		if c.Type != f.want {
			return Errorf(EInvalidParam, "Invalid parameter %s: credential %s is of type %s, not %s", f.name, *f.val, c.Type, f.want)
		}
	}
	return nil
}

// applyCredentialParams copies what p sent into c (whose Secret is the
// stored one, or empty on create) and validates the result.
func applyCredentialParams(c *PushCredential, p CredentialParams, now time.Time) error {
	if p.APIKey != nil {
		return Errorf(EParam, "Invalid parameter ApiKey: legacy GCM/FCM server keys no longer deliver; send the service account JSON in Secret")
	}
	if p.FriendlyName != nil {
		if err := checkLen(EParam, "FriendlyName", *p.FriendlyName, MaxCredentialFriendlyName); err != nil {
			return err
		}
		if err := checkText(EParam, "FriendlyName", *p.FriendlyName, false); err != nil {
			return err
		}
		c.FriendlyName = *p.FriendlyName
	}
	if p.Sandbox != nil {
		if c.Type != CredentialAPN {
			return Errorf(EParam, "Invalid parameter Sandbox: only an apn credential has one")
		}
		c.Sandbox = *p.Sandbox
	}
	if !p.secretSent() && c.Secret.PrivateKey+c.Secret.ServiceAccount != "" {
		return nil // an update that leaves the keys alone
	}
	setString(&c.Secret.Certificate, p.Certificate)
	setString(&c.Secret.PrivateKey, p.PrivateKey)
	setString(&c.Secret.ServiceAccount, p.Secret)
	setString(&c.KeyID, p.KeyID)
	setString(&c.TeamID, p.TeamID)
	return checkPushCredential(c, now)
}

func credentialNotFound(sid Sid) error { return notFound("/Credentials/" + string(sid)) }
