package main

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/sqlstore"
)

// passkeyRP is the relying party of the passkeys tests, as a browser on
// http://localhost:8080 would see it.
var passkeyRP = virtualwebauthn.RelyingParty{ID: "localhost", Name: "verifyd test", Origin: "http://localhost:8080"}

// authenticator is a software WebAuthn authenticator holding one
// credential: it makes real packed attestations and ES256 assertions.
type authenticator struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	rp   virtualwebauthn.RelyingParty
}

func newAuthenticator(t testing.TB) *authenticator {
	return &authenticator{auth: virtualwebauthn.NewAuthenticator(), cred: verifytest.PasskeyCredential(t), rp: passkeyRP}
}

// optionsJSON is the options object of a Passkeys response as JSON text.
func optionsJSON(t *testing.T, options any) string {
	t.Helper()
	b, err := json.Marshal(options)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// register answers a factor's creation options: the user handle they
// name becomes the one the authenticator returns in assertions.
func (a *authenticator) register(t *testing.T, options any) openapi.VerifyPasskeysFactorRequest {
	t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(optionsJSON(t, options))
	if err != nil {
		t.Fatal(err)
	}
	a.auth.Options.UserHandle = []byte(o.UserID)
	var req openapi.VerifyPasskeysFactorRequest
	if err := json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.cred, *o)), &req); err != nil {
		t.Fatal(err)
	}
	req.AuthenticatorAttachment = "platform"
	req.Response.Transports = []string{"internal"}
	return req
}

// sign answers a challenge's request options with the next counter value.
func (a *authenticator) sign(t *testing.T, options any) openapi.ApprovePasskeysChallengeRequest {
	t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(optionsJSON(t, options))
	if err != nil {
		t.Fatal(err)
	}
	a.cred.Counter++
	var req openapi.ApprovePasskeysChallengeRequest
	if err := json.Unmarshal([]byte(virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.cred, *o)), &req); err != nil {
		t.Fatal(err)
	}
	req.AuthenticatorAttachment = "platform"
	return req
}

// passkeyService creates a service whose Passkeys settings are passkeyRP.
func passkeyService(t *testing.T, c *openapi.ApiService) string {
	t.Helper()
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Passkeys").
		SetPasskeysRelyingPartyId(passkeyRP.ID).SetPasskeysRelyingPartyName(passkeyRP.Name).
		SetPasskeysRelyingPartyOrigins(passkeyRP.Origin + ", https://app.example").
		SetPasskeysUserVerification("preferred").SetPasskeysDiscoverableCredentials("preferred"))
	if err != nil {
		t.Fatal(err)
	}
	return *svc.Sid
}

// enroll registers a's credential as a verified passkeys factor of
// identity and returns the factor SID.
func enroll(t *testing.T, c *openapi.ApiService, service, identity string, a *authenticator) string {
	t.Helper()
	nf, err := c.CreateNewFactorPasskey(service, new(openapi.CreateNewFactorPasskeyParams).SetCreateNewPasskeysFactorRequest(
		openapi.CreateNewPasskeysFactorRequest{FriendlyName: "Laptop", Identity: identity}))
	if err != nil {
		t.Fatal(err)
	}
	if nf.Status != "unverified" || nf.FactorType != "passkeys" || nf.Options == nil {
		t.Fatalf("new factor %+v", nf)
	}
	pk := (*nf.Options).(map[string]any)["publicKey"].(map[string]any)
	b64 := base64.RawURLEncoding.EncodeToString
	if pk["challenge"] != b64([]byte(*nf.Sid)) || pk["user"].(map[string]any)["id"] != b64([]byte(*nf.EntitySid)) {
		t.Fatalf("challenge or user handle: %v", pk)
	}
	if params, ok := pk["pubKeyCredParams"].([]any); !ok || len(params) == 0 {
		t.Fatalf("pubKeyCredParams must be an array: %v", pk["pubKeyCredParams"])
	}
	f, err := c.UpdatePasskeysFactor(service, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(a.register(t, *nf.Options)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != "verified" || *f.Sid != *nf.Sid {
		t.Fatalf("verified factor %+v", f)
	}
	return *nf.Sid
}

func createPasskeyChallenge(t *testing.T, c *openapi.ApiService, service string, req openapi.CreatePasskeysChallengeRequest) *openapi.CreateChallengePasskeysResponse {
	t.Helper()
	ch, err := c.CreateChallengePasskeys(service, new(openapi.CreateChallengePasskeysParams).SetCreatePasskeysChallengeRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Status != "pending" || ch.FactorType != "passkeys" || ch.Options == nil {
		t.Fatalf("challenge %+v", ch)
	}
	return ch
}

func approve(c *openapi.ApiService, service string, req openapi.ApprovePasskeysChallengeRequest) (*openapi.CreateChallengePasskeysResponse, error) {
	return c.UpdateChallengePasskeys(service, new(openapi.UpdateChallengePasskeysParams).SetApprovePasskeysChallengeRequest(req))
}

// challengeStatus reads a challenge as any client of the Challenges
// resource does.
func challengeStatus(t *testing.T, c *openapi.ApiService, service, identity, sid string) string {
	t.Helper()
	ch, err := c.FetchChallenge(service, identity, sid)
	if err != nil {
		t.Fatal(err)
	}
	return *ch.Status
}

// TestPasskeys registers a passkey with twilio-go and a software
// authenticator, logs in with the username and without it, and shows that
// a replayed assertion, a wrong origin, a sign counter that goes back and
// a credential of another service are refused with the challenge left
// pending.
func TestPasskeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		_, c := newServer(t, db)
		service := passkeyService(t, c)
		identity := "passkey-user-1"
		a := newAuthenticator(t)
		factor := enroll(t, c, service, identity, a)

		// Username login: the challenge names the entity's one passkey.
		ch := createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{Identity: identity})
		if *ch.FactorSid != factor || *ch.Identity != identity {
			t.Fatalf("challenge for %v/%v", *ch.Identity, *ch.FactorSid)
		}
		assertion := a.sign(t, ch.Options)
		done, err := approve(c, service, assertion)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "approved" || *done.Sid != *ch.Sid {
			t.Fatalf("approved %+v", done)
		}
		if got := challengeStatus(t, c, service, identity, *ch.Sid); got != "approved" {
			t.Fatalf("fetched status %s", got)
		}
		_, err = approve(c, service, assertion)
		wantTwilioError(t, err, 60322, 403) // replay

		// Discoverable login: no one named; the approval says who.
		ch = createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{})
		if *ch.EntitySid != "" || *ch.Identity != "" || *ch.FactorSid != "" {
			t.Fatalf("discoverable challenge names %v %v %v", *ch.EntitySid, *ch.Identity, *ch.FactorSid)
		}
		if allow := ch.Options["publicKey"].(map[string]any)["allowCredentials"].([]any); len(allow) != 0 {
			t.Fatalf("allowCredentials %v", allow)
		}
		done, err = approve(c, service, a.sign(t, ch.Options))
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "approved" || *done.Identity != identity || *done.FactorSid != factor {
			t.Fatalf("discoverable approval %+v", done)
		}
		if got := challengeStatus(t, c, service, identity, *ch.Sid); got != "approved" {
			t.Fatalf("fetched status %s", got)
		}

		// A wrong origin, then a counter that went back: refused, and the
		// challenge stays pending for a right answer.
		ch = createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{Identity: identity, FactorSid: factor})
		evil := *a
		evil.rp.Origin = "https://evil.example"
		_, err = approve(c, service, evil.sign(t, ch.Options))
		wantTwilioError(t, err, 60324, 403)
		a.cred.Counter = 1
		_, err = approve(c, service, a.sign(t, ch.Options))
		wantTwilioError(t, err, 60324, 403)
		if got := challengeStatus(t, c, service, identity, *ch.Sid); got != "pending" {
			t.Fatalf("status after refusals %s", got)
		}
		a.cred.Counter = 100
		if _, err := approve(c, service, a.sign(t, ch.Options)); err != nil {
			t.Fatal(err)
		}

		// A second passkey of the same user: its creation excludes the
		// first, and a login by identity then allows both, names no factor
		// until one signs, and is approved for the one that did.
		second := newAuthenticator(t)
		nf2, err := c.CreateNewFactorPasskey(service, new(openapi.CreateNewFactorPasskeyParams).SetCreateNewPasskeysFactorRequest(
			openapi.CreateNewPasskeysFactorRequest{FriendlyName: "Phone", Identity: identity}))
		if err != nil {
			t.Fatal(err)
		}
		exclude := (*nf2.Options).(map[string]any)["publicKey"].(map[string]any)["excludeCredentials"].([]any)
		if len(exclude) != 1 || exclude[0].(map[string]any)["id"] != base64.RawURLEncoding.EncodeToString(a.cred.ID) {
			t.Fatalf("excludeCredentials %v", exclude)
		}
		if _, err := c.UpdatePasskeysFactor(service, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(second.register(t, *nf2.Options))); err != nil {
			t.Fatal(err)
		}
		ch = createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{Identity: identity})
		if *ch.FactorSid != "" || *ch.Identity != identity {
			t.Fatalf("a login by identity with two passkeys names %q for %q", *ch.FactorSid, *ch.Identity)
		}
		if allow := ch.Options["publicKey"].(map[string]any)["allowCredentials"].([]any); len(allow) != 2 {
			t.Fatalf("allowCredentials %v", allow)
		}
		done, err = approve(c, service, second.sign(t, ch.Options))
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "approved" || *done.FactorSid != *nf2.Sid || *done.Identity != identity {
			t.Fatalf("approved by the second passkey: %+v", done)
		}
		if got := challengeStatus(t, c, service, identity, *ch.Sid); got != "approved" {
			t.Fatalf("fetched status %s", got)
		}

		// A passkey of another service does not answer this one's
		// challenges, and cannot be registered twice in its own.
		other := passkeyService(t, c)
		b := newAuthenticator(t)
		enroll(t, c, other, identity, b)
		ch = createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{})
		_, err = approve(c, service, b.sign(t, ch.Options))
		wantTwilioError(t, err, 60324, 403)
		nf, err := c.CreateNewFactorPasskey(other, new(openapi.CreateNewFactorPasskeyParams).SetCreateNewPasskeysFactorRequest(
			openapi.CreateNewPasskeysFactorRequest{FriendlyName: "Again", Identity: "passkey-user-2"}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdatePasskeysFactor(other, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(b.register(t, *nf.Options)))
		wantTwilioError(t, err, 60317, 409)
		f, err := c.FetchFactor(other, "passkey-user-2", *nf.Sid)
		if err != nil || *f.Status != "unverified" {
			t.Fatalf("factor after a refused registration: %v %v", f, err)
		}
	})
}

// TestPasskeyApprovalRace sends one valid assertion many times at once,
// on two nodes of one database on PostgreSQL: exactly one request approves
// the challenge.
func TestPasskeyApprovalRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		_, c := newServer(t, db)
		nodes := []*openapi.ApiService{c}
		if sqlstore.IsPostgres(db) {
			nodes = append(nodes, twilioClient(t, startServer(t, db, accountEnv(testAccount, testToken)), testAccount, testToken))
		}
		service := passkeyService(t, c)
		a := newAuthenticator(t)
		enroll(t, c, service, "racer-0001", a)
		for _, req := range []openapi.CreatePasskeysChallengeRequest{{Identity: "racer-0001"}, {}} {
			ch := createPasskeyChallenge(t, c, service, req)
			assertion := a.sign(t, ch.Options)
			ok, codes := burst(t, nodes, 16, func(_ int, node *openapi.ApiService) (string, error) {
				done, err := approve(node, service, assertion)
				if err != nil {
					return "", err
				}
				return done.Status, nil
			})
			if ok["approved"] != 1 || len(ok) != 1 {
				t.Fatalf("%+v: approvals %v, refusals %v", req, ok, codes)
			}
			for code := range codes {
				if code != 60322 && code != 60324 {
					t.Fatalf("refusal codes %v", codes)
				}
			}
		}
	})
}

// TestPasskeyWebhooks: passkeys emit the events other factors do, signed
// so that twilio-go's validator accepts them: factor.created and
// factor.verified on registration, challenge.approved on each login, a
// discoverable one included, naming the factor that signed.
func TestPasskeyWebhooks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		_, c := newServer(t, db)
		hook := newHookReceiver(t, testToken, false)
		service := passkeyService(t, c)
		if _, err := c.CreateWebhook(service, new(openapi.CreateWebhookParams).SetFriendlyName("backend").
			SetEventTypes([]string{"*"}).SetWebhookUrl(hook.url())); err != nil {
			t.Fatal(err)
		}
		a := newAuthenticator(t)
		factor := enroll(t, c, service, "hooked-0001", a)
		var approved []string
		for _, req := range []openapi.CreatePasskeysChallengeRequest{{Identity: "hooked-0001"}, {}} {
			ch := createPasskeyChallenge(t, c, service, req)
			if _, err := approve(c, service, a.sign(t, ch.Options)); err != nil {
				t.Fatal(err)
			}
			approved = append(approved, *ch.Sid)
		}
		got := map[string][]string{}
		for _, e := range hook.waitEvents(t, 4, 10*time.Second) {
			if e.Get("factor_type") != "passkeys" || e.Get("factor_sid") != factor || e.Get("entity_identity") != "hooked-0001" {
				t.Fatalf("event %v", e)
			}
			got[e.Get("type")] = append(got[e.Get("type")], e.Get("challenge_sid"))
		}
		if len(got["factor.created"]) != 1 || len(got["factor.verified"]) != 1 {
			t.Fatalf("factor events %v", got)
		}
		slices.Sort(approved)
		slices.Sort(got["challenge.approved"])
		if !slices.Equal(approved, got["challenge.approved"]) {
			t.Fatalf("challenge.approved for %v, want %v", got["challenge.approved"], approved)
		}
	})
}

// TestPasskeyThroughFactors: FactorType=passkeys on the ordinary create
// factor endpoint makes the same factor, with the service's settings and
// the creation options.
func TestPasskeyThroughFactors(t *testing.T) {
	_, c := newServer(t, filepath.Join(t.TempDir(), "verifyd.db"))
	service := passkeyService(t, c)
	nf, err := c.CreateNewFactor(service, "form-user-01", new(openapi.CreateNewFactorParams).
		SetFactorType("passkeys").SetFriendlyName("Key"))
	if err != nil {
		t.Fatal(err)
	}
	if nf.FactorType == nil || *nf.FactorType != "passkeys" || nf.Options == nil || nf.Config == nil {
		t.Fatalf("new factor %+v", nf)
	}
	rp := (*nf.Config).(map[string]any)["relying_party"].(map[string]any)
	if rp["id"] != passkeyRP.ID || len(rp["origins"].([]any)) != 2 {
		t.Fatalf("config from the service settings: %v", rp)
	}
	f, err := c.UpdatePasskeysFactor(service, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(newAuthenticator(t).register(t, *nf.Options)))
	if err != nil || f.Status != "verified" {
		t.Fatalf("verify: %+v %v", f, err)
	}
}
