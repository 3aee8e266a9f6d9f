package console

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/verifyd/verify"
)

// TOTP enrollment: a form creates a TOTP factor for an identity, the answer
// shows its secret, otpauth URI and a QR code of the URI, and a second form
// verifies the factor with a code from the authenticator app.
func (c *Console) totpRoutes(m *http.ServeMux) {
	const totp = Prefix + "/services/{ServiceSid}/entities/{Identity}/totp"
	m.HandleFunc("GET "+totp, c.authed(c.totpPage))
	m.HandleFunc("POST "+totp, c.authed(c.totpCreate))
	m.HandleFunc("POST "+totp+"/{FactorSid}/verify", c.authed(c.totpVerify))
}

// totpView is the TOTP page's data. It is the create form until a factor
// exists; then the verify form of FactorSid, with the secret, URI and QR
// code of Created on the one answer that can show them.
type totpView struct {
	Service    *verify.Service
	Identity   string
	EntityPath string
	Path       string // this page: the create form's action, the verify form's base
	Name       string // the friendly name typed, kept when the create is refused
	Created    *verify.NewFactor
	QR         template.URL // data: URL of the PNG; empty if the URI did not fit a QR code
	FactorSid  verify.Sid
}

func newTotpView(s *verify.Service, identity string) totpView {
	p := entityPath(s.Sid, identity)
	return totpView{Service: s, Identity: identity, EntityPath: p, Path: p + "/totp"}
}

func totpPageView(d totpView) view {
	return view{Title: "TOTP: " + d.Identity, Nav: "services", Data: d}
}

// totpPage shows the create form. The entity need not exist: CreateFactor
// creates it, as the API's create factor does. An identity that could
// never exist is not found.
func (c *Console) totpPage(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	identity := r.PathValue("Identity")
	if !verify.ValidIdentity(identity) {
		c.render(w, r, http.StatusNotFound, "notfound", view{Title: "Not found"})
		return
	}
	c.render(w, r, http.StatusOK, "totp", totpPageView(newTotpView(s, identity)))
}

// totpCreate creates the factor and shows its secret on the answer itself,
// not after a redirect: the API returns the secret only from create, and
// no later page could show it.
func (c *Console) totpCreate(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	d := newTotpView(s, r.PathValue("Identity"))
	d.Name = strings.TrimSpace(r.PostFormValue("friendly_name"))
	typ := string(verify.FactorTotp)
	nf, err := c.cfg.Verifier.CreateFactor(r.Context(), current(r).account, s.Sid, d.Identity,
		verify.FactorParams{FriendlyName: &d.Name, FactorType: &typ})
	if err != nil {
		c.problem(w, r, err, "totp", totpPageView(d))
		return
	}
	d.Created, d.FactorSid = nf, nf.Sid
	// The factor exists now and its secret is on no other page: a QR code
	// that fails is logged, and the page still shows the secret and URI.
	if d.QR, err = qrDataURL(nf.URI); err != nil {
		c.cfg.Logger.Error("console: totp qr", "factor", nf.Sid, "err", err)
	}
	c.render(w, r, http.StatusCreated, "totp", totpPageView(d))
}

// totpVerify checks a code from the app through UpdateFactor, with the
// API's limit of wrong codes. A right code goes to the entity page, which
// shows the factor verified; a wrong one is not an error of the Verifier
// (the factor just stays unverified) and gets the verify form again.
func (c *Console) totpVerify(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	d := newTotpView(s, r.PathValue("Identity"))
	d.FactorSid = verify.Sid(r.PathValue("FactorSid"))
	code := strings.TrimSpace(r.PostFormValue("code"))
	f, err := c.cfg.Verifier.UpdateFactor(r.Context(), current(r).account, s.Sid, d.Identity, d.FactorSid,
		verify.FactorUpdate{AuthPayload: &code})
	switch {
	case verify.IsCode(err, verify.ENotFound):
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
	case err != nil:
		c.problem(w, r, err, "totp", totpPageView(d))
	case f.Status != verify.FactorVerified:
		v := totpPageView(d)
		v.Error = fmt.Sprintf("Wrong code: the factor is still unverified (%d of %d tries used). Type the code the app shows now.",
			f.FailedAttempts, verify.MaxFactorAttempts)
		c.render(w, r, http.StatusBadRequest, "totp", v)
	default:
		http.Redirect(w, r, entityPath(s.Sid, d.Identity), http.StatusSeeOther)
	}
}
