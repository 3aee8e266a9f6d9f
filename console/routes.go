package console

import "net/http"

// routes is the console's one route table. Pages are GETs; every change
// is a POST of a form (or of a script, with X-CSRF-Token) to the page's
// own path or a verb below it, and answers with a redirect to the page
// that shows the result (post/redirect/get), so that a reload never
// repeats a change.
func (c *Console) routes() {
	const (
		p        = Prefix
		service  = p + "/services/{ServiceSid}"
		entities = service + "/entities"
		entity   = entities + "/{Identity}"
	)
	m := c.mux
	m.Handle("GET "+p+"/static/", c.static())
	m.HandleFunc("GET "+p+"/{$}", c.authed(c.home))
	m.HandleFunc("GET "+p+"/signin", c.signInPage)
	m.HandleFunc("POST "+p+"/signin", c.signIn)
	m.HandleFunc("POST "+p+"/signout", c.authed(c.signOut))

	m.HandleFunc("GET "+p+"/services", c.authed(c.servicesPage))
	m.HandleFunc("POST "+p+"/services", c.authed(c.serviceCreate))
	m.HandleFunc("GET "+service, c.authed(c.servicePage))
	m.HandleFunc("POST "+service, c.authed(c.serviceUpdate))
	m.HandleFunc("GET "+entities, c.authed(c.entitiesPage))
	m.HandleFunc("POST "+entities, c.authed(c.entityCreate))
	m.HandleFunc("GET "+entity, c.authed(c.entityPage))
	m.HandleFunc("POST "+entity+"/delete", c.authed(c.entityDelete))

	m.HandleFunc("GET "+p+"/keys", c.authed(c.keysPage))
	m.HandleFunc("POST "+p+"/keys/{Sid}/delete", c.authed(c.keyDelete))

	if c.cfg.Inbox != nil {
		m.HandleFunc("GET "+p+"/inbox", c.authed(c.inboxPage))
	}
	c.extraRoutes(m)
}

// home is the services page: what an account has first.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix+"/services", http.StatusSeeOther)
}
