package fcm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The OAuth 2.0 JWT-bearer grant (RFC 7523) is written here on the standard
// library instead of importing golang.org/x/oauth2: its google package pulls
// in cloud.google.com/go/compute/metadata and the external-account code we
// never use, and even its jwt package offers no injected clock and no way to
// drop a token that FCM has just refused with 401. What is left is one RS256
// signature and one form POST.

const (
	// Scope is the only OAuth scope an FCM send needs.
	Scope = "https://www.googleapis.com/auth/firebase.messaging"

	defaultTokenURI = "https://oauth2.googleapis.com/token"
	grantType       = "urn:ietf:params:oauth:grant-type:jwt-bearer"

	// assertionLife is the longest lifetime Google accepts for an assertion.
	assertionLife = time.Hour
	// clockSkew back-dates iat as x/oauth2 does, so that a token endpoint
	// whose clock runs a little behind ours does not see an iat in the future.
	clockSkew = 10 * time.Second
	// refreshEarly is how long before its expiry a cached access token is
	// replaced, so that a send never carries a token that expires in flight.
	refreshEarly = time.Minute
	// tokenTimeout bounds one token request (delivery.md §9). The fetch is
	// shared by every waiting send, so it does not use any one caller's
	// deadline.
	tokenTimeout = 10 * time.Second
)

// serviceAccount is the part of a Google service-account key file we use.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccount checks the key file and decodes its RSA key. Errors
// never quote the file: it holds the private key.
func parseServiceAccount(b []byte) (*serviceAccount, *rsa.PrivateKey, error) {
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, nil, errors.New("fcm: service account: not a JSON object")
	}
	if sa.Type != "" && sa.Type != "service_account" {
		return nil, nil, fmt.Errorf("fcm: service account: type is %q, want service_account", sa.Type)
	}
	switch {
	case sa.ProjectID == "":
		return nil, nil, errors.New("fcm: service account: project_id is missing")
	case sa.ClientEmail == "":
		return nil, nil, errors.New("fcm: service account: client_email is missing")
	case sa.PrivateKey == "":
		return nil, nil, errors.New("fcm: service account: private_key is missing")
	}
	if strings.ContainsAny(sa.ProjectID, "/?#% ") {
		return nil, nil, fmt.Errorf("fcm: service account: project_id %q is not a project ID", sa.ProjectID)
	}
	if sa.TokenURI == "" {
		sa.TokenURI = defaultTokenURI
	}
	if u, err := url.Parse(sa.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, errors.New("fcm: service account: token_uri is not an http(s) URL")
	}
	key, err := parseRSAKey(sa.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	sa.PrivateKey = "" // keep no second copy of the key material
	return &sa, key, nil
}

// parseRSAKey accepts PKCS#8 (what Google issues) and PKCS#1, as x/oauth2
// does.
func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("fcm: service account: private_key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("fcm: service account: private_key is not an RSA key")
		}
		return rk, nil
	}
	if rk, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return rk, nil
	}
	return nil, errors.New("fcm: service account: private_key is neither PKCS#8 nor PKCS#1 RSA")
}

// assertion builds the signed JWT the token endpoint exchanges for an
// access token (delivery.md §7.1).
func assertion(sa *serviceAccount, key *rsa.PrivateKey, now time.Time) (string, error) {
	header := struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid,omitempty"`
	}{"RS256", "JWT", sa.PrivateKeyID}
	iat := now.Add(-clockSkew)
	claims := struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
	}{sa.ClientEmail, Scope, sa.TokenURI, iat.Unix(), iat.Add(assertionLife).Unix()}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("fcm: sign assertion: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenSource caches one access token and shares one fetch among all the
// sends that find the cache empty or stale.
type tokenSource struct {
	sa  *serviceAccount
	key *rsa.PrivateKey
	hc  *http.Client
	now func() time.Time

	mu      sync.Mutex
	tok     string
	refresh time.Time // when tok stops being handed out
	pending *tokenFetch
}

// tokenFetch is one token request in flight; done is closed when tok or
// err is set.
type tokenFetch struct {
	done chan struct{}
	tok  string
	err  error
}

// token returns a cached access token, or waits for a fetch. A caller whose
// ctx ends stops waiting, but the fetch goes on for the others.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.tok != "" && s.now().Before(s.refresh) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil
	}
	f := s.pending
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		s.pending = f
		go s.run(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", &Error{Outcome: Retry, Err: fmt.Errorf("fcm: wait for access token: %w", ctx.Err())}
	}
}

// invalidate drops tok if it is still the cached token, so that of several
// sends refused with the same token only the first causes a new fetch.
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	if s.tok == tok {
		s.tok = ""
	}
	s.mu.Unlock()
}

func (s *tokenSource) run(ctx context.Context, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	start := s.now()
	tok, life, err := s.fetch(ctx, start)
	s.mu.Lock()
	s.pending = nil
	if err == nil {
		early := min(refreshEarly, life/2)
		s.tok, s.refresh = tok, start.Add(life-early)
	}
	s.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// tokenResponse is the token endpoint's answer, success or error (RFC 6749
// §5.1, §5.2).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// fetch performs the JWT-bearer grant. A refused grant (bad key, unknown
// account, clock far off) is Permanent; an unreachable or failing endpoint
// is Retry.
func (s *tokenSource) fetch(ctx context.Context, now time.Time) (string, time.Duration, error) {
	jwt, err := assertion(s.sa, s.key, now)
	if err != nil {
		return "", 0, &Error{Outcome: Permanent, Err: err}
	}
	form := url.Values{"grant_type": {grantType}, "assertion": {jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sa.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &Error{Outcome: Permanent, Err: fmt.Errorf("fcm: token request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", 0, &Error{Outcome: Retry, Err: fmt.Errorf("fcm: token request: %w", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", 0, &Error{Outcome: Retry, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("fcm: token response: %w", err)}
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		e := &Error{Outcome: outcomeByHTTP(resp.StatusCode), HTTPStatus: resp.StatusCode, Status: tr.Error,
			Message: clip(tr.Description), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
		e.Err = fmt.Errorf("fcm: token endpoint answered %s", resp.Status)
		return "", 0, e
	}
	if jsonErr != nil || tr.AccessToken == "" {
		return "", 0, &Error{Outcome: Retry, HTTPStatus: resp.StatusCode, Err: errors.New("fcm: token response has no access_token")}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", 0, &Error{Outcome: Permanent, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("fcm: token type %q is not Bearer", tr.TokenType)}
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 {
		// RFC 6749 makes expires_in optional; Google always sends it. Reuse
		// an unlabelled token for a short while rather than never.
		life = 5 * time.Minute
	}
	return tr.AccessToken, life, nil
}
