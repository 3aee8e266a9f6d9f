package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
)

const pageSize = 50

// cursorParam reads a keyset position from the query ("unix.SID"), as the
// list links write it.
func cursorParam(q url.Values, name string) *verify.Cursor {
	v := q.Get(name)
	unix, sid, ok := strings.Cut(v, ".")
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(unix, 10, 64)
	if err != nil || !verify.Sid(sid).Valid(sid[:min(2, len(sid))]) {
		return nil
	}
	return &verify.Cursor{Time: unixTime(n), Sid: verify.Sid(sid)}
}

// listPage is the page a list link asks for: after a cursor (next) or
// before one (previous), pageSize at a time.
func listPage(r *http.Request) verify.Page {
	q := r.URL.Query()
	return verify.Page{Size: pageSize, After: cursorParam(q, "after"), Before: cursorParam(q, "before")}
}

// pager holds the links of a list page: empty when there is nothing that
// way.
type pager struct {
	Prev, Next string
}

// newPager builds the links around items, the page read with p, given
// whether more lay beyond it in the direction read. position writes an
// item's place in the list as the page's cursor parameter reads it.
func newPager[T any](base string, p verify.Page, items []T, more bool, position func(T) string) pager {
	var pg pager
	if len(items) == 0 {
		return pg
	}
	backward := p.Before != nil
	if backward || more {
		pg.Next = withQuery(base, "after", position(items[len(items)-1]))
	}
	if backward && more || !backward && p.After != nil {
		pg.Prev = withQuery(base, "before", position(items[0]))
	}
	return pg
}

// inSeconds is a list position as cursorParam reads it: "unix.SID".
func inSeconds(t time.Time, sid verify.Sid) string {
	return strconv.FormatInt(t.Unix(), 10) + "." + string(sid)
}

func (c *Console) servicesPage(w http.ResponseWriter, r *http.Request) {
	c.renderServices(w, r, http.StatusOK, "")
}

// renderServices renders the services page with status and, when the
// Verifier refused a create, its message.
func (c *Console) renderServices(w http.ResponseWriter, r *http.Request, status int, problem string) {
	p := listPage(r)
	items, more, err := c.cfg.Verifier.ListServices(r.Context(), current(r).account, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := view{Title: "Services", Nav: "services", Error: problem, Data: struct {
		Services []*verify.Service
		Pager    pager
	}{items, newPager(Prefix+"/services", p, items, more, func(s *verify.Service) string {
		return inSeconds(s.DateCreated, s.Sid)
	})}}
	c.render(w, r, status, "services", v)
}

func (c *Console) serviceCreate(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("friendly_name"))
	s, err := c.cfg.Verifier.CreateService(r.Context(), current(r).account, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		var e *verify.Error
		if errors.As(err, &e) && e.Code != verify.EInternal {
			c.renderServices(w, r, api.StatusOf(e.Code), e.Message)
			return
		}
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/services/"+string(s.Sid), http.StatusSeeOther)
}

// serviceView is the service page's data.
type serviceView struct {
	Service *verify.Service
	Form    serviceForm
}

// serviceForm is what the settings form shows: the stored settings, or
// after a refusal what was typed, so that fixing one field does not mean
// typing the others again.
type serviceForm struct {
	FriendlyName, CodeLength                           string
	TotpIssuer, TotpTimeStep, TotpCodeLength, TotpSkew string
	PushIncludeDate                                    bool
	RPID, RPName, RPOrigins, RPUserVerification        string
}

func storedForm(s *verify.Service) serviceForm {
	return serviceForm{
		FriendlyName: s.FriendlyName, CodeLength: strconv.Itoa(s.CodeLength),
		TotpIssuer: s.Totp.Issuer, TotpTimeStep: strconv.Itoa(s.Totp.TimeStep),
		TotpCodeLength: strconv.Itoa(s.Totp.CodeLength), TotpSkew: strconv.Itoa(s.Totp.Skew),
		PushIncludeDate: s.Push.IncludeDate,
		RPID:            s.Passkeys.RelyingPartyID, RPName: s.Passkeys.RelyingPartyName,
		RPOrigins:          strings.Join(s.Passkeys.RelyingPartyOrigins, ", "),
		RPUserVerification: s.Passkeys.UserVerification,
	}
}

// typedForm is the form as posted; serviceUpdate has parsed it.
func typedForm(r *http.Request) serviceForm {
	v := func(name string) string { return r.PostFormValue(name) }
	return serviceForm{
		FriendlyName: v("friendly_name"), CodeLength: v("code_length"),
		TotpIssuer: v("totp_issuer"), TotpTimeStep: v("totp_time_step"),
		TotpCodeLength: v("totp_code_length"), TotpSkew: v("totp_skew"),
		PushIncludeDate: v("push_include_date") != "",
		RPID:            v("passkeys_rp_id"), RPName: v("passkeys_rp_name"),
		RPOrigins: v("passkeys_rp_origins"), RPUserVerification: v("passkeys_user_verification"),
	}
}

func (c *Console) service(r *http.Request) (*verify.Service, error) {
	return c.cfg.Verifier.FetchService(r.Context(), current(r).account, verify.Sid(r.PathValue("ServiceSid")))
}

func (c *Console) servicePage(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	v := c.serviceView(s, storedForm(s))
	if r.URL.Query().Get("saved") != "" {
		v.Flash = "Saved."
	}
	c.render(w, r, http.StatusOK, "service", v)
}

// serviceView is the service page: the stored service above, and in the
// settings form its stored values (storedForm), or after a refusal what
// was typed (typedForm).
func (c *Console) serviceView(s *verify.Service, form serviceForm) view {
	return view{Title: s.FriendlyName, Nav: "services", Data: serviceView{Service: s, Form: form}}
}

// serviceUpdate applies the settings form through UpdateService, so that
// the console refuses exactly what the API refuses.
func (c *Console) serviceUpdate(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	f := form{r: r}
	p := verify.ServiceParams{
		FriendlyName:                f.str("friendly_name"),
		CodeLength:                  f.int("code_length"),
		TotpIssuer:                  f.str("totp_issuer"),
		TotpTimeStep:                f.int("totp_time_step"),
		TotpCodeLength:              f.int("totp_code_length"),
		TotpSkew:                    f.int("totp_skew"),
		PushIncludeDate:             f.check("push_include_date"),
		PasskeysRelyingPartyID:      f.str("passkeys_rp_id"),
		PasskeysRelyingPartyName:    f.str("passkeys_rp_name"),
		PasskeysRelyingPartyOrigins: f.str("passkeys_rp_origins"),
		PasskeysUserVerification:    f.str("passkeys_user_verification"),
	}
	if f.err != "" {
		v := c.serviceView(s, typedForm(r))
		v.Error = f.err
		c.render(w, r, http.StatusBadRequest, "service", v)
		return
	}
	if _, err := c.cfg.Verifier.UpdateService(r.Context(), current(r).account, s.Sid, p); err != nil {
		c.problem(w, r, err, "service", c.serviceView(s, typedForm(r)))
		return
	}
	http.Redirect(w, r, Prefix+"/services/"+string(s.Sid)+"?saved=1", http.StatusSeeOther)
}

// form reads a settings form: every field is sent, so an empty text is
// set as empty, an empty number is left unchanged, and a checkbox is
// false when absent.
type form struct {
	r   *http.Request
	err string
}

func (f *form) str(name string) *string {
	if _, ok := f.r.PostForm[name]; !ok {
		if f.r.PostForm == nil {
			f.r.ParseForm()
		}
		if _, ok := f.r.PostForm[name]; !ok {
			return nil
		}
	}
	v := strings.TrimSpace(f.r.PostFormValue(name))
	return &v
}

func (f *form) int(name string) *int {
	s := f.str(name)
	if s == nil || *s == "" {
		return nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		f.err = name + " must be a whole number"
		return nil
	}
	return &n
}

func (f *form) check(name string) *bool {
	v := f.r.PostFormValue(name) != ""
	return &v
}
