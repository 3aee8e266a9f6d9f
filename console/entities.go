package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
)

func unixTime(n int64) time.Time { return time.Unix(n, 0).UTC() }

// entitiesView is the entities page's data.
type entitiesView struct {
	Service  *verify.Service
	Entities []*verify.Entity
	Pager    pager
	Search   string
}

// entitiesPage lists a service's entities, pageSize at a time, or the one
// whose identity is searched for (identities are opaque IDs, matched
// exactly, as the API looks them up).
func (c *Console) entitiesPage(w http.ResponseWriter, r *http.Request) {
	c.renderEntities(w, r, http.StatusOK, "")
}

func (c *Console) renderEntities(w http.ResponseWriter, r *http.Request, status int, problem string) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	account := current(r).account
	d := entitiesView{Service: s, Search: strings.TrimSpace(r.URL.Query().Get("identity"))}
	base := Prefix + "/services/" + string(s.Sid) + "/entities"
	if d.Search != "" {
		e, err := c.cfg.Verifier.FetchEntity(r.Context(), account, s.Sid, d.Search)
		switch {
		case err == nil:
			d.Entities = []*verify.Entity{e}
		case !verify.IsCode(err, verify.ENotFound) && !verify.IsCode(err, verify.EIdentity):
			c.fail(w, r, err)
			return
		}
	} else {
		p := listPage(r)
		items, more, err := c.cfg.Verifier.ListEntities(r.Context(), account, s.Sid, p)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Entities = items
		d.Pager = newPager(base, p, items, more, func(e *verify.Entity) string {
			return inSeconds(e.DateCreated, e.Sid)
		})
	}
	c.render(w, r, status, "entities", view{Title: s.FriendlyName + ": entities", Nav: "services", Error: problem, Data: d})
}

func (c *Console) entityCreate(w http.ResponseWriter, r *http.Request) {
	identity := strings.TrimSpace(r.PostFormValue("identity"))
	service := verify.Sid(r.PathValue("ServiceSid"))
	e, err := c.cfg.Verifier.CreateEntity(r.Context(), current(r).account, service, &identity)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Code != verify.EInternal {
			c.renderEntities(w, r, api.StatusOf(ve.Code), ve.Message)
			return
		}
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, entityPath(service, e.Identity), http.StatusSeeOther)
}

func entityPath(service verify.Sid, identity string) string {
	return Prefix + "/services/" + string(service) + "/entities/" + url.PathEscape(identity)
}

// entityView is the entity page's data: its factors and its challenges,
// newest first.
type entityView struct {
	Service    *verify.Service
	Entity     *verify.Entity
	Factors    []factorRow
	Challenges []*verify.Challenge
	Pager      pager
}

// factorRow is a factor with when it last proved its user: for TOTP the
// end of the last time step whose code it accepted (the store keeps it),
// for the others the newest approved challenge on the page, which is the
// factor's last approval when the page is the first one.
type factorRow struct {
	*verify.Factor
	LastUsed time.Time
}

func factorRows(factors []*verify.Factor, challenges []*verify.Challenge) []factorRow {
	rows := make([]factorRow, len(factors))
	for i, f := range factors {
		rows[i].Factor = f
		if f.Totp != nil && f.Totp.LastUsedEnd > 0 {
			rows[i].LastUsed = unixTime(f.Totp.LastUsedEnd)
		}
		for _, c := range challenges {
			if c.FactorSid == f.Sid && c.Status == verify.ChallengeApproved && c.DateResponded != nil && c.DateResponded.After(rows[i].LastUsed) {
				rows[i].LastUsed = *c.DateResponded
			}
		}
	}
	return rows
}

// entityFactorsMax is the most factors an entity can have: the caps of
// each type, which creating a factor checks under the entity's lock.
const entityFactorsMax = verify.MaxTotpFactors + verify.MaxPushFactors + verify.MaxPasskeyFactors

func (c *Console) entityPage(w http.ResponseWriter, r *http.Request) {
	s, err := c.service(r)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	ctx, account, identity := r.Context(), current(r).account, r.PathValue("Identity")
	e, err := c.cfg.Verifier.FetchEntity(ctx, account, s.Sid, identity)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	// The entity may be deleted between these reads: a not-found then,
	// not a server error. One page holds every factor an entity can have.
	factors, _, err := c.cfg.Verifier.ListFactorsLastUsed(ctx, account, s.Sid, identity, verify.Page{Size: entityFactorsMax})
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	desc := "desc"
	p := listPage(r)
	challenges, more, err := c.cfg.Verifier.ListChallenges(ctx, account, s.Sid, identity, verify.ChallengeQuery{Order: &desc}, p)
	if err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	d := entityView{Service: s, Entity: e, Factors: factorRows(factors, challenges), Challenges: challenges,
		Pager: newPager(entityPath(s.Sid, identity), p, challenges, more, func(ch *verify.Challenge) string {
			return inSeconds(ch.DateCreated, ch.Sid)
		})}
	c.render(w, r, http.StatusOK, "entity", view{Title: identity, Nav: "services", Data: d})
}

func (c *Console) entityDelete(w http.ResponseWriter, r *http.Request) {
	service := verify.Sid(r.PathValue("ServiceSid"))
	if err := c.cfg.Verifier.DeleteEntity(r.Context(), current(r).account, service, r.PathValue("Identity")); err != nil {
		c.problem(w, r, err, "notfound", view{Title: "Not found"})
		return
	}
	http.Redirect(w, r, Prefix+"/services/"+string(service)+"/entities", http.StatusSeeOther)
}
