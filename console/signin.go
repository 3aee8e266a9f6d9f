package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/verifyd/verify"
)

// signInPage shows the sign-in form with a fresh token for it, kept in a
// cookie of its own: the form has no session yet to carry one.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	http.SetCookie(w, c.cookie(preCookie, token, 0))
	c.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", CSRF: token})
}

// signIn checks the credentials through the API's login (and its throttle
// of failures), starts a session and sends the browser to its services.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	k, err := r.Cookie(preCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(k.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		http.Error(w, "missing or wrong CSRF token: reload the sign-in page", http.StatusForbidden)
		return
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	secret := r.PostFormValue("secret")
	again := view{Title: "Sign in", CSRF: k.Value, Data: struct{ User string }{user}}
	if user == "" || secret == "" {
		again.Error = "Enter an account SID (AC…) or API key SID (SK…) and its secret."
		c.render(w, r, http.StatusBadRequest, "signin", again)
		return
	}
	account, err := c.cfg.SignIn(r, user, secret)
	if err != nil {
		var e *verify.Error
		switch {
		case errors.As(err, &e) && e.Code == verify.ETooManyRequests:
			again.Error = "Too many failed sign-ins from here or for this SID: wait a little and try again."
			c.render(w, r, http.StatusTooManyRequests, "signin", again)
		case errors.As(err, &e) && e.Code != verify.EInternal:
			again.Error = "These credentials were refused."
			c.render(w, r, http.StatusUnauthorized, "signin", again)
		default:
			c.fail(w, r, err)
		}
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		c.sessions.end(old.Value) // a sign-in replaces the browser's session
	}
	se := c.sessions.start(account, user)
	http.SetCookie(w, c.cookie(preCookie, "", -1))
	http.SetCookie(w, c.cookie(cookieName, se.id, 0))
	http.Redirect(w, r, Prefix+"/services", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	c.sessions.end(current(r).id)
	http.SetCookie(w, c.cookie(cookieName, "", -1))
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}
