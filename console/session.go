package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// Sessions live in the memory of the node that signed them in: a session
// ID is 256 random bits, and nothing of it is stored in the database or
// can be forged from a key. A console behind a load balancer needs sticky
// sessions; a restart signs everyone out, which for an admin console is a
// feature. A session ends after idleTimeout without a request, after
// maxAge in any case, and at sign-out.
const (
	cookieName   = "verifyd_console"
	preCookie    = "verifyd_console_pre" // the sign-in form's CSRF token
	idleTimeout  = 30 * time.Minute
	maxAge       = 12 * time.Hour
	csrfField    = "csrf"
	csrfHeader   = "X-CSRF-Token"
	randomLength = 32
)

// maxSessions bounds the memory sessions take, and maxPerAccount what one
// account may hold of it; variables for the test.
var maxSessions, maxPerAccount = 10000, 100

// session is one signed-in browser.
type session struct {
	id      string
	account verify.Sid
	// user is what signed in: the account SID or an API key SID.
	user    string
	csrf    string
	created time.Time
	seen    time.Time
}

type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]*session{}}
}

func randomToken() string {
	b := make([]byte, randomLength)
	if _, err := rand.Read(b); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// start makes a session for account. Past maxPerAccount sessions of the
// account its own idlest goes, so that one account signing in again and
// again cannot push other accounts' sessions out; past maxSessions in all,
// the idlest of any account goes.
func (s *sessions) start(account verify.Sid, user string) *session {
	now := s.now()
	se := &session{id: randomToken(), account: account, user: user, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	for s.count(account) >= maxPerAccount {
		delete(s.m, s.idlest(account).id)
	}
	for len(s.m) >= maxSessions {
		delete(s.m, s.idlest("").id)
	}
	s.m[se.id] = se
	return se
}

// count returns how many sessions account has; s.mu is held.
func (s *sessions) count(account verify.Sid) int {
	n := 0
	for _, x := range s.m {
		if x.account == account {
			n++
		}
	}
	return n
}

// idlest returns the session of account ("": of any) seen longest ago;
// s.mu is held and there is one.
func (s *sessions) idlest(account verify.Sid) *session {
	var oldest *session
	for _, x := range s.m {
		if (account == "" || x.account == account) && (oldest == nil || x.seen.Before(oldest.seen)) {
			oldest = x
		}
	}
	return oldest
}

// endUser ends every session that user (an API key SID) signed in.
func (s *sessions) endUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.m {
		if x.user == user {
			delete(s.m, id)
		}
	}
}

// expire drops sessions past their time; s.mu is held.
func (s *sessions) expire(now time.Time) {
	for id, x := range s.m {
		if !x.live(now) {
			delete(s.m, id)
		}
	}
}

func (x *session) live(now time.Time) bool {
	return now.Sub(x.seen) < idleTimeout && now.Sub(x.created) < maxAge
}

// get returns the live session of id and marks it seen.
func (s *sessions) get(id string) *session {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.m[id]
	if x == nil {
		return nil
	}
	if !x.live(now) {
		delete(s.m, id)
		return nil
	}
	x.seen = now
	return x
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// cookie is a console cookie: HttpOnly, SameSite=Strict, scoped to the
// console's path, Secure under TLS.
func (c *Console) cookie(name, value string, age time.Duration) *http.Cookie {
	k := &http.Cookie{Name: name, Value: value, Path: Prefix + "/", HttpOnly: true,
		Secure: c.cfg.Secure, SameSite: http.SameSiteStrictMode}
	if age < 0 {
		k.MaxAge = -1
	} else if age > 0 {
		k.MaxAge = int(age.Seconds())
	}
	return k
}

type ctxKey struct{}

// current returns the request's session, set by authed.
func current(r *http.Request) *session {
	se, _ := r.Context().Value(ctxKey{}).(*session)
	return se
}

// authed runs h for a signed-in browser; others go to the sign-in page
// (a page) or get 401 (a script's request). Every POST must carry the
// session's CSRF token, in the form or in X-CSRF-Token: SameSite=Strict
// already keeps other sites' forms from sending the cookie, and the token
// also stops a request from a page of another origin that shares the site.
func (c *Console) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var se *session
		if k, err := r.Cookie(cookieName); err == nil {
			se = c.sessions.get(k.Value)
		}
		if se == nil {
			if r.Method == http.MethodGet && r.Header.Get(csrfHeader) == "" {
				http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostFormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(se.csrf)) != 1 {
				http.Error(w, "missing or wrong CSRF token: reload the page", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, se)))
	}
}
