package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/device"
	"github.com/verifyd/verify/otp"
)

// hookReceiver is a customer's webhook endpoint on loopback. It validates
// every request with twilio-go's RequestValidator against the URL exactly
// as configured, as a backend written for Twilio does.
type hookReceiver struct {
	srv   *httptest.Server
	path  string
	token string
	mu    sync.Mutex
	got   []url.Values
	bad   int
	hang  chan struct{} // if not nil, requests wait for it to close
}

func newHookReceiver(t *testing.T, token string, hang bool) *hookReceiver {
	t.Helper()
	r := &hookReceiver{path: "/hooks?secret=a%3Bb", token: token}
	if hang {
		r.hang = make(chan struct{})
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, err := url.ParseQuery(string(body))
		params := map[string]string{}
		for k := range form {
			params[k] = form.Get(k)
		}
		v := client.NewRequestValidator(r.token)
		ok := err == nil && req.Method == http.MethodPost && v.Validate(r.url(), params, req.Header.Get("X-Twilio-Signature"))
		r.mu.Lock()
		if ok {
			r.got = append(r.got, form)
		} else {
			r.bad++
		}
		r.mu.Unlock()
		if r.hang != nil {
			<-r.hang
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) url() string { return r.srv.URL + r.path }

func (r *hookReceiver) events() ([]url.Values, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.got...), r.bad
}

// waitEvents waits until r has n valid events.
func (r *hookReceiver) waitEvents(t *testing.T, n int, d time.Duration) []url.Values {
	t.Helper()
	end := time.Now().Add(d)
	for {
		got, bad := r.events()
		if bad > 0 {
			t.Fatalf("%d requests failed twilio-go's signature validation", bad)
		}
		if len(got) >= n || time.Now().After(end) {
			if len(got) != n {
				var types []string
				for _, f := range got {
					types = append(types, f.Get("type"))
				}
				t.Fatalf("%d events %v, want %d", len(got), types, n)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWebhooksTwilioGo(t *testing.T) { forEachBackend(t, testWebhooksTwilioGo) }

// testWebhooksTwilioGo manages webhooks with twilio-go and checks that,
// for push and TOTP factors,
// every event type reaches a subscribed receiver, signed so that
// twilio-go's validator accepts it, with the parameters of delivery.md
// §2.2; that a disabled webhook gets nothing; and that a receiver that
// hangs slows neither the API nor the other webhook's deliveries.
func testWebhooksTwilioGo(t *testing.T, db string) {
	s, c := newServer(t, db)
	ctx := context.Background()
	good := newHookReceiver(t, testToken, false)
	off := newHookReceiver(t, testToken, false)
	slow := newHookReceiver(t, testToken, true)
	t.Cleanup(func() { close(slow.hang) }) // runs before the servers stop

	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Hooks"))
	if err != nil {
		t.Fatal(err)
	}
	va := *svc.Sid
	if links := *svc.Links; links["webhooks"] != s.base+"/v2/Services/"+va+"/Webhooks" {
		t.Fatalf("links.webhooks = %v", links["webhooks"])
	}
	wh, err := c.CreateWebhook(va, new(openapi.CreateWebhookParams).SetFriendlyName("backend").
		SetEventTypes([]string{"*"}).SetWebhookUrl(good.url()))
	if err != nil {
		t.Fatal(err)
	}
	if *wh.Status != "enabled" || *wh.Version != "v2" || *wh.WebhookMethod != "POST" || *wh.WebhookUrl != good.url() ||
		len(*wh.EventTypes) != 1 || !strings.HasPrefix(*wh.Sid, "YW") || *wh.ServiceSid != va || *wh.AccountSid != testAccount {
		t.Fatalf("created %+v", wh)
	}
	offHook, err := c.CreateWebhook(va, new(openapi.CreateWebhookParams).SetFriendlyName("off").
		SetEventTypes([]string{"factor.created"}).SetWebhookUrl(off.url()))
	if err != nil {
		t.Fatal(err)
	}
	if up, err := c.UpdateWebhook(va, *offHook.Sid, new(openapi.UpdateWebhookParams).SetStatus("disabled").
		SetEventTypes([]string{"*", "factor.deleted"})); err != nil || *up.Status != "disabled" || len(*up.EventTypes) != 2 || *up.FriendlyName != "off" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	if _, err := c.CreateWebhook(va, new(openapi.CreateWebhookParams).SetFriendlyName("slow").
		SetEventTypes([]string{"*"}).SetWebhookUrl(slow.url())); err != nil {
		t.Fatal(err)
	}
	if got, err := c.FetchWebhook(va, *wh.Sid); err != nil || *got.WebhookUrl != good.url() {
		t.Fatalf("fetch: %+v, %v", got, err)
	}
	list, err := c.ListWebhook(va, new(openapi.ListWebhookParams).SetPageSize(2))
	if err != nil || len(list) != 3 || *list[0].Sid != *wh.Sid {
		t.Fatalf("list: %d, %v", len(list), err)
	}

	// Each API call answers fast although the slow receiver hangs.
	timed := func(what string, fn func() error) {
		t.Helper()
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s took %v", what, d)
		}
	}
	// A push factor: created, verified, a challenge approved and one denied,
	// then deleted.
	d := &device.Client{}
	var st *device.State
	timed("enroll", func() (err error) {
		st, err = d.Enroll(ctx, s.base, va, "ana-00000001", devToken(t, c, va, "ana-00000001"), "Ana's phone", "none", "", nil)
		return err
	})
	timed("verify", func() error { _, err := d.Verify(ctx); return err })
	approved := devChallenge(t, c, va, "ana-00000001", st.FactorSid)
	timed("approve", func() error { _, err := d.Respond(ctx, approved, true); return err })
	denied := devChallenge(t, c, va, "ana-00000001", st.FactorSid)
	timed("deny", func() error { _, err := d.Respond(ctx, denied, false); return err })
	timed("delete factor", func() error { return c.DeleteFactor(va, "ana-00000001", st.FactorSid) })
	// Two TOTP factors, deleted with their entity: one factor.deleted each.
	var totp []string
	var totpChallenge, totpCreated string
	for _, name := range []string{"one", "two"} {
		nf, err := c.CreateNewFactor(va, "bob-00000001", new(openapi.CreateNewFactorParams).SetFriendlyName(name).SetFactorType("totp").SetConfigSkew(2))
		if err != nil {
			t.Fatal(err)
		}
		totp = append(totp, *nf.Sid)
		if name != "one" {
			continue
		}
		// The first is verified with a code and approves a challenge.
		codes := newCodes(t, (*nf.Binding).(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 2})
		timed("verify totp", func() error {
			_, err := c.UpdateFactor(va, "bob-00000001", *nf.Sid, new(openapi.UpdateFactorParams).SetAuthPayload(codes.next(t)))
			return err
		})
		ch, err := c.CreateChallenge(va, "bob-00000001", new(openapi.CreateChallengeParams).SetFactorSid(*nf.Sid))
		if err != nil {
			t.Fatal(err)
		}
		totpChallenge = *ch.Sid
		timed("approve totp", func() error {
			got, err := c.UpdateChallenge(va, "bob-00000001", *ch.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(codes.next(t)))
			if err == nil && *got.Status != "approved" {
				err = fmt.Errorf("status %s", *got.Status)
			}
			return err
		})
		// A challenge created with the right code is approved at once,
		// and that is an approval too.
		timed("create approved totp", func() error {
			got, err := c.CreateChallenge(va, "bob-00000001", new(openapi.CreateChallengeParams).SetFactorSid(*nf.Sid).SetAuthPayload(codes.next(t)))
			if err == nil && *got.Status != "approved" {
				err = fmt.Errorf("status %s", *got.Status)
			}
			if err == nil {
				totpCreated = *got.Sid
			}
			return err
		})
	}
	timed("delete entity", func() error { return c.DeleteEntity(va, "bob-00000001") })

	got := good.waitEvents(t, 12, 10*time.Second)
	byKey := map[string]url.Values{}
	seen := map[string]bool{}
	for _, f := range got {
		key := f.Get("type") + " " + f.Get("factor_sid") + " " + f.Get("challenge_sid")
		byKey[key] = f
		if !uuidRE.MatchString(f.Get("uuid")) || seen[f.Get("uuid")] {
			t.Fatalf("uuid %q (repeated %v)", f.Get("uuid"), seen[f.Get("uuid")])
		}
		seen[f.Get("uuid")] = true
		if _, err := time.Parse("2006-01-02T15:04:05Z", f.Get("sent_at")); err != nil {
			t.Fatalf("sent_at %q", f.Get("sent_at"))
		}
		if f.Get("account_sid") != testAccount || f.Get("service_sid") != va {
			t.Fatalf("event %v", f)
		}
	}
	want := func(typ, factor, challenge, identity, ftype string) url.Values {
		t.Helper()
		f, ok := byKey[typ+" "+factor+" "+challenge]
		if !ok {
			t.Fatalf("no %s for %s %s", typ, factor, challenge)
		}
		if f.Get("entity_identity") != identity || f.Get("factor_type") != ftype {
			t.Fatalf("%s: %v", typ, f)
		}
		return f
	}
	if f := want("factor.created", st.FactorSid, "", "ana-00000001", "push"); f.Get("factor_friendly_name") != "Ana's phone" || f.Has("challenge_sid") {
		t.Fatalf("factor.created: %v", f)
	}
	want("factor.verified", st.FactorSid, "", "ana-00000001", "push")
	want("factor.deleted", st.FactorSid, "", "ana-00000001", "push")
	for _, ch := range []struct{ sid, status string }{{approved, "approved"}, {denied, "denied"}} {
		f := want("challenge."+ch.status, st.FactorSid, ch.sid, "ana-00000001", "push")
		if f.Get("challenge_status") != ch.status || !strings.Contains(f.Get("challenge_details"), `"message":"Log in to https://example.com? \u003cAna \u0026 Bob\u003e café"`) &&
			!strings.Contains(f.Get("challenge_details"), "Log in to https://example.com?") ||
			!strings.Contains(f.Get("challenge_hidden_details"), `"ip":"203.0.113.7"`) || f.Get("challenge_responded_reason") != "none" {
			t.Fatalf("challenge.%s: %v", ch.status, f)
		}
	}
	for _, sid := range totp {
		want("factor.created", sid, "", "bob-00000001", "totp")
		want("factor.deleted", sid, "", "bob-00000001", "totp")
	}
	want("factor.verified", totp[0], "", "bob-00000001", "totp")
	for _, sid := range []string{totpChallenge, totpCreated} {
		if f := want("challenge.approved", totp[0], sid, "bob-00000001", "totp"); f.Get("challenge_status") != "approved" {
			t.Fatalf("totp challenge.approved: %v", f)
		}
	}
	if got, _ := off.events(); len(got) != 0 {
		t.Fatalf("the disabled webhook got %d events", len(got))
	}
	// Deleting the webhook stops further events to it.
	if err := c.DeleteWebhook(va, *wh.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchWebhook(va, *wh.Sid); err == nil {
		t.Fatal("deleted webhook still found")
	}
	if _, err := c.CreateNewFactor(va, "carol-00000001", new(openapi.CreateNewFactorParams).SetFriendlyName("x").SetFactorType("totp")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if got, _ := good.events(); len(got) != 12 {
		t.Fatalf("a deleted webhook got %d events", len(got)-12)
	}
}

func TestWebhookRefusals(t *testing.T) { forEachBackend(t, testWebhookRefusals) }

// testWebhookRefusals: every refused parameter gets a Twilio-shaped 400
// through twilio-go, and nothing is stored.
func testWebhookRefusals(t *testing.T, db string) {
	s, c := newServer(t, db)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Refusals"))
	if err != nil {
		t.Fatal(err)
	}
	va := *svc.Sid
	ok := "https://backend.example.com/hooks"
	create := func(name string, types []string, u string) *openapi.CreateWebhookParams {
		p := new(openapi.CreateWebhookParams)
		if name != "" {
			p.SetFriendlyName(name)
		}
		if types != nil {
			p.SetEventTypes(types)
		}
		if u != "" {
			p.SetWebhookUrl(u)
		}
		return p
	}
	all := []string{"*"}
	for _, tt := range []struct {
		name string
		p    *openapi.CreateWebhookParams
		code int
	}{
		{"no FriendlyName", create("", all, ok), 60300},
		{"no EventTypes", create("n", nil, ok), 60300},
		{"no WebhookUrl", create("n", all, ""), 60300},
		{"unknown event", create("n", []string{"factor.created", "factor.updated"}, ok), 60306},
		{"ftp URL", create("n", all, "ftp://backend.example.com/"), 60300},
		{"relative URL", create("n", all, "/hooks"), 60300},
		{"fragment", create("n", all, ok+"#rc=5"), 60300},
		{"user info", create("n", all, "https://u:p@backend.example.com/"), 60300},
		{"too long", create("n", all, ok+"?"+strings.Repeat("a", 2048)), 60300},
		{"metadata IPv4", create("n", all, "http://169.254.169.254/latest/meta-data/"), 60300},
		{"link-local IPv4", create("n", all, "http://169.254.10.1:8080/"), 60300},
		{"link-local IPv6", create("n", all, "http://[fe80::1%25eth0]/"), 60300},
		{"metadata name", create("n", all, "http://metadata.google.internal/computeMetadata/v1/"), 60300},
		{"metadata IPv6", create("n", all, "http://[fd00:ec2::254]/"), 60300},
		{"bad Status", create("n", all, ok).SetStatus("paused"), 60300},
		{"bad Version", create("n", all, ok).SetVersion("v3"), 60300},
	} {
		_, err := c.CreateWebhook(va, tt.p)
		if err == nil {
			t.Fatalf("%s: created", tt.name)
		}
		wantTwilioError(t, err, tt.code, 400)
	}
	if list, err := c.ListWebhook(va, nil); err != nil || len(list) != 0 {
		t.Fatalf("after refusals: %d webhooks, %v", len(list), err)
	}
	// Loopback is allowed by default; an update to a refused URL changes
	// nothing.
	wh, err := c.CreateWebhook(va, create("local", all, "http://127.0.0.1:9/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateWebhook(va, *wh.Sid, new(openapi.UpdateWebhookParams).SetWebhookUrl("http://169.254.169.254/"))
	wantTwilioError(t, err, 60300, 400)
	_, err = c.UpdateWebhook(va, *wh.Sid, new(openapi.UpdateWebhookParams).SetEventTypes([]string{"challenge.created"}))
	wantTwilioError(t, err, 60306, 400)
	if got, err := c.FetchWebhook(va, *wh.Sid); err != nil || *got.WebhookUrl != "http://127.0.0.1:9/hooks" || (*got.EventTypes)[0] != "*" {
		t.Fatalf("after refused updates: %+v, %v", got, err)
	}
	_ = s
}

func TestWebhookPublicOnly(t *testing.T) {
	db := t.TempDir() + "/v.db"
	s := startServer(t, db, map[string]string{"VERIFYD_ACCOUNT_SID": testAccount, "VERIFYD_AUTH_TOKEN": testToken,
		"VERIFYD_WEBHOOK_PUBLIC_ONLY": "true"})
	c := twilioClient(t, s, testAccount, testToken)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Public"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1/h", "http://10.1.2.3/h", "http://[::1]/h", "http://localhost:8080/h", "http://192.168.1.1/h"} {
		_, err := c.CreateWebhook(*svc.Sid, new(openapi.CreateWebhookParams).SetFriendlyName("n").SetEventTypes([]string{"*"}).SetWebhookUrl(u))
		wantTwilioError(t, err, 60300, 400)
	}
	if _, err := c.CreateWebhook(*svc.Sid, new(openapi.CreateWebhookParams).SetFriendlyName("n").SetEventTypes([]string{"*"}).SetWebhookUrl("https://203.0.113.9/h")); err != nil {
		t.Fatalf("a public target refused: %v", err)
	}
}

func TestWebhookChallengeExpired(t *testing.T) { forEachBackend(t, testWebhookChallengeExpired) }

// testWebhookChallengeExpired: the sweep sends challenge.expired to a
// webhook that lists it, and not to one subscribed to "*" (Twilio has no
// such event, so no Twilio receiver gets it unasked).
func testWebhookChallengeExpired(t *testing.T, db string) {
	s := startServer(t, db, accountEnv(testAccount, testToken), "--sweep-interval", "100ms")
	c := twilioClient(t, s, testAccount, testToken)
	listed := newHookReceiver(t, testToken, false)
	star := newHookReceiver(t, testToken, false)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Expiry"))
	if err != nil {
		t.Fatal(err)
	}
	va := *svc.Sid
	for _, h := range []struct {
		r     *hookReceiver
		types []string
	}{{listed, []string{"challenge.expired"}}, {star, []string{"*"}}} {
		if _, err := c.CreateWebhook(va, new(openapi.CreateWebhookParams).SetFriendlyName("h").
			SetEventTypes(h.types).SetWebhookUrl(h.r.url())); err != nil {
			t.Fatal(err)
		}
	}
	d := &device.Client{}
	st, err := d.Enroll(context.Background(), s.base, va, "dan-00000001", devToken(t, c, va, "dan-00000001"), "Dan's phone", "none", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch, err := c.CreateChallenge(va, "dan-00000001", new(openapi.CreateChallengeParams).SetFactorSid(st.FactorSid).
		SetDetailsMessage("Log in?").SetExpirationDate(time.Now().Add(2*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	got := listed.waitEvents(t, 1, 10*time.Second)
	f := got[0]
	if f.Get("type") != "challenge.expired" || f.Get("challenge_sid") != *ch.Sid || f.Get("challenge_status") != "expired" ||
		f.Get("factor_sid") != st.FactorSid || f.Get("entity_identity") != "dan-00000001" {
		t.Fatalf("challenge.expired: %v", f)
	}
	for _, e := range star.waitEvents(t, 2, 5*time.Second) { // factor.created and factor.verified
		if e.Get("type") == "challenge.expired" {
			t.Fatal(`"*" got challenge.expired`)
		}
	}
}
