package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// principal is who a request acts as. Every Verifier call is scoped by
// Account, so another account's resources read as not found.
//
// Today only account credentials exist. Device authentication (Basic with
// the username "token" and an enrollment token or device JWT as password,
// push-protocol.md §4) will add fields here, such as the factor the device
// JWT names, and a branch in authenticate; handlers already receive the
// principal and need not change.
type principal struct {
	Account verify.Sid
}

// deviceUser is the Basic-auth username of the Verify Push SDKs.
const deviceUser = "token"

// authenticate returns the principal of r, or an EAuthenticate error. It is
// the one seam for credentials: HTTP Basic with the Account SID as username
// and the auth token as password, checked by Verifier.Authenticate. It runs
// after routing, so r.PathValue is available for credentials that are bound
// to a path (device JWTs).
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, verify.Errorf(verify.EAuthenticate, "Authentication Error - No credentials provided")
	}
	if user == deviceUser {
		// Device authentication is not served yet.
		return nil, verify.Errorf(verify.EAuthenticate, "Authentication Error - invalid username")
	}
	acct, err := s.Verifier.Authenticate(r.Context(), user, pass)
	if err != nil {
		return nil, err
	}
	return &principal{Account: acct.Sid}, nil
}

// handler is an API handler: it runs only for an authenticated principal.
type handler func(w http.ResponseWriter, r *http.Request, p *principal)

// authed adapts h to http.HandlerFunc, answering 401 (code 20003) when the
// request does not authenticate.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r, p)
	}
}
