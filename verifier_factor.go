package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/verifyd/verify/otp"
)

// NewFactor is a factor as returned by create factor: the only time the
// binding (the TOTP secret and its otpauth URI) is shown.
type NewFactor struct {
	*Factor
	// Secret is the base32 TOTP secret and URI its otpauth:// URI; both are
	// empty for push factors, whose binding is their public key.
	Secret string
	URI    string
	// Options are a passkeys factor's WebAuthn creation options.
	Options *PasskeyOptions
}

// Secret sizes: generated secrets have the 160 bits RFC 4226 recommends.
// Supplied secrets need 80 bits: below RFC 4226's 128-bit minimum, but the
// size many existing authenticator enrollments use, and refusing them would
// break migrations from other servers.
const (
	generatedSecretBytes = 20
	minSecretBytes       = 10
)

// CreateFactor creates a TOTP or push factor for an identity, creating the
// entity first if it does not exist.
func (v *Verifier) CreateFactor(ctx context.Context, account, service Sid, identity string, p FactorParams) (*NewFactor, error) {
	return v.createFactor(ctx, account, service, identity, p, nil)
}

// createFactor creates the factor; inTx, if set, runs first inside the
// transaction that inserts it, so that a device's enrollment token is spent
// exactly when its factor is created.
func (v *Verifier) createFactor(ctx context.Context, account, service Sid, identity string, p FactorParams, inTx func(Store) error) (*NewFactor, error) {
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	if !ValidIdentity(identity) {
		return nil, invalidIdentity()
	}
	if p.FriendlyName == nil || *p.FriendlyName == "" {
		if p.FactorType != nil && FactorType(*p.FactorType) == FactorPasskeys {
			// It becomes the user's name in the creation options.
			return nil, missing(EPasskeyName, "friendly_name")
		}
		return nil, missing(EPushParam, "FriendlyName")
	}
	if err := checkLen(EPushParam, "FriendlyName", *p.FriendlyName, MaxFriendlyName); err != nil {
		return nil, err
	}
	if err := checkText(EPushParam, "FriendlyName", *p.FriendlyName, false); err != nil {
		return nil, err
	}
	if p.FactorType == nil || *p.FactorType == "" {
		return nil, missing(EFactorType, "FactorType")
	}
	sid, err := v.newSid(PrefixFactor)
	if err != nil {
		return nil, err
	}
	now := v.now()
	nf := &NewFactor{Factor: &Factor{
		Sid: sid, AccountSid: account, ServiceSid: service, Identity: identity,
		FriendlyName: *p.FriendlyName, Type: FactorType(*p.FactorType), Status: FactorUnverified,
		DateCreated: now, DateUpdated: now,
	}}
	limit := 0
	switch nf.Type {
	case FactorTotp:
		limit = MaxTotpFactors
		if err := v.newTotp(svc, nf, p); err != nil {
			return nil, err
		}
	case FactorPush:
		limit = MaxPushFactors
		if err := v.newPush(nf.Factor, p); err != nil {
			return nil, err
		}
	case FactorPasskeys:
		limit = MaxPasskeyFactors
		c, err := passkeyConfig(svc, p.Passkey)
		if err != nil {
			return nil, err
		}
		nf.Passkey = &PasskeyFactor{Config: c}
	default:
		return nil, Errorf(EFactorType, "Invalid parameter FactorType: must be push, totp or passkeys")
	}
	if p.Metadata != nil {
		if nf.Metadata, err = stringMapParam(EPushParam, "Metadata", *p.Metadata, MaxMetadataLength); err != nil {
			return nil, err
		}
	}
	err = v.Store.Tx(ctx, func(st Store) error {
		if inTx != nil {
			if err := inTx(st); err != nil {
				return err
			}
		}
		e, err := st.FindEntity(ctx, service, identity)
		if IsCode(err, ENotFound) {
			if e, err = v.newEntity(account, service, identity); err != nil {
				return err
			}
			err = st.CreateEntity(ctx, e)
			if IsCode(err, EEntityExists) { // another node created it first
				e, err = st.FindEntity(ctx, service, identity)
			}
		}
		if err != nil {
			return err
		}
		nf.EntitySid = e.Sid
		if nf.Type == FactorPush {
			_, err := st.FindPushFactorByKey(ctx, e.Sid, nf.Push.PublicKey)
			if err == nil {
				return Errorf(EBindingExists, "A factor with this binding already exists")
			}
			if !IsCode(err, ENotFound) {
				return err
			}
		}
		n, err := st.CountFactors(ctx, e.Sid, nf.Type)
		if err != nil {
			return err
		}
		if n >= limit {
			return Errorf(EFactorMax, "Maximum number of %s factors (%d) reached for this entity", nf.Type, limit)
		}
		if err := st.TakeFactorQuota(ctx, e.Sid, MaxFactorCreationsPerDay, v.now()); err != nil {
			return err
		}
		if err := st.CreateFactor(ctx, nf.Factor); err != nil {
			return err
		}
		if nf.Type == FactorPasskeys {
			exclude, err := entityPasskeys(ctx, st, e.Sid)
			if err != nil {
				return err
			}
			nf.Options = newPasskeyOptions(true, nf.Passkey.Config, nf.Sid, exclude)
			nf.Options.UserID, nf.Options.UserName = []byte(e.Sid), nf.FriendlyName
		}
		return v.emit(ctx, st, EventFactorCreated, nf.Factor, nil)
	})
	if err != nil {
		return nil, err
	}
	return nf, nil
}

// newTotp fills in the TOTP part of a new factor: the secret (supplied or
// drawn from Rand) and a config whose unset values fall back to the
// service's Totp settings.
func (v *Verifier) newTotp(svc *Service, nf *NewFactor, p FactorParams) error {
	t := &TotpFactor{Alg: DefaultTotpAlg, CodeLength: svc.Totp.CodeLength, TimeStep: svc.Totp.TimeStep, Skew: svc.Totp.Skew}
	if p.BindingSecret != nil {
		secret, err := otp.DecodeSecret(*p.BindingSecret)
		if err != nil || len(secret) < minSecretBytes {
			return Errorf(EBinding, "Invalid parameter Binding.Secret: must be a base32 secret of at least %d bytes", minSecretBytes)
		}
		t.Secret = secret
	} else {
		secret, err := otp.NewSecret(v.Rand, generatedSecretBytes)
		if err != nil {
			return err
		}
		t.Secret = secret
	}
	if err := applyTotpConfig(t, p.Config); err != nil {
		return err
	}
	nf.Totp = t
	nf.Secret = otp.EncodeSecret(t.Secret)
	nf.URI = otp.URI(svc.Totp.Issuer, nf.FriendlyName, t.Secret, t.params())
	return nil
}

func (t *TotpFactor) params() otp.Params {
	return otp.Params{Alg: t.Alg, Digits: t.CodeLength, Period: t.TimeStep, Skew: t.Skew}
}

// applyTotpConfig checks and applies the Config.* parameters of a TOTP factor.
func applyTotpConfig(t *TotpFactor, c FactorConfig) error {
	if c.Alg != nil {
		if !oneOf(*c.Alg, "sha1", "sha256", "sha512") {
			return Errorf(EFactorConfig, "Invalid parameter Config.Alg: must be sha1, sha256 or sha512")
		}
		t.Alg = *c.Alg
	}
	ints := []struct {
		name   string
		val    *int
		lo, hi int
		dst    *int
	}{
		{"Config.TimeStep", c.TimeStep, 20, 60, &t.TimeStep},
		{"Config.CodeLength", c.CodeLength, 3, 8, &t.CodeLength},
		{"Config.Skew", c.Skew, 0, 2, &t.Skew},
	}
	for _, f := range ints {
		if f.val == nil {
			continue
		}
		if err := checkRange(EFactorConfig, f.name, *f.val, f.lo, f.hi); err != nil {
			return err
		}
		*f.dst = *f.val
	}
	return nil
}

// newPush fills in the push part of a new factor from its binding and config.
func (v *Verifier) newPush(f *Factor, p FactorParams) error {
	if p.BindingAlg != nil && *p.BindingAlg != "ES256" {
		return Errorf(EBinding, "Invalid parameter Binding.Alg: only ES256 is supported")
	}
	if p.BindingPublicKey == nil || *p.BindingPublicKey == "" {
		return missing(EBinding, "Binding.PublicKey")
	}
	der, err := ParsePublicKey(*p.BindingPublicKey)
	if err != nil {
		return err
	}
	cred, err := v.newSid(PrefixCredential)
	if err != nil {
		return err
	}
	f.Push = &PushFactor{PublicKey: der, Alg: "ES256", CredentialSid: cred}
	// Config.AppId is required by Twilio's spec, but the iOS SDK sends it
	// empty when the app has no bundle identifier; an app that works
	// against Twilio must work here, so only its absence is refused.
	if p.Config.AppID == nil {
		return missing(EFactorConfig, "Config.AppId")
	}
	if p.Config.NotificationPlatform == nil || *p.Config.NotificationPlatform == "" {
		return missing(EFactorConfig, "Config.NotificationPlatform")
	}
	if p.Config.SdkVersion == nil || *p.Config.SdkVersion == "" {
		return missing(EFactorConfig, "Config.SdkVersion")
	}
	return applyPushConfig(f.Push, p.Config)
}

// applyPushConfig checks and applies the Config.* parameters of a push
// factor. A platform other than none needs a notification token; with none,
// a token is dropped, since there is nothing to deliver to.
func applyPushConfig(pf *PushFactor, c FactorConfig) error {
	appID, platform, token, sdkVersion := c.AppID, c.NotificationPlatform, c.NotificationToken, c.SdkVersion
	if appID != nil {
		if err := checkLen(EFactorConfig, "Config.AppId", *appID, MaxAppIDLength); err != nil {
			return err
		}
		if err := checkText(EFactorConfig, "Config.AppId", *appID, false); err != nil {
			return err
		}
		pf.AppID = *appID
	}
	if sdkVersion != nil {
		if err := checkLen(EFactorConfig, "Config.SdkVersion", *sdkVersion, 64); err != nil {
			return err
		}
		if err := checkText(EFactorConfig, "Config.SdkVersion", *sdkVersion, false); err != nil {
			return err
		}
		pf.SdkVersion = *sdkVersion
	}
	if platform != nil {
		if !oneOf(*platform, PlatformAPN, PlatformFCM, PlatformNone) {
			return Errorf(EFactorConfig, "Invalid parameter Config.NotificationPlatform: must be apn, fcm or none")
		}
		pf.NotificationPlatform = *platform
	}
	if token != nil {
		n := len(*token)
		if n < MinNotificationToken || n > MaxNotificationToken {
			return Errorf(EFactorConfig, "Invalid parameter Config.NotificationToken: must be %d to %d characters", MinNotificationToken, MaxNotificationToken)
		}
		if err := checkText(EFactorConfig, "Config.NotificationToken", *token, false); err != nil {
			return err
		}
		pf.NotificationToken = *token
	}
	if pf.NotificationPlatform == PlatformNone {
		pf.NotificationToken = ""
	} else if pf.NotificationToken == "" {
		return missing(EFactorConfig, "Config.NotificationToken")
	}
	return nil
}

// ParsePublicKey decodes Binding.PublicKey, the standard base64 of a DER
// SubjectPublicKeyInfo, and checks that it is an ECDSA P-256 key. It
// returns the DER bytes.
func ParsePublicKey(b64 string) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	}
	if err != nil {
		return nil, Errorf(EBinding, "Invalid parameter Binding.PublicKey: not base64")
	}
	if _, err := ecdsaKey(der); err != nil {
		return nil, Errorf(EBinding, "Invalid parameter Binding.PublicKey: must be an ECDSA P-256 public key in DER SubjectPublicKeyInfo form")
	}
	return der, nil
}

func ecdsaKey(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, Errorf(EBinding, "not a P-256 key")
	}
	return pub, nil
}

// Key returns the factor's parsed ECDSA public key.
func (pf *PushFactor) Key() (*ecdsa.PublicKey, error) { return parsedKeys.get(pf.PublicKey) }

// parsedKeys remembers device keys once parsed: every device request checks
// two signatures with its factor's key (its JWT, then its answer), and
// parsing the DER each time was a few percent of a push approval. A parsed
// key is immutable, so one serves every request; the map is emptied when it
// reaches maxParsedKeys, and refills from the next requests.
var parsedKeys = keyMemo{m: make(map[string]*ecdsa.PublicKey)}

const maxParsedKeys = 4096

type keyMemo struct {
	mu sync.Mutex
	m  map[string]*ecdsa.PublicKey
}

func (k *keyMemo) get(der []byte) (*ecdsa.PublicKey, error) {
	k.mu.Lock()
	pub, ok := k.m[string(der)]
	k.mu.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := ecdsaKey(der)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if len(k.m) >= maxParsedKeys {
		clear(k.m)
	}
	k.m[string(der)] = pub
	k.mu.Unlock()
	return pub, nil
}

// verifyFactorSignature checks a push factor's AuthPayload: the standard
// base64 of a DER ECDSA P-256 SHA-256 signature over the factor SID.
func verifyFactorSignature(f *Factor, payload string) bool {
	sig, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	pub, err := f.Push.Key()
	if err != nil {
		return false
	}
	h := sha256.Sum256([]byte(f.Sid))
	return ecdsa.VerifyASN1(pub, h[:], sig)
}
