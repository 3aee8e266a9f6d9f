package console

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/code"
	"github.com/verifyd/verify/notify/inbox"
	"github.com/verifyd/verify/notify/push"
	"github.com/verifyd/verify/notify/webhook"
)

// activityEnv is the shared env on one backend, with the server's outbox
// worker delivering to receivers on loopback: webhooks to /ok (200),
// /gone (410) and /busy (503), pushes through the real push sender (which
// fails a push at once when the service has no credential), codes to the
// development inbox.
type activityEnv struct {
	*testEnv
	recv  *httptest.Server
	inbox *inbox.Inbox
}

func newActivityEnv(t *testing.T, dsn string) *activityEnv {
	t.Helper()
	e := &activityEnv{testEnv: newTestEnv(t, Config{}, withStore(dsn), withCodeChannels(verify.ChannelSMS))}
	db, v := e.db, e.v
	e.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/gone"):
			w.WriteHeader(http.StatusGone)
		case strings.HasSuffix(r.URL.Path, "/busy"):
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(e.recv.Close)

	quiet := slog.New(slog.DiscardHandler)
	e.inbox = inbox.New(quiet, time.Now, 0)
	w := &notify.Worker{Store: db, Logger: quiet, Now: time.Now, Poll: 20 * time.Millisecond,
		Senders: map[verify.OutboxKind]notify.Sender{
			verify.OutboxWebhook: webhook.NewSender(v.SigningToken, time.Now, false),
			verify.OutboxPush:    &push.Sender{Store: db, Now: time.Now},
			verify.OutboxCode: &code.Sender{Open: v.OpenCodeDelivery, Store: db, Now: time.Now, Logger: quiet,
				Channels: map[string]code.Transport{verify.ChannelSMS: e.inbox}},
		},
		Schedules: map[verify.OutboxKind][]time.Duration{verify.OutboxPush: notify.PushSchedule, verify.OutboxCode: notify.CodeSchedule}}
	wctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	t.Cleanup(func() { stop(); <-done })
	return e
}

// activityGet is b's page at path, which must answer status, as read:
// html/template writes "+" as &#43; and "&" as &amp;.
func activityGet(b *browser, path string, status int) string {
	b.e.t.Helper()
	return html.UnescapeString(b.getWant(path, status))
}

// activityPost is b's answer to form at path, which must be status, as
// read (see activityGet).
func activityPost(b *browser, path string, form url.Values, status int) string {
	b.e.t.Helper()
	return html.UnescapeString(b.postWant(path, form, status))
}

// activityPages follows a list's Next links from path and returns every
// page.
func activityPages(b *browser, path string) []string {
	b.e.t.Helper()
	var out []string
	for range 20 {
		page := activityGet(b, path, http.StatusOK)
		out = append(out, page)
		m := activityNext.FindStringSubmatch(page)
		if m == nil {
			return out
		}
		path = m[1]
	}
	b.e.t.Fatal("the Next links do not end")
	return nil
}

var (
	activityNext     = regexp.MustCompile(`<a href="([^"]+)" id="next"`)
	activityPrev     = regexp.MustCompile(`<a href="([^"]+)" id="prev"`)
	activityDelivery = regexp.MustCompile(`<tr id="delivery-([^"]+)">`)
	activityAttempt  = regexp.MustCompile(`<tr id="attempt-([^"]+)">`)
)

// activityField returns the first submatch of re in page.
func activityField(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, page)
	}
	return m[1]
}

func activityAll(re *regexp.Regexp, pages ...string) []string {
	var out []string
	for _, p := range pages {
		for _, m := range re.FindAllStringSubmatch(p, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

func (e *activityEnv) service(account verify.Sid, name string) verify.Sid {
	e.t.Helper()
	s, err := e.v.CreateService(e.ctx, account, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Sid
}

func (e *activityEnv) hook(account, service verify.Sid, name, path string) *verify.Webhook {
	e.t.Helper()
	u := e.recv.URL + path
	h, err := e.v.CreateWebhook(e.ctx, account, service, verify.WebhookParams{FriendlyName: &name, URL: &u, EventTypes: []string{"*"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *activityEnv) totp(account, service verify.Sid, identity string) {
	e.t.Helper()
	name, typ := "phone", "totp"
	if _, err := e.v.CreateFactor(e.ctx, account, service, identity, verify.FactorParams{FriendlyName: &name, FactorType: &typ}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *activityEnv) verification(account, service verify.Sid, to string) *verify.Verification {
	e.t.Helper()
	sms := verify.ChannelSMS
	ver, err := e.v.CreateVerification(e.ctx, account, service, verify.VerificationParams{To: &to, Channel: &sms})
	if err != nil {
		e.t.Fatal(err)
	}
	return ver
}

// outboxOf is the independent truth of the deliveries page: the IDs of
// the webhook rows whose frozen payload names account, and of the push
// rows of its challenges, read from the operator's list of the whole
// outbox rather than by the account column the page reads.
func (e *activityEnv) outboxOf(account verify.Sid, challenges ...verify.Sid) []string {
	e.t.Helper()
	rows, err := e.db.ListOutbox(e.ctx, "", 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, m := range rows {
		switch m.Kind {
		case verify.OutboxWebhook:
			var p verify.WebhookPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				e.t.Fatal(err)
			}
			if p.Account == account {
				ids = append(ids, m.ID)
			}
		case verify.OutboxPush:
			var p verify.PushPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				e.t.Fatal(err)
			}
			if slices.Contains(challenges, p.ChallengeSid) {
				ids = append(ids, m.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// settled waits until the worker has made an attempt at every webhook and
// push row and settled all but those to /busy, which it retries.
func (e *activityEnv) settled(busy ...verify.Sid) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, err := e.db.ListOutbox(e.ctx, verify.OutboxPending, 10000)
		if err != nil {
			e.t.Fatal(err)
		}
		waiting := 0
		for _, m := range rows {
			if m.Kind != verify.OutboxCode && (m.Attempts == 0 || m.LastError == "" || !slices.Contains(busy, verify.Sid(m.Ref))) {
				waiting++
			}
		}
		if waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d deliveries still waiting for their first outcome", waiting)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestActivityPages drives the deliveries, verifications and access
// token pages through signed-in browsers of two accounts, over deliveries
// and attempts the Verifier and the outbox worker really made: each page
// shows the account's own rows and nothing of the other account's, with
// the outcomes the worker recorded; the filters and paging hold; a token
// is shown once on creation and its use is seen by a later lookup; a POST
// without the session's CSRF token changes nothing.
func TestActivityPages(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		e := newActivityEnv(t, dsn)
		// Signing in seals each account's token, which signs its webhooks.
		a, b := e.signedIn(string(acctA), tokenA), e.signedIn(string(acctB), tokenB)

		svcA, svcB := e.service(acctA, "Shop"), e.service(acctB, "Other")
		ok := e.hook(acctA, svcA, "ok", "/a/ok?secret=hide-me")
		gone := e.hook(acctA, svcA, "gone", "/a/gone?secret=hide-me")
		busy := e.hook(acctA, svcA, "busy", "/a/busy")
		hookB := e.hook(acctB, svcB, "b", "/b/ok")
		tokensA := Prefix + "/services/" + string(svcA) + "/tokens"

		t.Run("AccessTokens", func(t *testing.T) {
			// The console makes no token (a credential): the API does.
			a.postWant(tokensA, url.Values{"identity": {"user-0001"}}, http.StatusMethodNotAllowed)
			identity, name, ttl := "user-0001", "Alice's phone", 120
			push := string(verify.FactorPush)
			at, err := e.v.CreateAccessToken(e.ctx, acctA, svcA, verify.AccessTokenParams{Identity: &identity,
				FactorType: &push, FactorFriendlyName: &name, TTL: &ttl})
			if err != nil {
				t.Fatal(err)
			}
			sid, token := at.Sid, at.Token
			// Another account's service is not found, nor its token there.
			b.getWant(tokensA, http.StatusNotFound)
			b.getWant(Prefix+"/services/"+string(svcB)+"/tokens?sid="+string(sid), http.StatusNotFound)
			a.getWant(tokensA+"?sid=YK00000000000000000000000000000000", http.StatusNotFound)

			page := activityGet(a, tokensA+"?sid="+string(sid), http.StatusOK)
			if got := activityField(t, regexp.MustCompile(`id="fetched-status">([^<]+)<`), page); got != "unused" {
				t.Fatalf("status before use: %q", got)
			}
			if exp := at.DateCreated.Add(120 * time.Second).UTC().Format("2006-01-02 15:04:05"); !strings.Contains(page, exp) {
				t.Fatalf("expiry %s not shown:\n%s", exp, page)
			}
			if strings.Contains(page, token) {
				t.Fatal("a lookup shows the token")
			}
			// The phone enrolls a push factor with it: the token is used.
			key, pub := verifytest.DeviceKey(t)
			typ, platform, app, sdk, fcm := "push", "fcm", "com.example.app", "4.0.0", activityFCMToken
			nf, err := e.v.EnrollFactor(e.ctx, token, svcA, "user-0001", verify.FactorParams{FactorType: &typ, BindingPublicKey: &pub,
				Config: verify.FactorConfig{AppID: &app, NotificationPlatform: &platform, NotificationToken: &fcm, SdkVersion: &sdk}})
			if err != nil {
				t.Fatal(err)
			}
			page = activityGet(a, tokensA+"?sid="+string(sid), http.StatusOK)
			if got := activityField(t, regexp.MustCompile(`id="fetched-status">([^<]+)<`), page); !strings.HasPrefix(got, "used ") {
				t.Fatalf("status after use: %q", got)
			}
			signed := verifytest.SignSid(t, key, string(nf.Sid))
			if _, err := e.v.UpdateFactor(e.ctx, acctA, svcA, "user-0001", nf.Sid, verify.FactorUpdate{AuthPayload: &signed}); err != nil {
				t.Fatal(err)
			}
		})

		// Enough events for two pages of account A's deliveries: one push
		// challenge, and factors whose factor.created go to three webhooks.
		factors, _, err := e.v.ListFactors(e.ctx, acctA, svcA, "user-0001", verify.Page{})
		if err != nil || len(factors) != 1 {
			t.Fatalf("the push factor: %v, %v", factors, err)
		}
		fs := string(factors[0].Sid)
		ch, err := e.v.CreateChallenge(e.ctx, acctA, svcA, "user-0001", verify.ChallengeParams{FactorSid: &fs, DetailsMessage: activityPtr("Log in?")})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 15 {
			e.totp(acctA, svcA, fmt.Sprintf("user-%04d", 100+i))
		}
		e.totp(acctB, svcB, "user-0002")
		// A code sent: an outbox row of A's that is no delivery.
		sent := e.verification(acctA, svcA, "+14155550100")
		e.settled(busy.Sid)

		t.Run("Deliveries", func(t *testing.T) {
			pages := activityPages(a, Prefix+"/deliveries")
			if len(pages) != 2 {
				t.Fatalf("%d pages of deliveries, want 2", len(pages))
			}
			shown := activityAll(activityDelivery, pages...)
			want := e.outboxOf(acctA, ch.Sid)
			if len(want) != 3*(1+1+15)+1 {
				t.Fatalf("%d deliveries made for A", len(want))
			}
			if got := slices.Sorted(slices.Values(shown)); !slices.Equal(got, want) {
				t.Fatalf("A's pages show %d deliveries %v,\nwant %d %v", len(got), got, len(want), want)
			}
			all := strings.Join(pages, "")
			for _, s := range []string{e.recv.URL + "/a/ok", e.recv.URL + "/a/gone", e.recv.URL + "/a/busy", "fcm com.example.app",
				"factor.created", "factor.verified", "delivered", "dead", "pending", "HTTP 410", "HTTP 503",
				"service has no fcm credential", string(ok.Sid), string(gone.Sid), string(ch.Sid)} {
				if !strings.Contains(all, s) {
					t.Errorf("A's deliveries do not show %q", s)
				}
			}
			for _, s := range []string{"hide-me", "secret=", "/b/ok", string(hookB.Sid), string(acctB), "fcmtoken"} {
				if strings.Contains(all, s) {
					t.Errorf("A's deliveries show %q", s)
				}
			}
			// Back from the second page is the first again.
			back := activityGet(a, activityField(t, activityPrev, pages[1]), http.StatusOK)
			if got, first := activityAll(activityDelivery, back), activityAll(activityDelivery, pages[0]); !slices.Equal(got, first) {
				t.Fatalf("Previous from page 2: %v,\nwant page 1: %v", got, first)
			}

			// B sees its own one and nothing of A's.
			bPages := activityPages(b, Prefix+"/deliveries")
			if got, want := activityAll(activityDelivery, bPages...), e.outboxOf(acctB); len(want) != 1 || !slices.Equal(got, want) {
				t.Fatalf("B's deliveries: %v, want %v", got, want)
			}
			if bAll := strings.Join(bPages, ""); !strings.Contains(bAll, e.recv.URL+"/b/ok") || strings.Contains(bAll, "/a/") || strings.Contains(bAll, string(ch.Sid)) {
				t.Fatalf("B's deliveries page:\n%s", bAll)
			}

			// Filters, kept by the paging links.
			page := activityGet(a, Prefix+"/deliveries?kind=push", http.StatusOK)
			if got := activityAll(activityDelivery, page); len(got) != 1 || got[0] != string(ch.Sid) || !strings.Contains(page, "dead") {
				t.Fatalf("pushes: %v\n%s", got, page)
			}
			page = activityGet(a, Prefix+"/deliveries?status=dead&kind=webhook", http.StatusOK)
			if got := activityAll(activityDelivery, page); len(got) != 17 || strings.Contains(page, "/a/ok") || strings.Contains(page, "/a/busy") {
				t.Fatalf("dead webhooks: %d rows\n%s", len(got), page)
			}
			dead := activityPages(a, Prefix+"/deliveries?status=dead")
			if got := activityAll(activityDelivery, dead...); len(got) != 18 {
				t.Fatalf("dead deliveries: %d rows", len(got))
			}
			if n := len(activityAll(activityDelivery, activityPages(a, Prefix+"/deliveries?status=pending")...)); n != 17 {
				t.Fatalf("pending deliveries (to /busy): %d rows", n)
			}
			// 51 webhook rows: two pages, the second still filtered.
			hooks := activityPages(a, Prefix+"/deliveries?kind=webhook")
			if n := len(activityAll(activityDelivery, hooks...)); len(hooks) != 2 || n != 51 || !strings.Contains(activityField(t, activityNext, hooks[0]), "kind=webhook") {
				t.Fatalf("webhooks: %d rows on %d pages", n, len(hooks))
			}
			// A code's send is not a delivery here (the attempts page has it).
			if strings.Contains(all, string(sent.Attempts[0].Sid)) {
				t.Fatal("a code's outbox row is listed as a delivery")
			}
			if page := activityGet(a, Prefix+"/deliveries?kind=code", http.StatusBadRequest); !strings.Contains(page, "Kind") {
				t.Fatalf("kind=code:\n%s", page)
			}
		})

		t.Run("Attempts", func(t *testing.T) {
			const toA1, toA2, toB = "+14155552671", "+14155552672", "+14155552673"
			v1 := e.verification(acctA, svcA, toA1)
			v2 := e.verification(acctA, svcA, toA2)
			vB := e.verification(acctB, svcB, toB)
			var msgs []inbox.Message
			for deadline := time.Now().Add(10 * time.Second); len(msgs) == 0; time.Sleep(20 * time.Millisecond) {
				if msgs = e.inbox.List(inbox.Filter{Account: acctA, To: toA1}); time.Now().After(deadline) {
					t.Fatal("the code was not sent")
				}
			}
			got, err := e.v.CheckVerification(e.ctx, acctA, svcA, verify.VerificationCheckParams{To: activityPtr(toA1), Code: &msgs[0].Code})
			if err != nil || got.Status != verify.VerificationApproved {
				t.Fatalf("check: %+v, %v", got, err)
			}
			// With the code sent before, to +14155550100: three attempts.
			page := activityGet(a, Prefix+"/attempts", http.StatusOK)
			summary := func(page string) (string, string, string) {
				return activityField(t, regexp.MustCompile(`id="summary-total">([^<]*)<`), page),
					activityField(t, regexp.MustCompile(`id="summary-converted">([^<]*)<`), page),
					activityField(t, regexp.MustCompile(`id="summary-rate">([^<]*)<`), page)
			}
			if total, conv, rate := summary(page); total != "3" || conv != "1" || rate != "33.3 %" {
				t.Fatalf("A's summary: %s attempts, %s converted, %s", total, conv, rate)
			}
			rows := activityAll(activityAttempt, page)
			// Newest first is (date_created, sid) descending: two attempts
			// made in the same second come in the order of their SIDs.
			want := []*verify.SendAttempt{v2.Attempts[0], v1.Attempts[0], sent.Attempts[0]}
			slices.SortStableFunc(want, func(x, y *verify.SendAttempt) int {
				if c := y.DateCreated.Unix() - x.DateCreated.Unix(); c != 0 {
					return int(c)
				}
				return strings.Compare(string(y.Sid), string(x.Sid))
			})
			if !slices.Equal(rows, activitySids([]verify.Sid{want[0].Sid, want[1].Sid, want[2].Sid})) {
				t.Fatalf("A's attempts, newest first: %v", rows)
			}
			if !strings.Contains(page, "confirmed") || !strings.Contains(page, toA2) || strings.Contains(page, toB) || strings.Contains(page, string(vB.Sid)) {
				t.Fatalf("A's attempts page:\n%s", page)
			}
			page = activityGet(b, Prefix+"/attempts", http.StatusOK)
			if total, conv, rate := summary(page); total != "1" || conv != "0" || rate != "0.0 %" {
				t.Fatalf("B's summary: %s, %s, %s", total, conv, rate)
			}
			if rows := activityAll(activityAttempt, page); len(rows) != 1 || rows[0] != string(vB.Attempts[0].Sid) || strings.Contains(page, toA1) {
				t.Fatalf("B's attempts: %v\n%s", rows, page)
			}

			today := time.Now().UTC().Format(time.DateOnly)
			yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
			for _, c := range []struct {
				query, total, conv, rate string
				rows                     []verify.Sid
			}{
				{"to=" + url.QueryEscape(toA1), "1", "1", "100.0 %", []verify.Sid{v1.Attempts[0].Sid}},
				{"status=unconverted&to=" + url.QueryEscape(toA2), "1", "0", "0.0 %", []verify.Sid{v2.Attempts[0].Sid}},
				{"status=converted", "1", "1", "100.0 %", []verify.Sid{v1.Attempts[0].Sid}},
				{"channel=call", "0", "0", "—", nil},
				{"channel=sms&from=" + today + "&until=" + today, "3", "1", "33.3 %", nil},
				{"until=" + yesterday, "0", "0", "—", nil},
			} {
				page := activityGet(a, Prefix+"/attempts?"+c.query, http.StatusOK)
				total, conv, rate := summary(page)
				rows := activityAll(activityAttempt, page)
				if total != c.total || conv != c.conv || rate != c.rate || c.rows != nil && !slices.Equal(rows, activitySids(c.rows)) ||
					total == "0" && len(rows) != 0 {
					t.Errorf("%s: %s, %s, %s, rows %v", c.query, total, conv, rate, rows)
				}
			}
			if page := activityGet(a, Prefix+"/attempts?from=2024-13-01", http.StatusBadRequest); !strings.Contains(page, "From must be a date") {
				t.Fatalf("a bad date:\n%s", page)
			}
			if page := activityGet(a, Prefix+"/attempts?to=not-a-number", http.StatusBadRequest); !strings.Contains(page, "(60200)") {
				t.Fatalf("a bad To:\n%s", page)
			}
		})
	})
}

// activityFCMToken is the push factor's notification token, which no
// page may show.
const activityFCMToken = "fcmtoken:" + "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"

func activityPtr(s string) *string { return &s }

func activitySids(sids []verify.Sid) []string {
	out := make([]string, len(sids))
	for i, s := range sids {
		out[i] = string(s)
	}
	return out
}
