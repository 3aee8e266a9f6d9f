package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/verifyd/verify/jws"
)

// TokenLifetime is how long one provider token is reused. Apple refuses a
// token older than an hour (403 ExpiredProviderToken) and answers 429
// TooManyProviderTokenUpdates to a team that refreshes more often than every
// 20 minutes; 50 minutes sits inside that window with ten minutes to spare
// for clock skew, and is what sideshow/apns2 uses (3000 s).
const TokenLifetime = 50 * time.Minute

// ParseP8 parses the contents of an APNs auth key file (.p8): a PEM
// "PRIVATE KEY" block holding a PKCS#8 EC P-256 key. Any other key type is
// refused here, at configuration time, rather than as a 403 from APNs.
func ParseP8(p8 []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(p8)
	if block == nil {
		return nil, errors.New("apns: auth key: no PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("apns: auth key: PEM block %q, want PRIVATE KEY (PKCS#8)", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("apns: auth key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("apns: auth key: not an EC P-256 key")
	}
	return ek, nil
}

// providerToken caches the ES256 provider JWT of one (key, team). One token
// is shared by every request of a Client, because Apple counts refreshes per
// team and refuses tokens of several teams on one connection.
type providerToken struct {
	key    *ecdsa.PrivateKey
	keyID  string
	teamID string
	now    func() time.Time

	mu     sync.Mutex
	token  string
	issued time.Time
}

type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type tokenClaims struct {
	Iss string `json:"iss"`
	Iat int64  `json:"iat"`
}

// get returns the cached token, signing a new one when there is none or the
// cached one is TokenLifetime old. Signing happens under the lock so that
// concurrent senders never sign two tokens for the same refresh.
func (p *providerToken) get() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.token != "" && now.Sub(p.issued) < TokenLifetime {
		return p.token, nil
	}
	return p.signLocked(now)
}

// expired is called after APNs answered ExpiredProviderToken to stale. It
// signs a new token only if stale is still the cached one: when many
// requests carrying the same token are refused at once, the team's token is
// refreshed once, not once per request, which would earn a 429
// TooManyProviderTokenUpdates.
func (p *providerToken) expired(stale string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != stale && p.token != "" {
		return p.token, nil
	}
	return p.signLocked(p.now())
}

func (p *providerToken) signLocked(now time.Time) (string, error) {
	tok, err := jws.SignES256(p.key,
		tokenHeader{Alg: "ES256", Kid: p.keyID},
		tokenClaims{Iss: p.teamID, Iat: now.Unix()})
	if err != nil {
		return "", fmt.Errorf("apns: sign provider token: %w", err)
	}
	p.token, p.issued = tok, now
	return tok, nil
}
