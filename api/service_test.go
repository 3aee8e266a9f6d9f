package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifyd/verify"
)

func TestAuthFailures(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, user, pass string }{
		{"no credentials", "", ""},
		{"wrong token", acctA, "wrong"},
		{"unknown account", "AC99999999999999999999999999999999", tokenA},
		{"other account's token", acctA, tokenB},
		{"device username", "token", "whatever"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodGet, "/v2/Services", "", tc.user, tc.pass)
			r.wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
			if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="verifyd"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if r.header.Get("Date") == "" {
				t.Error("401 without a Date header")
			}
		})
	}
}

func TestOtherAccountIsNotFound(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, "/v2/Services", "FriendlyName=B", acctB, tokenB).want(t, http.StatusCreated)
	sid := r.str(t, "sid")
	e.as(http.MethodGet, "/v2/Services/"+sid, "").wantError(t, http.StatusNotFound, verify.ENotFound)
	e.as(http.MethodPost, "/v2/Services/"+sid, "FriendlyName=stolen").wantError(t, http.StatusNotFound, verify.ENotFound)
	e.as(http.MethodDelete, "/v2/Services/"+sid, "").wantError(t, http.StatusNotFound, verify.ENotFound)
	e.as(http.MethodGet, "/v2/Services/"+sid+"/Entities", "").wantError(t, http.StatusNotFound, verify.ENotFound)
	if got := e.as(http.MethodGet, "/v2/Services", "").want(t, http.StatusOK).sids(t, "services"); len(got) != 0 {
		t.Errorf("account A lists B's services: %v", got)
	}
	e.do(http.MethodGet, "/v2/Services/"+sid, "", acctB, tokenB).want(t, http.StatusOK)
}

func TestServiceRoundTrip(t *testing.T) {
	e := newEnv(t)
	r := e.as(http.MethodPost, "/v2/Services", "FriendlyName=Example+Service&CodeLength=7&Push.IncludeDate=TRUE").
		want(t, http.StatusCreated)
	sid := r.str(t, "sid")
	if !verify.Sid(sid).Valid(verify.PrefixService) {
		t.Fatalf("sid %q", sid)
	}
	base := e.ts.URL + "/v2/Services/" + sid
	checks := map[string]any{
		"account_sid":         acctA,
		"friendly_name":       "Example Service",
		"code_length":         7.0,
		"lookup_enabled":      false,
		"push.include_date":   true,
		"totp.issuer":         "Example Service",
		"totp.time_step":      30.0,
		"totp.code_length":    6.0,
		"totp.skew":           1.0,
		"url":                 base,
		"links.entities":      base + "/Entities",
		"links.access_tokens": base + "/AccessTokens",
		"links.webhooks":      base + "/Webhooks",
	}
	for path, want := range checks {
		if got, _ := r.get(path); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	r.wantNull(t, "push.apn_credential_sid", "push.fcm_credential_sid", "whatsapp.msg_service_sid",
		"passkeys.relying_party.origins", "default_template_sid", "tts_name")
	r.wantDates(t, "date_created", "date_updated")

	e.as(http.MethodGet, "/v2/Services/"+sid, "").want(t, http.StatusOK)

	u := e.as(http.MethodPost, "/v2/Services/"+sid, "FriendlyName=Renamed&Totp.Skew=2").want(t, http.StatusOK)
	if u.str(t, "friendly_name") != "Renamed" {
		t.Errorf("update did not rename: %s", u.raw)
	}
	if got, _ := u.get("totp.skew"); got != 2.0 {
		t.Errorf("totp.skew = %v", got)
	}
	e.as(http.MethodPost, "/v2/Services/"+sid, "CodeLength=abc").wantError(t, http.StatusBadRequest, verify.EInvalidParam)
	e.as(http.MethodPost, "/v2/Services/"+sid, "Passkeys.RelyingParty.Id=https%3A%2F%2Fexample.com").
		wantError(t, http.StatusBadRequest, verify.EPasskeyRPID)
	e.as(http.MethodPost, "/v2/Services/"+sid, "Passkeys.RelyingParty.Origins=https%3A%2F%2Fexample.com%2C+example.com").
		wantError(t, http.StatusBadRequest, verify.EPasskeyRP)
	rp := e.as(http.MethodPost, "/v2/Services/"+sid, "Passkeys.RelyingParty.Id=example.com&Passkeys.RelyingParty.Origins="+
		"https%3A%2F%2Fexample.com%2C+android%3Aapk-key-hash%3Aabc").want(t, http.StatusOK)
	if got, _ := rp.get("passkeys.relying_party.origins"); !cmp.Equal(got, []any{"https://example.com", "android:apk-key-hash:abc"}) {
		t.Errorf("origins = %#v", got)
	}
	e.as(http.MethodPost, "/v2/Services/"+sid, "LookupEnabled=maybe").wantError(t, http.StatusBadRequest, verify.EInvalidParam)

	l := e.as(http.MethodGet, "/v2/Services", "").want(t, http.StatusOK)
	if diff := cmp.Diff([]string{sid}, l.sids(t, "services")); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if l.str(t, "meta.key") != "services" {
		t.Errorf("meta.key = %v", l.body["meta"])
	}
	if got := l.str(t, "meta.first_page_url"); got != e.ts.URL+"/v2/Services?PageSize=50&Page=0" {
		t.Errorf("first_page_url = %s", got)
	}
	l.wantNull(t, "meta.next_page_url", "meta.previous_page_url")

	d := e.as(http.MethodDelete, "/v2/Services/"+sid, "")
	d.want(t, http.StatusNoContent)
	if len(d.raw) != 0 {
		t.Errorf("delete body %q", d.raw)
	}
	e.as(http.MethodGet, "/v2/Services/"+sid, "").wantError(t, http.StatusNotFound, verify.ENotFound)
}

func TestServiceListPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.as(http.MethodPost, "/v2/Services", "FriendlyName=S"+itoa(i)).want(t, http.StatusCreated)
	}
	all := e.as(http.MethodGet, "/v2/Services", "").want(t, http.StatusOK).sids(t, "services")
	if len(all) != 5 {
		t.Fatalf("got %d services", len(all))
	}

	p0 := e.as(http.MethodGet, "/v2/Services?PageSize=2", "").want(t, http.StatusOK)
	p0.wantNull(t, "meta.previous_page_url")
	next := p0.str(t, "meta.next_page_url")
	if !strings.HasPrefix(next, e.ts.URL+"/v2/Services?PageSize=2&Page=1&PageToken=PT") {
		t.Fatalf("next_page_url = %s", next)
	}
	p1 := e.as(http.MethodGet, next, "").want(t, http.StatusOK)
	p2 := e.as(http.MethodGet, p1.str(t, "meta.next_page_url"), "").want(t, http.StatusOK)
	p2.wantNull(t, "meta.next_page_url")
	var forward []string
	for i, p := range []response{p0, p1, p2} {
		if got, _ := p.get("meta.page"); got != float64(i) {
			t.Errorf("page %d: meta.page = %v", i, got)
		}
		if got, _ := p.get("meta.page_size"); got != 2.0 {
			t.Errorf("page %d: meta.page_size = %v", i, got)
		}
		forward = append(forward, p.sids(t, "services")...)
	}
	if diff := cmp.Diff(all, forward); diff != "" {
		t.Fatalf("pages forward (-want +got):\n%s", diff)
	}

	b1 := e.as(http.MethodGet, p2.str(t, "meta.previous_page_url"), "").want(t, http.StatusOK)
	if diff := cmp.Diff(p1.sids(t, "services"), b1.sids(t, "services")); diff != "" {
		t.Errorf("back to page 1 (-want +got):\n%s", diff)
	}
	b0 := e.as(http.MethodGet, b1.str(t, "meta.previous_page_url"), "").want(t, http.StatusOK)
	if diff := cmp.Diff(p0.sids(t, "services"), b0.sids(t, "services")); diff != "" {
		t.Errorf("back to page 0 (-want +got):\n%s", diff)
	}
	b0.wantNull(t, "meta.previous_page_url")
	if got, _ := b0.get("meta.page"); got != 0.0 {
		t.Errorf("back on page 0: meta.page = %v", got)
	}
	// From a page read backwards, next leads forward again.
	f1 := e.as(http.MethodGet, b0.str(t, "meta.next_page_url"), "").want(t, http.StatusOK)
	if diff := cmp.Diff(p1.sids(t, "services"), f1.sids(t, "services")); diff != "" {
		t.Errorf("forward again (-want +got):\n%s", diff)
	}
	for _, u := range []string{next, p1.str(t, "meta.previous_page_url")} {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if tok := parsed.Query().Get("PageToken"); strings.Contains(tok, ".") {
			t.Errorf("PageToken %q contains a dot", tok)
		}
	}
}

func TestMalformedPageToken(t *testing.T) {
	e := newEnv(t)
	e.as(http.MethodGet, "/v2/Services?PageToken=PAYF3333", "").wantError(t, http.StatusBadRequest, verify.EInvalidParam)
	e.as(http.MethodGet, "/v2/Services?PageSize=1001", "").wantError(t, http.StatusBadRequest, verify.EInvalidParam)
	e.as(http.MethodGet, "/v2/Services?Page=x", "").wantError(t, http.StatusBadRequest, verify.EInvalidParam)
	e.as(http.MethodGet, "/v2/Services?A=%zz", "").wantError(t, http.StatusBadRequest, verify.EInvalidParam)
}

func TestRoutingAndCORS(t *testing.T) {
	e := newEnv(t)
	r := e.as(http.MethodGet, "/v2/Nope", "")
	r.wantError(t, http.StatusNotFound, verify.ENotFound)
	e.as(http.MethodGet, "/v2/Services/", "").wantError(t, http.StatusNotFound, verify.ENotFound)
	m := e.as(http.MethodPut, "/v2/Services", "")
	m.wantError(t, http.StatusMethodNotAllowed, eMethod)
	if got := m.header.Get("Allow"); got != "GET, POST, OPTIONS" {
		t.Errorf("Allow = %q", got)
	}

	ok := e.as(http.MethodGet, "/v2/Services", "").want(t, http.StatusOK)
	pre := e.do(http.MethodOptions, "/v2/Services/VA00000000000000000000000000000000", "", "", "")
	pre.want(t, http.StatusNoContent)
	if len(pre.raw) != 0 {
		t.Errorf("preflight body %q", pre.raw)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":      "*",
		"Access-Control-Allow-Methods":     "GET, POST, DELETE, OPTIONS",
		"Access-Control-Allow-Headers":     "Content-Type, Authorization",
		"Access-Control-Allow-Credentials": "false",
		"Access-Control-Expose-Headers":    "ETag, Twilio-Verify-Signature-Fields",
	}
	for _, res := range []response{ok, r, m, pre} {
		for k, v := range want {
			if got := res.header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	}
	if ct := ok.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	f := e.as(http.MethodGet, "/v2/Forms/form-push", "").want(t, http.StatusOK)
	if f.str(t, "url") != e.ts.URL+"/v2/Forms/form-push" || f.str(t, "forms.create_factor.type") != "object" {
		t.Errorf("form: %s", f.raw)
	}
	e.as(http.MethodGet, "/v2/Forms/form-sms", "").wantError(t, http.StatusNotFound, verify.ENotFound)
}

func TestPanicRecovered(t *testing.T) {
	s := &Server{} // no Verifier: authenticating panics
	rec := serve(t, s)
	r := rec.do(http.MethodGet, "/v2/Services", "", acctA, tokenA)
	r.wantError(t, http.StatusInternalServerError, verify.EInternal)
	if r.str(t, "message") != "Internal server error" {
		t.Errorf("message = %q", r.body["message"])
	}
	rec.do(http.MethodOptions, "/v2/Services", "", "", "").want(t, http.StatusNoContent) // still serving
}
