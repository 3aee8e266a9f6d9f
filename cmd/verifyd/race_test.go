package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// TestConcurrentNodes sends the same approvals, TOTP codes, enrollments and
// capped creations from many clients at once: on PostgreSQL to two servers
// sharing one database (the several-nodes set-up), on SQLite to one server.
// Each state change must have exactly one winner, every other attempt must
// be a proper Twilio answer, and counters must be exact. Both servers also
// sweep every 100ms meanwhile.
func TestConcurrentNodes(t *testing.T) { forEachBackend(t, testConcurrentNodes) }

// clients is how many requests race for each state change.
const clients = 32

func testConcurrentNodes(t *testing.T, db string) {
	env := accountEnv(testAccount, testToken)
	env["VERIFYD_SECRET_KEY"] = testSecretKey // nodes must share the key
	nodes := []*server{startServer(t, db, env, "--sweep-interval", "100ms")}
	if sqlstore.IsPostgres(db) {
		nodes = append(nodes, startServer(t, db, env, "--sweep-interval", "100ms"))
	}
	s := nodes[0]
	c := twilioClient(t, s, testAccount, testToken)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Race"))
	if err != nil {
		t.Fatal(err)
	}
	VA := *svc.Sid
	entity := func(identity string) string { return "/v2/Services/" + VA + "/Entities/" + identity }
	account := func(method, path string, form url.Values) func(*server) hit {
		return func(s *server) hit { return send(s, method, path, testAccount, testToken, form) }
	}

	t.Run("PushApproval", func(t *testing.T) {
		d := enrollRaw(t, s, c, VA, "race-push-0001")
		ch, err := c.CreateChallenge(VA, d.identity, new(openapi.CreateChallengeParams).SetFactorSid(d.sid).SetDetailsMessage("Log in?"))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := deviceCall(t, s, "GET", d.e+"/Challenges/"+*ch.Sid, d.jwt(t, time.Now()), nil)
		payload := answer(t, d.key, body, resp.Header.Get("Twilio-Verify-Signature-Fields"), "approved")
		jwt := d.jwt(t, time.Now())
		got := storm(nodes, func(int) func(*server) hit {
			return func(s *server) hit {
				return send(s, "POST", d.e+"/Challenges/"+*ch.Sid, "token", jwt, url.Values{"AuthPayload": {payload}})
			}
		})
		wantTally(t, got, map[string]int{"200 approved": 1, "403 60322": clients - 1})
	})

	// One verified TOTP factor serves the code races; a skew of 2 leaves
	// codes for two requests within the window (see codes.next).
	E := entity("race-totp-0001")
	st, body := call(t, s, "POST", E+"/Factors", url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}, "Config.Skew": {"2"}})
	if st != 201 {
		t.Fatal(st, body)
	}
	factor := body["sid"].(string)
	codes := newCodes(t, body["binding"].(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 2})
	if st, body = call(t, s, "POST", E+"/Factors/"+factor, url.Values{"AuthPayload": {codes.next(t)}}); body["status"] != "verified" {
		t.Fatal(st, body)
	}
	challenge := func(t *testing.T) string {
		t.Helper()
		st, body := call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {factor}})
		if st != 201 {
			t.Fatal(st, body)
		}
		return body["sid"].(string)
	}

	t.Run("SameTotpCode", func(t *testing.T) {
		ch := challenge(t)
		code := codes.next(t)
		got := storm(nodes, func(int) func(*server) hit {
			return account("POST", E+"/Challenges/"+ch, url.Values{"AuthPayload": {code}})
		})
		// One request uses the code. The others see a replay, which counts
		// as a wrong code (at most 5), or arrive after the approval (60322)
		// or after the fifth wrong code (60308).
		tally := count(got)
		if tally["200 approved"] != 1 || tally["200 pending"] > 5 ||
			tally["200 approved"]+tally["200 pending"]+tally["403 60322"]+tally["429 60308"] != clients {
			t.Fatalf("answers: %v", tally)
		}
		// The time step stays used: the code does not approve another challenge.
		st, body := call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {factor}, "AuthPayload": {code}})
		if st != 201 || body["status"] != "pending" {
			t.Fatalf("replay on a new challenge: %d %v", st, body)
		}
	})

	t.Run("WrongCodes", func(t *testing.T) {
		ch := challenge(t)
		wrong := codes.wrong(t)
		got := storm(nodes, func(int) func(*server) hit {
			return account("POST", E+"/Challenges/"+ch, url.Values{"AuthPayload": {wrong}})
		})
		wantTally(t, got, map[string]int{"200 pending": 5, "429 60308": clients - 5})
	})

	t.Run("SameAccessToken", func(t *testing.T) {
		const identity = "race-enroll-01"
		at, err := c.CreateAccessToken(VA, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
		if err != nil {
			t.Fatal(err)
		}
		forms := pushForms(t, "none")
		got := storm(nodes, func(i int) func(*server) hit {
			return func(s *server) hit { return send(s, "POST", entity(identity)+"/Factors", "token", *at.Token, forms[i]) }
		})
		wantTally(t, got, map[string]int{"201 unverified": 1, "403 60313": clients - 1})
		wantFactors(t, s, entity(identity), 1)
	})

	t.Run("FactorCap", func(t *testing.T) {
		// A new identity: the entity is created by the racing requests too.
		forms := pushForms(t, "none")
		got := storm(nodes, func(i int) func(*server) hit {
			return account("POST", entity("race-cap-0001")+"/Factors", forms[i])
		})
		wantTally(t, got, map[string]int{"201 unverified": 20, "400 60315": clients - 20})
		wantFactors(t, s, entity("race-cap-0001"), 20)
	})

	t.Run("Notifications", func(t *testing.T) {
		k, pub := verifytest.DeviceKey(t)
		N := entity("race-notify-1")
		st, body := call(t, s, "POST", N+"/Factors", pushForm("phone", pub, "apn"))
		if st != 201 {
			t.Fatal(st, body)
		}
		fs := body["sid"].(string)
		if st, body = call(t, s, "POST", N+"/Factors/"+fs, url.Values{"AuthPayload": {verifytest.SignSid(t, k, fs)}}); body["status"] != "verified" {
			t.Fatal(st, body)
		}
		st, body = call(t, s, "POST", N+"/Challenges", url.Values{"FactorSid": {fs}, "Details.Message": {"Log in?"}})
		if st != 201 {
			t.Fatal(st, body)
		}
		got := storm(nodes, func(int) func(*server) hit {
			return account("POST", N+"/Challenges/"+body["sid"].(string)+"/Notifications", nil)
		})
		wantTally(t, got, map[string]int{"201 ": 3, "429 60309": clients - 3})
	})

	t.Run("WebhookCap", func(t *testing.T) {
		// A service takes at most MaxWebhooksPerService webhooks: the
		// count and the insert hold the service's row (PostgreSQL) or the
		// single writer (SQLite), so a burst cannot pass the cap.
		got := storm(nodes, func(i int) func(*server) hit {
			return account("POST", "/v2/Services/"+VA+"/Webhooks", url.Values{"FriendlyName": {fmt.Sprintf("hook %d", i)},
				"EventTypes": {"*"}, "WebhookUrl": {fmt.Sprintf("https://example.com/hook/%d", i)}})
		})
		wantTally(t, got, map[string]int{"201 enabled": verify.MaxWebhooksPerService, fmt.Sprintf("400 %d", verify.EPushParam): clients - verify.MaxWebhooksPerService})
		st, body := call(t, s, "GET", "/v2/Services/"+VA+"/Webhooks", url.Values{"PageSize": {"100"}})
		if list, _ := body["webhooks"].([]any); st != 200 || len(list) != verify.MaxWebhooksPerService {
			t.Fatalf("the service has %d webhooks (HTTP %d), want %d", len(list), st, verify.MaxWebhooksPerService)
		}
	})

	t.Run("SameEntity", func(t *testing.T) {
		got := storm(nodes, func(int) func(*server) hit {
			return account("POST", "/v2/Services/"+VA+"/Entities", url.Values{"Identity": {"race-entity-01"}})
		})
		wantTally(t, got, map[string]int{"201 ": 1, "409 60301": clients - 1})
	})
}

// hit is the outcome of one racing request: the HTTP status, and the
// resource's status or the Twilio error code; err if there was no answer.
type hit struct {
	status int
	what   string
	err    error
}

func (h hit) String() string {
	if h.err != nil {
		return h.err.Error()
	}
	return fmt.Sprintf("%d %s", h.status, h.what)
}

// send makes one request with Basic credentials. It uses no *testing.T, so
// that goroutines may call it.
func send(s *server, method, path, user, pass string, form url.Values) hit {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return hit{err: err}
	}
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hit{err: err}
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return hit{err: fmt.Errorf("HTTP %d: body: %w", resp.StatusCode, err)}
	}
	if code, ok := body["code"].(float64); ok && resp.StatusCode >= 400 {
		return hit{status: resp.StatusCode, what: fmt.Sprint(int(code))}
	}
	st, _ := body["status"].(string)
	return hit{status: resp.StatusCode, what: st}
}

// storm sends clients requests at once, spread over the nodes; req(i)
// builds request i before the start, so that they leave together.
func storm(nodes []*server, req func(i int) func(*server) hit) []hit {
	fns := make([]func(*server) hit, clients)
	for i := range fns {
		fns[i] = req(i)
	}
	hits := make([]hit, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			<-start
			hits[i] = fns[i](nodes[i%len(nodes)])
		})
	}
	close(start)
	wg.Wait()
	return hits
}

func count(hits []hit) map[string]int {
	m := map[string]int{}
	for _, h := range hits {
		m[h.String()]++
	}
	return m
}

// wantTally fails unless the outcomes are exactly want.
func wantTally(t *testing.T, hits []hit, want map[string]int) {
	t.Helper()
	got := count(hits)
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Fatalf("answers: got %v, want %v", sorted(got), sorted(want))
	}
}

func sorted(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(out)
	return out
}

// pushForms returns a create-factor form with its own key per client.
func pushForms(t *testing.T, platform string) []url.Values {
	t.Helper()
	forms := make([]url.Values, clients)
	for i := range forms {
		_, pub := verifytest.DeviceKey(t)
		forms[i] = pushForm(fmt.Sprintf("device %d", i), pub, platform)
	}
	return forms
}

// wantFactors fails unless the entity at path has n factors.
func wantFactors(t *testing.T, s *server, path string, n int) {
	t.Helper()
	st, body := call(t, s, "GET", path+"/Factors", url.Values{"PageSize": {"100"}})
	if list, _ := body["factors"].([]any); st != 200 || len(list) != n {
		t.Fatalf("%s has %d factors (HTTP %d), want %d", path, len(list), st, n)
	}
}
