package console

import (
	"net/http"
	"strings"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/inbox"
)

// keysView is the API keys page's data; Created is a key just made, whose
// secret the page shows this once, as the API does.
type keysView struct {
	Keys    []*verify.APIKey
	Pager   pager
	Created *verify.APIKey
	Secret  string
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request) {
	c.renderKeys(w, r, http.StatusOK, keysView{}, "")
}

func (c *Console) renderKeys(w http.ResponseWriter, r *http.Request, status int, d keysView, problem string) {
	p := listPage(r)
	items, more, err := c.cfg.Verifier.ListAPIKeys(r.Context(), current(r).account, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Keys = items
	d.Pager = newPager(Prefix+"/keys", p, items, more, func(k *verify.APIKey) verify.Cursor {
		return verify.Cursor{Time: k.DateCreated, Sid: k.Sid}
	})
	c.render(w, r, status, "keys", view{Title: "API keys", Nav: "keys", Error: problem, Data: d})
}

// keyCreate makes a key and shows its secret on the answer itself, not
// after a redirect: it is never stored, so no later page could show it.
func (c *Console) keyCreate(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("friendly_name"))
	k, secret, err := c.cfg.Verifier.CreateAPIKey(r.Context(), current(r).account, &name)
	if err != nil {
		if e, ok := err.(*verify.Error); ok && e.Code != verify.EInternal {
			c.renderKeys(w, r, http.StatusBadRequest, keysView{}, e.Message)
			return
		}
		c.fail(w, r, err)
		return
	}
	c.renderKeys(w, r, http.StatusCreated, keysView{Created: k, Secret: secret}, "")
}

func (c *Console) keyDelete(w http.ResponseWriter, r *http.Request) {
	if err := c.cfg.Verifier.DeleteAPIKey(r.Context(), current(r).account, verify.Sid(r.PathValue("Sid"))); err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	http.Redirect(w, r, Prefix+"/keys", http.StatusSeeOther)
}

// inboxPage shows the codes the development sender kept (serve --dev):
// the messages of the signed-in account only.
func (c *Console) inboxPage(w http.ResponseWriter, r *http.Request) {
	mine := c.cfg.Inbox.List(inbox.Filter{Account: current(r).account, Limit: 200})
	c.render(w, r, http.StatusOK, "inbox", view{Title: "Inbox", Nav: "inbox", Data: mine})
}
