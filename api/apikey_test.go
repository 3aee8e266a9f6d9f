package api

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// TestAPIKeys: the Keys resource of the 2010-04-01 API in its own wire
// format (RFC 2822 dates, relative *_page_uri), a key that acts for its
// account on Verify routes and not on Keys, and a deleted key refused at
// once.
func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	keys := "/2010-04-01/Accounts/" + acctA + "/Keys.json"

	c := e.as(http.MethodPost, keys, "FriendlyName=ci+runner").want(t, http.StatusCreated)
	sid, secret := c.str(t, "sid"), c.str(t, "secret")
	if !verify.Sid(sid).Valid(verify.PrefixAPIKey) || !secretPattern.MatchString(secret) || c.str(t, "friendly_name") != "ci runner" {
		t.Fatalf("create: %s", c.raw)
	}
	for _, field := range []string{"date_created", "date_updated"} {
		if _, err := time.Parse(time.RFC1123Z, c.str(t, field)); err != nil {
			t.Errorf("%s = %q, want RFC 2822: %v", field, c.str(t, field), err)
		}
	}
	one := "/2010-04-01/Accounts/" + acctA + "/Keys/" + sid + ".json"
	f := e.as(http.MethodGet, one, "").want(t, http.StatusOK)
	if _, ok := f.body["secret"]; ok || f.str(t, "sid") != sid {
		t.Fatalf("fetch shows the secret or another key: %s", f.raw)
	}
	if u := e.as(http.MethodPost, one, "FriendlyName=ci").want(t, http.StatusOK); u.str(t, "friendly_name") != "ci" {
		t.Errorf("update: %s", u.raw)
	}
	e.as(http.MethodPost, one, "FriendlyName="+url.QueryEscape(string(make([]byte, 65)))).wantError(t, http.StatusBadRequest, verify.EParam)
	e.as(http.MethodGet, "/2010-04-01/Accounts/"+acctA+"/Keys/"+sid, "").wantError(t, http.StatusNotFound, verify.ENotFound)

	// The key works for Verify, as its account.
	svc := e.do(http.MethodPost, "/v2/Services", "FriendlyName=ByKey", sid, secret).want(t, http.StatusCreated)
	if svc.str(t, "account_sid") != acctA {
		t.Errorf("service made with a key belongs to %s", svc.str(t, "account_sid"))
	}
	e.as(http.MethodGet, "/v2/Services/"+svc.str(t, "sid"), "").want(t, http.StatusOK)
	e.do(http.MethodGet, "/v2/Services", "", sid, "wrong"+secret[5:]).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	// … but cannot manage keys, and no account reaches another's keys.
	e.do(http.MethodGet, keys, "", sid, secret).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	e.do(http.MethodPost, keys, "", sid, secret).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	e.do(http.MethodGet, keys, "", acctB, tokenB).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	e.do(http.MethodGet, "/2010-04-01/Accounts/"+acctB+"/Keys/"+sid+".json", "", acctB, tokenB).wantError(t, http.StatusNotFound, verify.ENotFound)

	// Paging: three keys, two per page, there and back.
	for i := range 2 {
		e.as(http.MethodPost, keys, "FriendlyName=k"+itoa(i)).want(t, http.StatusCreated)
	}
	p1 := e.as(http.MethodGet, keys+"?PageSize=2", "").want(t, http.StatusOK)
	if got := p1.sids(t, "keys"); len(got) != 2 || got[0] != sid {
		t.Fatalf("page 1 = %v", got)
	}
	if p1.body["page"] != 0.0 || p1.body["page_size"] != 2.0 || p1.body["start"] != 0.0 || p1.body["end"] != 1.0 ||
		p1.body["previous_page_uri"] != nil || p1.str(t, "uri") != keys+"?PageSize=2&Page=0" || p1.str(t, "first_page_uri") != keys+"?PageSize=2&Page=0" {
		t.Errorf("page 1 meta: %s", p1.raw)
	}
	p2 := e.as(http.MethodGet, p1.str(t, "next_page_uri"), "").want(t, http.StatusOK)
	if got := p2.sids(t, "keys"); len(got) != 1 || p2.body["next_page_uri"] != nil || p2.body["start"] != 2.0 || p2.body["end"] != 2.0 {
		t.Fatalf("page 2: %s", p2.raw)
	}
	back := e.as(http.MethodGet, p2.str(t, "previous_page_uri"), "").want(t, http.StatusOK)
	if got := back.sids(t, "keys"); len(got) != 2 || got[0] != sid {
		t.Fatalf("back to page 1 = %v", got)
	}

	// Deleted: gone, and refused at once even though the login was cached.
	e.as(http.MethodDelete, one, "").want(t, http.StatusNoContent)
	e.do(http.MethodGet, "/v2/Services", "", sid, secret).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	e.as(http.MethodGet, one, "").wantError(t, http.StatusNotFound, verify.ENotFound)
	e.as(http.MethodDelete, one, "").wantError(t, http.StatusNotFound, verify.ENotFound)
}

// holdKeyRead is the real store with one staged pause: once armed, the
// next FindAPIKey reads the key, reports that it has, and returns only when
// released, so a test can delete the key between the read and the login's
// end.
type holdKeyRead struct {
	verify.Store
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func (h *holdKeyRead) FindAPIKey(ctx context.Context, sid verify.Sid) (*verify.APIKey, error) {
	k, err := h.Store.FindAPIKey(ctx, sid)
	if h.armed.CompareAndSwap(true, false) {
		h.read <- struct{}{}
		<-h.release
	}
	return k, err
}

// TestDeletedKeyNotRecached stages the race of a login with its key's
// deletion: the login reads the key, the key is deleted (and forgotten by
// the login cache), then the login finishes. That request may pass (it was
// in flight), but it must not put the key back into the cache: the next
// request with the key is refused at once, not for loginTTL more.
func TestDeletedKeyNotRecached(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		hold := &holdKeyRead{read: make(chan struct{}), release: make(chan struct{})}
		e := newEnvOn(t, dsn, func(s verify.Store) verify.Store { hold.Store = s; return hold })
		c := e.as(http.MethodPost, "/2010-04-01/Accounts/"+acctA+"/Keys.json", "").want(t, http.StatusCreated)
		sid, secret := c.str(t, "sid"), c.str(t, "secret")

		hold.armed.Store(true)
		inFlight := make(chan int, 1) // its status, or 0 if it failed
		go func() {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
			req.SetBasicAuth(sid, secret)
			res, err := e.ts.Client().Do(req)
			if err != nil {
				inFlight <- 0
				return
			}
			res.Body.Close()
			inFlight <- res.StatusCode
		}()
		select {
		case <-hold.read:
		case <-time.After(10 * time.Second):
			t.Fatal("the login never read the key")
		}
		e.as(http.MethodDelete, "/2010-04-01/Accounts/"+acctA+"/Keys/"+sid+".json", "").want(t, http.StatusNoContent)
		close(hold.release)
		if st := <-inFlight; st != http.StatusOK {
			t.Fatalf("the login in flight: status %d, want 200 (it read the key before the delete)", st)
		}
		e.do(http.MethodGet, "/v2/Services", "", sid, secret).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	})
}
