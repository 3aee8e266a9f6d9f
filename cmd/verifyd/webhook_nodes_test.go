package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/device"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
)

// nodeIdentities is the number of identities of TestWebhooksTwoNodes; each
// makes four events (factor created, verified, a challenge approved, the
// factor deleted), so 1,000 events in all.
const nodeIdentities = 250

// TestWebhooksTwoNodes: two servers on one PostgreSQL database share the
// API calls of 250 identities, each call on the other node than the one
// before, half of them enrolling and answering with the device package (a
// push factor) and half with TOTP codes. Both nodes enqueue and both
// workers claim from the one outbox, so a row delivered twice, or lost
// between them, would show at the receiver: it counts exactly 1,000 valid
// requests with 1,000 distinct uuids, one per expected (event type, factor,
// challenge), and no more a second later.
func TestWebhooksTwoNodes(t *testing.T) {
	if os.Getenv(verifytest.EnvPostgres) == "" {
		t.Skip("needs PostgreSQL (" + verifytest.EnvPostgres + "): SQLite has one server per file")
	}
	db := verifytest.DSN(t, verifytest.Postgres)
	recv := newHookReceiver(t, testToken, false)
	sa, ca := newServer(t, db)
	sb, cb := newServer(t, db)
	nodes := [2]twoNode{{sa, ca}, {sb, cb}}
	svc, err := ca.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Two nodes"))
	if err != nil {
		t.Fatal(err)
	}
	va := *svc.Sid
	if _, err := cb.CreateWebhook(va, new(openapi.CreateWebhookParams).SetFriendlyName("h").
		SetEventTypes([]string{"factor.created", "factor.verified", "challenge.approved", "factor.deleted"}).SetWebhookUrl(recv.url())); err != nil {
		t.Fatal(err)
	}

	// Each identity runs its calls in order in one goroutine, 16 identities
	// at a time; want[i] is what identity i's calls must have fired.
	want := make([][]wantEvent, nodeIdentities)
	errs := make([]error, nodeIdentities)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range nodeIdentities {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// The first call goes to node i%2, each next one to the other.
			k := i
			next := func() twoNode { k++; return nodes[(k-1)%2] }
			identity := fmt.Sprintf("user-%08d", i)
			if i%2 == 0 {
				want[i], errs[i] = pushLifecycle(va, identity, next)
			} else {
				want[i], errs[i] = totpLifecycle(va, identity, next)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("user-%08d: %v", i, err)
		}
	}
	t.Logf("%d identities' calls took %v", nodeIdentities, time.Since(start))

	n := 4 * nodeIdentities
	got := recv.waitEvents(t, n, 20*time.Second)
	t.Logf("%d events delivered %v after the first call", n, time.Since(start))
	expected := map[string]wantEvent{}
	for _, ws := range want {
		for _, w := range ws {
			expected[w.key()] = w
		}
	}
	if len(expected) != n {
		t.Fatalf("the test expects %d distinct events, not %d", len(expected), n)
	}
	uuids := map[string]bool{}
	seen := map[string]bool{}
	for _, f := range got {
		if !uuidRE.MatchString(f.Get("uuid")) || uuids[f.Get("uuid")] {
			t.Fatalf("uuid %q (repeated %v)", f.Get("uuid"), uuids[f.Get("uuid")])
		}
		uuids[f.Get("uuid")] = true
		w := wantEvent{f.Get("type"), f.Get("factor_sid"), f.Get("challenge_sid"), f.Get("entity_identity"), f.Get("factor_type")}
		if e, ok := expected[w.key()]; !ok || e != w || seen[w.key()] {
			t.Fatalf("event %v: expected %v, already seen %v", f, ok, seen[w.key()])
		}
		seen[w.key()] = true
	}
	if len(uuids) != n || len(seen) != n {
		t.Fatalf("%d requests, %d uuids, %d expected events; want %d of each", len(got), len(uuids), len(seen), n)
	}
	time.Sleep(time.Second) // a duplicate would arrive late
	if got, bad := recv.events(); len(got) != n || bad != 0 {
		t.Fatalf("%d requests (%d invalid) after a second, want %d", len(got), bad, n)
	}
}

// twoNode is one server of TestWebhooksTwoNodes and its twilio-go client.
type twoNode struct {
	s *server
	c *openapi.ApiService
}

// wantEvent is a webhook event as the receiver sees it.
type wantEvent struct {
	typ, factor, challenge, identity, factorType string
}

func (w wantEvent) key() string { return w.typ + " " + w.factor + " " + w.challenge }

// pushLifecycle runs a push factor's life on alternating nodes (next gives
// the node of each call): the backend makes an access token, the phone
// enrolls and verifies, the backend starts a challenge, the phone approves
// it, the backend deletes the factor. It runs off the test's goroutine, so
// it returns errors instead of failing the test.
func pushLifecycle(va, identity string, next func() twoNode) ([]wantEvent, error) {
	ctx := context.Background()
	at, err := next().c.CreateAccessToken(va, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	d := &device.Client{}
	st, err := d.Enroll(ctx, next().s.base, va, identity, *at.Token, "phone", "none", "", nil)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	st.BaseURL = device.NormalizeBaseURL(next().s.base)
	if status, err := d.Verify(ctx); err != nil || status != "verified" {
		return nil, fmt.Errorf("verify: %s, %v", status, err)
	}
	ch, err := next().c.CreateChallenge(va, identity, new(openapi.CreateChallengeParams).SetFactorSid(st.FactorSid).SetDetailsMessage("Log in?"))
	if err != nil {
		return nil, fmt.Errorf("challenge: %w", err)
	}
	st.BaseURL = device.NormalizeBaseURL(next().s.base)
	if got, err := d.Respond(ctx, *ch.Sid, true); err != nil || got.Status != "approved" {
		return nil, fmt.Errorf("approve: %+v, %v", got, err)
	}
	if err := next().c.DeleteFactor(va, identity, st.FactorSid); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	return lifecycleEvents(identity, "push", st.FactorSid, *ch.Sid), nil
}

// totpLifecycle is pushLifecycle for a TOTP factor: created, verified with
// a code, a challenge created with the next code (approved at once, which
// is an approval too), deleted.
func totpLifecycle(va, identity string, next func() twoNode) ([]wantEvent, error) {
	f, err := next().c.CreateNewFactor(va, identity, new(openapi.CreateNewFactorParams).SetFriendlyName("app").
		SetFactorType("totp").SetConfigSkew(2))
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	secret, err := otp.DecodeSecret((*f.Binding).(map[string]any)["secret"].(string))
	if err != nil {
		return nil, err
	}
	// The codes of the step before now's and of now's: both within a skew
	// of 2 steps while the calls last less than a 30 s step, and distinct,
	// as the server refuses a step used before.
	now := otp.Counter(time.Now(), 30)
	c1, err := otp.HOTP(secret, now-1, "sha1", 6)
	if err != nil {
		return nil, err
	}
	if got, err := next().c.UpdateFactor(va, identity, *f.Sid, new(openapi.UpdateFactorParams).SetAuthPayload(c1)); err != nil || *got.Status != "verified" {
		return nil, fmt.Errorf("verify: %v", err)
	}
	c2, err := otp.HOTP(secret, now, "sha1", 6)
	if err != nil {
		return nil, err
	}
	ch, err := next().c.CreateChallenge(va, identity, new(openapi.CreateChallengeParams).SetFactorSid(*f.Sid).SetAuthPayload(c2))
	if err != nil || *ch.Status != "approved" {
		return nil, fmt.Errorf("challenge: %v", err)
	}
	if err := next().c.DeleteFactor(va, identity, *f.Sid); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	return lifecycleEvents(identity, "totp", *f.Sid, *ch.Sid), nil
}

func lifecycleEvents(identity, factorType, factor, challenge string) []wantEvent {
	return []wantEvent{
		{"factor.created", factor, "", identity, factorType},
		{"factor.verified", factor, "", identity, factorType},
		{"challenge.approved", factor, challenge, identity, factorType},
		{"factor.deleted", factor, "", identity, factorType},
	}
}
