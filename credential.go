package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"time"
)

// PrefixPushCredential marks a push credential (Twilio's Credential
// resource, CR…), which a service names in Push.ApnCredentialSid or
// Push.FcmCredentialSid. It is not PrefixCredential, the key id of a push
// factor: Twilio uses "credential" for both.
const PrefixPushCredential = "CR"

// CredentialType is the push service a credential sends through.
type CredentialType string

// The credential types verifyd accepts. Twilio also has gcm, which is
// refused: Google shut GCM (and FCM's legacy server keys) down, so such a
// credential could never deliver anything.
const (
	CredentialAPN CredentialType = "apn"
	CredentialFCM CredentialType = "fcm"
)

// MaxCredentialFriendlyName is the longest FriendlyName of a credential.
const MaxCredentialFriendlyName = 64

// DefaultTokenURI is where an FCM service account gets its OAuth tokens
// when its JSON names no token_uri.
const DefaultTokenURI = "https://oauth2.googleapis.com/token"

// PushCredential is an account's credential for APNs or FCM. Everything
// secret is in Secret, which the store seals at rest and opens only for
// the one method that asks for it (the delivery worker's); every other read
// leaves Secret nil, so that a response cannot carry it by mistake.
type PushCredential struct {
	Sid          Sid
	AccountSid   Sid
	FriendlyName string
	Type         CredentialType
	// Sandbox sends APNs notifications to the development environment.
	Sandbox bool
	// KeyID and TeamID are set for an APNs token-mode credential (a .p8
	// signing key): they go into the provider JWT, and are not secret.
	KeyID, TeamID string
	Secret        *CredentialSecret
	DateCreated   time.Time
	DateUpdated   time.Time
}

// CredentialSecret is the secret part of a credential, exactly as it was
// sent (validated, not rewritten). APNs certificate mode: Certificate and
// PrivateKey; APNs token mode: PrivateKey (the .p8 file); FCM:
// ServiceAccount (the JSON key file of a Google service account).
type CredentialSecret struct {
	Certificate    string `json:"certificate,omitempty"`
	PrivateKey     string `json:"private_key,omitempty"`
	ServiceAccount string `json:"service_account,omitempty"`
}

// TokenMode reports whether an APNs credential signs provider JWTs with a
// .p8 key rather than presenting a client certificate.
func (c *PushCredential) TokenMode() bool { return c.Type == CredentialAPN && c.KeyID != "" }

// ServiceAccount is the part of an FCM service-account JSON that sending
// needs.
type ServiceAccount struct {
	ProjectID    string
	ClientEmail  string
	PrivateKeyID string
	PrivateKey   *rsa.PrivateKey
	TokenURI     string // DefaultTokenURI if the JSON names none
}

// ParseServiceAccount checks a service-account JSON and returns what
// sending needs. Messages name the missing or bad field, never a value.
func ParseServiceAccount(s string) (*ServiceAccount, error) {
	var raw struct {
		Type         *string `json:"type"`
		ProjectID    string  `json:"project_id"`
		PrivateKeyID string  `json:"private_key_id"`
		PrivateKey   string  `json:"private_key"`
		ClientEmail  string  `json:"client_email"`
		TokenURI     string  `json:"token_uri"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, Errorf(EParam, "Invalid parameter Secret: must be the JSON key file of a Google service account")
	}
	if raw.Type != nil && *raw.Type != "service_account" {
		return nil, Errorf(EParam, "Invalid parameter Secret: type must be service_account")
	}
	for _, f := range []struct{ name, val string }{
		{"project_id", raw.ProjectID}, {"client_email", raw.ClientEmail}, {"private_key", raw.PrivateKey},
	} {
		if f.val == "" {
			return nil, Errorf(EParam, "Invalid parameter Secret: the service account JSON has no %s", f.name)
		}
	}
	key, err := parsePrivateKey(raw.PrivateKey)
	rk, ok := key.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, Errorf(EParam, "Invalid parameter Secret: private_key must be an RSA private key in PKCS#8 PEM")
	}
	sa := &ServiceAccount{ProjectID: raw.ProjectID, ClientEmail: raw.ClientEmail, PrivateKeyID: raw.PrivateKeyID,
		PrivateKey: rk, TokenURI: raw.TokenURI}
	if sa.TokenURI == "" {
		sa.TokenURI = DefaultTokenURI
	} else if u, err := url.Parse(sa.TokenURI); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, Errorf(EParam, "Invalid parameter Secret: token_uri must be an https URL")
	}
	return sa, nil
}

// parsePrivateKey reads the one PEM block of s as PKCS#8, the format of
// Apple's .p8 files and of Google's service-account keys.
func parsePrivateKey(s string) (any, error) {
	b, rest := pem.Decode([]byte(s))
	if b == nil || b.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errBadPEM
	}
	return x509.ParsePKCS8PrivateKey(b.Bytes)
}

var errBadPEM = errors.New("not one PKCS#8 PEM block")

// checkPushCredential validates c's secret for its type at now: keys that
// parse, a certificate that matches its key and is valid now, an FCM JSON
// with the fields sending needs. The errors are EParam (20001, the code of
// Twilio's own Credential resource), naming the parameter and never
// echoing its value.
func checkPushCredential(c *PushCredential, now time.Time) error {
	s := c.Secret
	if s == nil {
		return missing(EParam, "Secret")
	}
	switch c.Type {
	case CredentialFCM:
		if s.ServiceAccount == "" {
			return missing(EParam, "Secret")
		}
		if s.Certificate != "" || s.PrivateKey != "" || c.KeyID != "" || c.TeamID != "" {
			return Errorf(EParam, "Invalid parameter: an fcm credential takes its key in Secret (the service account JSON) only")
		}
		_, err := ParseServiceAccount(s.ServiceAccount)
		return err
	case CredentialAPN:
		if s.ServiceAccount != "" {
			return Errorf(EParam, "Invalid parameter Secret: an apn credential takes Certificate and PrivateKey, or PrivateKey with KeyId and TeamId")
		}
		if s.PrivateKey == "" {
			return missing(EParam, "PrivateKey")
		}
		if s.Certificate == "" {
			return checkTokenKey(c)
		}
		if c.KeyID != "" || c.TeamID != "" {
			return Errorf(EParam, "Invalid parameter KeyId: a certificate credential takes no KeyId or TeamId (send Certificate empty to use a .p8 key)")
		}
		return checkCertificate(s.Certificate, s.PrivateKey, now)
	}
	return Errorf(EParam, "Invalid parameter Type: must be apn or fcm")
}

// checkTokenKey checks an APNs token-mode credential: a .p8 key (PKCS#8,
// EC P-256) with Apple's 10-character key and team identifiers.
func checkTokenKey(c *PushCredential) error {
	if c.KeyID == "" {
		return missing(EParam, "KeyId")
	}
	if c.TeamID == "" {
		return missing(EParam, "TeamId")
	}
	for _, f := range []struct{ name, val string }{{"KeyId", c.KeyID}, {"TeamId", c.TeamID}} {
		if !appleID(f.val) {
			return Errorf(EParam, "Invalid parameter %s: must be 10 upper-case letters and digits", f.name)
		}
	}
	key, err := parsePrivateKey(c.Secret.PrivateKey)
	ek, ok := key.(*ecdsa.PrivateKey)
	if err != nil || !ok || ek.Curve != elliptic.P256() {
		return Errorf(EParam, "Invalid parameter PrivateKey: must be an APNs .p8 key (PKCS#8 PEM, EC P-256), or a certificate's key with Certificate")
	}
	return nil
}

func appleID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// checkCertificate checks an APNs client certificate (PEM, leaf first,
// chain allowed) against its private key (PKCS#1, PKCS#8 or EC PEM) and
// its validity dates at now.
func checkCertificate(certPEM, keyPEM string, now time.Time) error {
	if b, _ := pem.Decode([]byte(certPEM)); b == nil || b.Type != "CERTIFICATE" {
		return Errorf(EParam, "Invalid parameter Certificate: must be a certificate in PEM")
	}
	if b, _ := pem.Decode([]byte(keyPEM)); b == nil {
		return Errorf(EParam, "Invalid parameter PrivateKey: must be a PEM private key")
	}
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		// Its messages name what is wrong (no match, bad key), not the key.
		return Errorf(EParam, "Invalid parameter PrivateKey: the certificate and private key do not make a pair (%v)", err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return Errorf(EParam, "Invalid parameter Certificate: does not parse")
		}
	}
	if now.Before(leaf.NotBefore) {
		return Errorf(EParam, "Invalid parameter Certificate: not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return Errorf(EParam, "Invalid parameter Certificate: expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
