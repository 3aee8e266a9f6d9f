package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// The pages of what an account's services did: the deliveries of its
// webhooks and pushes, its classic verifications' attempts with their
// conversion, and a service's push enrollment access tokens.
func (c *Console) activityRoutes(m *http.ServeMux) {
	const tokens = Prefix + "/services/{ServiceSid}/tokens"
	m.HandleFunc("GET "+Prefix+"/deliveries", c.authed(c.deliveriesPage))
	m.HandleFunc("GET "+Prefix+"/attempts", c.authed(c.attemptsPage))
	m.HandleFunc("GET "+tokens, c.authed(c.tokensPage))
}

// deliveriesView is the deliveries page's data, with the filters as
// chosen so that the form shows them.
type deliveriesView struct {
	Deliveries []*verify.Delivery
	Pager      pager
	Kind       string
	Status     string
}

// deliveriesPage lists the account's webhook and push deliveries, newest
// first: the Verifier reads them by the account each was enqueued for,
// and shows a webhook's target without its query or user information.
func (c *Console) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := &deliveriesView{Kind: q.Get("kind"), Status: q.Get("status")}
	v := view{Title: "Deliveries", Nav: "deliveries", Data: d}
	f := verify.DeliveryFilter{Status: verify.OutboxStatus(d.Status)}
	if d.Kind != "" {
		f.Kinds = []verify.OutboxKind{verify.OutboxKind(d.Kind)}
	}
	p := verify.Page{Size: pageSize, After: deliveryCursor(q, "after"), Before: deliveryCursor(q, "before")}
	items, more, err := c.cfg.Verifier.ListDeliveries(r.Context(), current(r).account, f, p)
	if err != nil {
		c.problem(w, r, err, "deliveries", v)
		return
	}
	d.Deliveries = items
	d.Pager = newPager(withQuery(Prefix+"/deliveries", "kind", d.Kind, "status", d.Status), p, items, more,
		func(x *verify.Delivery) string { return strconv.FormatInt(x.DateCreated.UnixMilli(), 10) + "." + x.ID })
	c.render(w, r, http.StatusOK, "deliveries", v)
}

// deliveryCursor reads a deliveries link's position, "unixmilli.id": the
// outbox keeps milliseconds, and several rows of one second would be
// skipped or repeated by a cursor in seconds. An ID is a webhook event's
// UUID or a SID.
func deliveryCursor(q url.Values, name string) *verify.Cursor {
	const idChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
	ms, id, ok := strings.Cut(q.Get(name), ".")
	if !ok || id == "" || len(id) > 64 || strings.Trim(id, idChars) != "" {
		return nil
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return nil
	}
	return &verify.Cursor{Time: time.UnixMilli(n).UTC(), Sid: verify.Sid(id)}
}

// withQuery adds the non-empty pairs of kv to path's query.
func withQuery(path string, kv ...string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// attemptsForm is the attempts page's filter form as sent: From and
// Until are dates (YYYY-MM-DD, UTC), the whole of each day included.
type attemptsForm struct {
	Channel, Status, To, From, Until string
}

// attemptRow is an attempt with its channel_data.status at the time the
// page was read.
type attemptRow struct {
	*verify.Attempt
	Status string
}

// attemptsView is the attempts page's data.
type attemptsView struct {
	Form     attemptsForm
	Attempts []attemptRow
	Summary  verify.AttemptSummary
	// Rate is the conversion rate for people, "" with no attempts; the
	// API's conversion_rate_percentage has nine decimals.
	Rate  string
	Pager pager
}

// query turns the form into the Attempts API's filter parameters, so
// that the page checks them exactly as GET /v2/Attempts does; it says
// what is wrong with a date, which the API would name by its own
// parameter.
func (f attemptsForm) query() (verify.AttemptQuery, string) {
	day := func(label, s, clock string) (*string, string) {
		if s == "" {
			return nil, ""
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, label + " must be a date (YYYY-MM-DD)."
		}
		v := s + "T" + clock + "Z"
		return &v, ""
	}
	opt := func(s string) *string { return &s }
	q := verify.AttemptQuery{Channel: opt(f.Channel), Status: opt(f.Status), To: opt(f.To)}
	var problem string
	if q.DateCreatedAfter, problem = day("From", f.From, "00:00:00"); problem != "" {
		return q, problem
	}
	q.DateCreatedBefore, problem = day("Until", f.Until, "23:59:59")
	return q, problem
}

// attemptsPage shows the account's classic Verify attempts, newest first,
// with the summary of the same filter: how many attempts, how many
// converted (their verification approved), and the rate.
func (c *Console) attemptsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := &attemptsView{Form: attemptsForm{Channel: q.Get("channel"), Status: q.Get("status"),
		To: strings.TrimSpace(q.Get("to")), From: q.Get("from"), Until: q.Get("until")}}
	v := view{Title: "Verifications", Nav: "attempts", Data: d}
	aq, problem := d.Form.query()
	if problem != "" {
		v.Error = problem
		c.render(w, r, http.StatusBadRequest, "attempts", v)
		return
	}
	f, err := aq.Filter()
	if err != nil {
		c.problem(w, r, err, "attempts", v)
		return
	}
	ctx, account := r.Context(), current(r).account
	if d.Summary, err = c.cfg.Verifier.SummarizeAttempts(ctx, account, f); err != nil {
		c.problem(w, r, err, "attempts", v)
		return
	}
	if d.Summary.Total > 0 {
		d.Rate = strconv.FormatFloat(100*float64(d.Summary.Converted)/float64(d.Summary.Total), 'f', 1, 64) + " %"
	}
	p := listPage(r)
	items, more, err := c.cfg.Verifier.ListAttempts(ctx, account, f, p)
	if err != nil {
		c.problem(w, r, err, "attempts", v)
		return
	}
	now := c.cfg.Verifier.Now()
	for _, a := range items {
		d.Attempts = append(d.Attempts, attemptRow{a, a.StatusAt(now)})
	}
	base := withQuery(Prefix+"/attempts", "channel", d.Form.Channel, "status", d.Form.Status, "to", d.Form.To,
		"from", d.Form.From, "until", d.Form.Until)
	d.Pager = newPager(base, p, items, more, func(a *verify.Attempt) string {
		return inSeconds(a.DateCreated, a.Sid)
	})
	c.render(w, r, http.StatusOK, "attempts", v)
}

// tokenView is an access token with when it stops enrolling.
type tokenView struct {
	*verify.AccessToken
	Expires time.Time
	Expired bool
}

// tokensView is the access tokens page's data: the token looked up by
// SID, shown without the token itself. The console makes no token: a
// token is a credential, and the console shows no secret but a new TOTP
// factor's. Tokens are made with the API (its answer carries the token),
// and the push device page makes its own without showing it.
type tokensView struct {
	Service *verify.Service
	Fetched *tokenView
	Sid     string // the lookup as sent
}

func (c *Console) tokenView(t *verify.AccessToken) *tokenView {
	exp := t.DateCreated.Add(time.Duration(t.TTL) * time.Second)
	return &tokenView{AccessToken: t, Expires: exp, Expired: !c.cfg.Verifier.Now().Before(exp)}
}

// tokensPage shows the forms, and the token whose SID is asked for.
func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	d := &tokensView{Service: s, Sid: strings.TrimSpace(r.URL.Query().Get("sid"))}
	v := view{Title: s.FriendlyName + ": access tokens", Nav: "services", Data: d}
	if d.Sid != "" {
		t, err := c.cfg.Verifier.FetchAccessToken(r.Context(), current(r).account, s.Sid, verify.Sid(d.Sid))
		if err != nil {
			c.problem(w, r, err, "tokens", v)
			return
		}
		d.Fetched = c.tokenView(t)
	}
	c.render(w, r, http.StatusOK, "tokens", v)
}
