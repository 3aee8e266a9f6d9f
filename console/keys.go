package console

import (
	"net/http"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/inbox"
)

// keysView is the API keys page's data. The console lists and revokes
// keys but makes none: a key's secret is a credential, and the console
// shows no secret but a new TOTP factor's. Keys are made with the API,
// whose answer carries the secret once.
type keysView struct {
	Keys  []*verify.APIKey
	Pager pager
}

// byKey refuses the keys pages to a session an API key signed in, as the
// API refuses to let a key manage keys: a leaked key must not be able to
// revoke the others, or itself out of an audit.
func byKey(w http.ResponseWriter, r *http.Request) bool {
	if verify.Sid(current(r).user).Valid(verify.PrefixAPIKey) {
		http.Error(w, "API keys cannot manage keys: sign in with the account's auth token", http.StatusForbidden)
		return true
	}
	return false
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request) {
	if byKey(w, r) {
		return
	}
	p := listPage(r)
	items, more, err := c.cfg.Verifier.ListAPIKeys(r.Context(), current(r).account, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := keysView{Keys: items}
	d.Pager = newPager(Prefix+"/keys", p, items, more, func(k *verify.APIKey) string {
		return inSeconds(k.DateCreated, k.Sid)
	})
	c.render(w, r, http.StatusOK, "keys", view{Title: "API keys", Nav: "keys", Data: d})
}

// keyDelete revokes a key everywhere this node knows it: in the store, in
// the API's login cache, and in the console sessions it signed in.
func (c *Console) keyDelete(w http.ResponseWriter, r *http.Request) {
	if byKey(w, r) {
		return
	}
	sid := verify.Sid(r.PathValue("Sid"))
	if err := c.cfg.Verifier.DeleteAPIKey(r.Context(), current(r).account, sid); err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	if c.cfg.KeyRevoked != nil {
		c.cfg.KeyRevoked(sid)
	}
	c.sessions.endUser(string(sid))
	http.Redirect(w, r, Prefix+"/keys", http.StatusSeeOther)
}

// inboxPage shows the codes the development sender kept (serve --dev):
// the messages of the signed-in account only.
func (c *Console) inboxPage(w http.ResponseWriter, r *http.Request) {
	mine := c.cfg.Inbox.List(inbox.Filter{Account: current(r).account, Limit: 200})
	c.render(w, r, http.StatusOK, "inbox", view{Title: "Inbox", Nav: "inbox", Data: mine})
}
