package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify"
)

// principal is who a request acts as. Every Verifier call is scoped by
// Account, so another account's resources read as not found.
type principal struct {
	Account verify.Sid
	// Device is the push factor whose key signed the request's device JWT
	// (Basic username "token"); nil for account credentials. A device
	// reaches only its own factor and that factor's challenges.
	Device *verify.Factor
	// EnrollToken is the enrollment access token a device presents to
	// create its factor; Account is then unknown until the token is checked.
	EnrollToken string
	// Key is the API key the request authenticated with (Basic username
	// SK…), empty for the account SID and auth token. It acts for the key's
	// account on every route but the Keys resource.
	Key verify.Sid
}

// access is what credentials a route accepts besides the account's.
type access int

const (
	accountOnly access = iota
	deviceJWT          // the Push SDK's device calls: verify/update/delete factor, challenges
	enrollToken        // create factor with an enrollment access token
)

// deviceUser is the Basic-auth username of the Verify Push SDKs.
const deviceUser = "token"

// authenticate returns the principal of r, or an EAuthenticate error. HTTP
// Basic with the Account SID and auth token, or an API key SID and secret,
// is checked by Verifier.Login; the username "token" carries a device
// credential, accepted only on the routes that allow it. A 401 always
// carries a Date header, from which the Push SDKs correct their clock
// before one retry. Too many failed account or key logins answer 429
// (20429) with Retry-After instead (throttle.go).
func (s *Server) authenticate(r *http.Request, a access) (*principal, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" {
		// An empty secret is never a credential. Without this check an
		// empty enrollment token ("token:") read as no token at all, and
		// create factor went on as account "": a 404 instead of a 401.
		// Such a request guesses nothing, so the throttle does not count it.
		return nil, verify.Errorf(verify.EAuthenticate, "Authentication Error - No credentials provided")
	}
	if user != deviceUser {
		return s.login(r, user, pass)
	}
	switch a {
	case enrollToken:
		return &principal{EnrollToken: pass}, nil
	case deviceJWT:
		f, err := s.Verifier.AuthenticateDevice(r.Context(), pass)
		if err != nil {
			return nil, err
		}
		if err := deviceScope(r, f); err != nil {
			return nil, err
		}
		return &principal{Account: f.AccountSid, Device: f}, nil
	default:
		return nil, verify.Errorf(verify.EAuthenticate, "Authentication Error - device credentials are not accepted for this operation")
	}
}

// login checks the Basic credentials of an account or API key: first the
// throttle of failed logins (throttle.go), which answers for a throttled
// address or SID without looking at the credentials; then the login cache;
// then the store, counting the login against both the address and the SID
// before it looks, and giving the count back unless the credentials were
// wrong.
// A right login marks the address as known for the SID.
func (s *Server) login(r *http.Request, user, pass string) (*principal, error) {
	addr, now := clientAddr(r, s.TrustedProxies), s.now()
	if err := s.throttle.check(r.Context(), addr, user, s.now); err != nil {
		return nil, err
	}
	if acct, ok := s.logins.ok(user, pass, now); ok {
		s.throttle.succeed(addr, user, now)
		return loginPrincipal(user, acct), nil
	}
	// The generation is taken before the store is read: if a key is
	// deleted on this node while Login runs, remember sees another
	// generation and drops what may be the deleted key.
	gen := s.logins.generation()
	held, err := s.throttle.reserve(r.Context(), addr, user, s.now)
	if err != nil {
		return nil, err
	}
	acct, err := s.Verifier.Login(r.Context(), user, pass)
	failed := verify.IsCode(err, verify.EAuthenticate)
	s.throttle.settle(held, failed)
	if failed && s.Metrics != nil {
		s.Metrics.FailedLogin()
	}
	if err != nil {
		return nil, err
	}
	s.logins.remember(user, pass, acct, s.now(), gen)
	s.throttle.succeed(addr, user, now)
	return loginPrincipal(user, acct), nil
}

// SignIn checks an account SID and auth token, or an API key SID and
// secret, for another front end of this server (the console), through
// the API's own login: the same cache, and the same throttle of failed
// logins per address and SID, so that no other door guesses faster.
func (s *Server) SignIn(r *http.Request, user, secret string) (verify.Sid, error) {
	p, err := s.login(r, user, secret)
	if err != nil {
		return "", err
	}
	return p.Account, nil
}

// KeyRevoked drops what the login cache keeps of an API key that another
// front end of this server (the console) revoked, as the API's own delete
// does, so that the key stops working at once on this node.
func (s *Server) KeyRevoked(sid verify.Sid) { s.logins.forget(string(sid)) }

// loginPrincipal is the principal of Basic credentials that user (an
// account SID or an API key SID) proved for account acct.
func loginPrincipal(user string, acct verify.Sid) *principal {
	p := &principal{Account: acct}
	if strings.HasPrefix(user, verify.PrefixAPIKey) {
		p.Key = verify.Sid(user)
	}
	return p
}

// deviceScope refuses a device JWT on a path outside its own factor: another
// service, identity or factor reads as not found, as another account's
// resources do. Challenges are checked against the factor where they are
// loaded.
func deviceScope(r *http.Request, f *verify.Factor) error {
	service := r.PathValue("ServiceSid")
	if service == "" { // GET /v2/Services/{Sid}, the Android SDK's service fetch
		service = r.PathValue("Sid")
	}
	if verify.Sid(service) != f.ServiceSid {
		return verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path)
	}
	if id := r.PathValue("Identity"); id != "" && id != f.Identity {
		return verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path)
	}
	if r.Pattern == "POST "+factorPattern || r.Pattern == "DELETE "+factorPattern {
		if verify.Sid(r.PathValue("Sid")) != f.Sid {
			return verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path)
		}
	}
	return nil
}

// ownChallenge refuses a challenge of another factor to a device.
func ownChallenge(pr *principal, c *verify.Challenge) error {
	if pr.Device != nil && c.FactorSid != pr.Device.Sid {
		return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/Entities/%s/Challenges/%s was not found", c.ServiceSid, c.Identity, c.Sid)
	}
	return nil
}

// handler is an API handler: it runs only for an authenticated principal.
type handler func(w http.ResponseWriter, r *http.Request, p *principal)

// authed adapts h to http.HandlerFunc for a route that accepts account
// credentials only, answering 401 (code 20003) otherwise.
func (s *Server) authed(h handler) http.HandlerFunc { return s.with(accountOnly, h) }

// device adapts h for a route the Push SDK calls with a device JWT.
func (s *Server) device(h handler) http.HandlerFunc { return s.with(deviceJWT, h) }

// enroll adapts h for create factor, which a device calls with an
// enrollment access token.
func (s *Server) enroll(h handler) http.HandlerFunc { return s.with(enrollToken, h) }

func (s *Server) with(a access, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r, a)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.account = p.Account // for the access log
		}
		h(w, r, p)
	}
}

// loginCache remembers account logins that succeeded recently, so that a
// busy backend's every request does not cost a database read and a token
// comparison there. An entry holds the token's SHA-256, compared in constant
// time, so another token is still checked against the database. loginTTL is
// how long a token replaced on another node (a restart with a new
// VERIFYD_AUTH_TOKEN) can still be accepted here.
//
// A revoked credential must never come back. A login that read an API key
// just before another request deleted it would otherwise remember the key
// after forget had run, and the key would work here for loginTTL more. So
// every forget bumps a generation, and remember stores an entry only if the
// generation is still the one its caller read before it read the store: a
// login that overlapped any revocation on this node is simply not cached
// (it is checked against the database next time). The revocations on a
// running node are key deletion (apikey.go) and the auth-token rotation
// endpoints (authtoken.go), each of which calls forget after its write
// commits; a new one must do the same. Account tokens otherwise change only
// when serve starts (PutAccount before the server exists).
type loginCache struct {
	mu  sync.Mutex
	m   map[string]login
	gen atomic.Uint64 // bumped under mu by forget; read without it
}

type login struct {
	hash    [sha256.Size]byte
	account verify.Sid // the account the credentials act for
	until   time.Time
}

const (
	loginTTL       = 10 * time.Second
	maxLoginsCache = 10000 // a bound against a flood of distinct account SIDs
)

// ok returns the account that user and token were last proved for, if
// that was less than loginTTL ago.
func (c *loginCache) ok(user, token string, now time.Time) (verify.Sid, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	l, found := c.m[user]
	c.mu.Unlock()
	if found && now.Before(l.until) && subtle.ConstantTimeCompare(l.hash[:], h[:]) == 1 {
		return l.account, true
	}
	return "", false
}

// generation returns the current generation, to pass to remember after
// reading the store.
func (c *loginCache) generation() uint64 { return c.gen.Load() }

// remember stores a login proved against the store, unless a credential was
// forgotten since gen was read: the store read may predate that revocation.
func (c *loginCache) remember(user, token string, account verify.Sid, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.m == nil || len(c.m) >= maxLoginsCache {
		c.m = make(map[string]login)
	}
	c.m[user] = login{hash: sha256.Sum256([]byte(token)), account: account, until: now.Add(loginTTL)}
}

// forget drops user's entry and bumps the generation, so that a key
// deleted through this node stops working here at once, even for a login
// in flight that read it before the deletion; other nodes stop within
// loginTTL. Call it after the revocation has committed.
func (c *loginCache) forget(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	delete(c.m, user)
}
