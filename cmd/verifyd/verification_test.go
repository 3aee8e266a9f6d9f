package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/notify/gateway"
	"github.com/verifyd/verify/sqlstore"
)

const gatewaySecret = "gateway-secret-0123456789abcdef"

// gatewayReceiver is an operator's SMS gateway on loopback: it checks
// every request's X-Verifyd-Signature with gateway.Verify and keeps the
// valid ones. Requests to failTo answer 503 the first time.
type gatewayReceiver struct {
	t      *testing.T
	failTo string

	mu       sync.Mutex
	reqs     []gateway.Request
	invalid  int
	failures int
}

func (g *gatewayReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := gateway.Verify(gatewaySecret, r.Header.Get("X-Verifyd-Signature"), body, time.Now(), time.Minute); err != nil {
		g.invalid++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var req gateway.Request
	if err := json.Unmarshal(body, &req); err != nil || r.Header.Get("Idempotency-Key") != req.AttemptSid {
		g.invalid++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if req.To == g.failTo && g.failures == 0 {
		g.failures++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	g.reqs = append(g.reqs, req)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"message_id":"SM1","status":"sent","price":{"value":"0.0079","currency":"usd"}}`)
}

// waitFor returns the n-th accepted request to to (from 1), waiting up to
// 10 s for it.
func (g *gatewayReceiver) waitFor(to string, n int) gateway.Request {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		var got []gateway.Request
		for _, r := range g.reqs {
			if r.To == to {
				got = append(got, r)
			}
		}
		g.mu.Unlock()
		if len(got) >= n {
			return got[n-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatalf("the gateway received no request %d for %s", n, to)
	return gateway.Request{}
}

func newVerification(to, channel string) *openapi.CreateVerificationParams {
	return (&openapi.CreateVerificationParams{}).SetTo(to).SetChannel(channel)
}

func checkTo(to, code string) *openapi.CreateVerificationCheckParams {
	return (&openapi.CreateVerificationCheckParams{}).SetTo(to).SetCode(code)
}

// TestClassicVerify runs the classic flow with twilio-go against a server
// whose sms, call and whatsapp go to a signed HTTP gateway and whose email
// goes to the development inbox: sends, re-sends with the same code, the
// send and check limits, the lifecycle, and the errors of bad requests.
func TestClassicVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		g := &gatewayReceiver{t: t, failTo: "+14155550199"}
		env := gatewayEnv(t, g)
		env["VERIFYD_GATEWAY_INCLUDE_CODE"] = "true"
		env["VERIFYD_GATEWAY_CHANNELS"] = "sms,call,whatsapp"
		s := startServer(t, db, env, "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		const to = "+14155552671"

		v, err := c.CreateVerification(va, newVerification(to, "sms"))
		if err != nil {
			t.Fatal(err)
		}
		if *v.Status != "pending" || *v.To != to || *v.Channel != "sms" || len(*v.SendCodeAttempts) != 1 {
			t.Fatalf("created %+v", v)
		}
		first := g.waitFor(to, 1)
		if first.Channel != "sms" || first.VerificationSid != *v.Sid || len(first.Code) != 6 ||
			first.Text != "Your Shop verification code is: "+first.Code+"." || first.Country != "US" {
			t.Fatalf("gateway got %+v", first)
		}
		// A re-send by call: same SID, same code, a new attempt.
		v2, err := c.CreateVerification(va, newVerification(to, "call"))
		if err != nil {
			t.Fatal(err)
		}
		second := g.waitFor(to, 2)
		if *v2.Sid != *v.Sid || len(*v2.SendCodeAttempts) != 2 || *v2.Channel != "call" ||
			second.Code != first.Code || second.AttemptSid == first.AttemptSid || second.Channel != "call" || second.Voice == nil {
			t.Fatalf("re-send: %+v, gateway %+v", v2, second)
		}
		// Three more sends, then the sixth is refused.
		for range 3 {
			if _, err := c.CreateVerification(va, newVerification(to, "sms")); err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.CreateVerification(va, newVerification(to, "sms"))
		wantTwilioError(t, err, 60203, 429)

		wrongCode := "000000"
		if first.Code == wrongCode {
			wrongCode = "111111"
		}
		chk, err := c.CreateVerificationCheck(va, checkTo(to, wrongCode))
		if err != nil || *chk.Status != "pending" || *chk.Valid {
			t.Fatalf("wrong code: %+v, %v", chk, err)
		}
		chk, err = c.CreateVerificationCheck(va, checkTo(to, first.Code))
		if err != nil || *chk.Status != "approved" || !*chk.Valid || *chk.Sid != *v.Sid {
			t.Fatalf("right code: %+v, %v", chk, err)
		}
		_, err = c.CreateVerificationCheck(va, checkTo(to, first.Code))
		wantTwilioError(t, err, 20404, 404)
		_, err = c.FetchVerification(va, *v.Sid)
		wantTwilioError(t, err, 20404, 404)

		// A new verification has a new SID; five wrong codes end it.
		v3, err := c.CreateVerification(va, newVerification(to, "whatsapp"))
		if err != nil || *v3.Sid == *v.Sid {
			t.Fatalf("after approval: %+v, %v", v3, err)
		}
		code3 := g.waitFor(to, 6).Code
		wrong := "1234"
		for i := 1; i <= 5; i++ {
			chk, err := c.CreateVerificationCheck(va, (&openapi.CreateVerificationCheckParams{}).SetVerificationSid(*v3.Sid).SetCode(wrong))
			want := "pending"
			if i == 5 {
				want = "max_attempts_reached"
			}
			if err != nil || *chk.Status != want {
				t.Fatalf("wrong check %d: %+v, %v", i, chk, err)
			}
		}
		_, err = c.CreateVerificationCheck(va, checkTo(to, code3))
		wantTwilioError(t, err, 60202, 429)
		_, err = c.CreateVerification(va, newVerification(to, "sms"))
		wantTwilioError(t, err, 60202, 429)

		// Fetch and cancel by To; a canceled verification stays fetchable.
		const to2 = "+14155552672"
		v4, err := c.CreateVerification(va, newVerification(to2, "sms"))
		if err != nil {
			t.Fatal(err)
		}
		if f, err := c.FetchVerification(va, to2); err != nil || *f.Sid != *v4.Sid {
			t.Fatalf("fetch by To: %+v, %v", f, err)
		}
		u, err := c.UpdateVerification(va, to2, (&openapi.UpdateVerificationParams{}).SetStatus("canceled"))
		if err != nil || *u.Status != "canceled" {
			t.Fatalf("cancel: %+v, %v", u, err)
		}
		if f, err := c.FetchVerification(va, *v4.Sid); err != nil || *f.Status != "canceled" {
			t.Fatalf("fetch canceled: %+v, %v", f, err)
		}
		_, err = c.UpdateVerification(va, *v4.Sid, (&openapi.UpdateVerificationParams{}).SetStatus("approved"))
		wantTwilioError(t, err, 20404, 404)

		// E-mail goes to the development inbox.
		const mail = "Ann@Example.COM"
		ve, err := c.CreateVerification(va, newVerification(mail, "email"))
		if err != nil || *ve.To != "Ann@example.com" {
			t.Fatalf("email: %+v, %v", ve, err)
		}
		code := devInboxCode(t, s, "Ann@example.com")
		if chk, err := c.CreateVerificationCheck(va, checkTo("Ann@example.com", code)); err != nil || *chk.Status != "approved" {
			t.Fatalf("email check: %+v, %v", chk, err)
		}

		// A gateway answering 503 gets the code again, and accepts it.
		v5, err := c.CreateVerification(va, newVerification(g.failTo, "sms"))
		if err != nil {
			t.Fatal(err)
		}
		if r := g.waitFor(g.failTo, 1); r.VerificationSid != *v5.Sid || g.failures != 1 {
			t.Fatalf("after 503: %+v, failures %d", r, g.failures)
		}

		// Bad requests.
		for _, tc := range []struct {
			p            *openapi.CreateVerificationParams
			code, status int
		}{
			{newVerification(to2, "sna"), 60428, 400},
			{newVerification(to2, "auto"), 60428, 400},
			{newVerification(to2, "pigeon"), 60428, 400},
			{newVerification("ann@example.com", "sms"), 60437, 400},
			{newVerification(to2, "email"), 60437, 400},
			{newVerification("+1415", "sms"), 60200, 400},
			{newVerification(to2, "sms").SetLocale("xx"), 20404, 404},
			{newVerification(to2, "call").SetAppHash("He42w354ol9"), 60602, 400},
			{newVerification(to2, "sms").SetCustomCode("4242"), 60204, 403},
			{newVerification(to2, "sms").SetAmount("1"), 60204, 403},
			{newVerification(to2, "sms").SetTemplateSid("HJ00000000000000000000000000000000"), 60228, 400},
			{newVerification(to2, "sms").SetCustomFriendlyName("a name much longer than thirty characters"), 60200, 400},
		} {
			_, err := c.CreateVerification(va, tc.p)
			wantTwilioError(t, err, tc.code, tc.status)
		}
		_, err = c.CreateVerificationCheck(va, (&openapi.CreateVerificationCheckParams{}).SetCode("1234"))
		wantTwilioError(t, err, 60221, 400)
		_, err = c.CreateVerificationCheck(va, checkTo(to2, "12"))
		wantTwilioError(t, err, 60200, 400)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.invalid != 0 {
			t.Errorf("%d requests reached the gateway with a bad signature or body", g.invalid)
		}
	})
}

// TestVerificationRace sends bursts of parallel requests, alternating
// between two servers on one database on PostgreSQL: of 20 creates for one
// new To at most 5 send (one verification, one SID, the rest 60203 or
// 60212), of 30 wrong codes exactly 5 are compared (five 200s, 25 × 60202),
// and of 30 right codes exactly one approves. Custom codes tell the test
// each code whichever node's worker sends it.
func TestVerificationRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		nodes := []*openapi.ApiService{twilioClient(t, s, testAccount, testToken)}
		if sqlstore.IsPostgres(db) {
			nodes = append(nodes, twilioClient(t, startServer(t, db, accountEnv(testAccount, testToken), "--dev"), testAccount, testToken))
		}
		c := nodes[0]
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Race").SetCustomCodeEnabled(true))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		const sendTo = "+14155552000"
		sends, codes := burst(t, nodes, 20, func(_ int, c *openapi.ApiService) (string, error) {
			v, err := c.CreateVerification(va, newVerification(sendTo, "sms").SetCustomCode("246810"))
			if err != nil {
				return "", err
			}
			return *v.Sid, nil
		})
		if len(sends) != 1 || codes[60203]+codes[60212] != 20-total(sends) || total(sends) > 5 {
			t.Fatalf("create burst: successes by SID %v, errors %v; want one SID, at most 5 sends", sends, codes)
		}
		for sid, n := range sends {
			f, err := c.FetchVerification(va, sid)
			if err != nil || len(*f.SendCodeAttempts) != n {
				t.Fatalf("stored attempts: %+v, %v; want %d", f, err, n)
			}
		}

		check := func(to, code string) func(int, *openapi.ApiService) (string, error) {
			return func(_ int, c *openapi.ApiService) (string, error) {
				chk, err := c.CreateVerificationCheck(va, checkTo(to, code))
				if err != nil {
					return "", err
				}
				return *chk.Status, nil
			}
		}
		const wrongTo, rightTo = "+14155552001", "+14155552002"
		for _, to := range []string{wrongTo, rightTo} {
			if _, err := c.CreateVerification(va, newVerification(to, "sms").SetCustomCode("13579")); err != nil {
				t.Fatal(err)
			}
		}
		got, codes := burst(t, nodes, 30, check(wrongTo, "97531"))
		if got["pending"]+got["max_attempts_reached"] != 5 || got["max_attempts_reached"] < 1 || codes[60202] != 25 {
			t.Errorf("wrong burst: %v answered 200, errors %v; want 5 and 25 × 60202", got, codes)
		}
		got, codes = burst(t, nodes, 30, check(rightTo, "13579"))
		if got["approved"] != 1 || total(got) != 1 || codes[20404]+codes[60202] != 29 {
			t.Errorf("right burst: %v answered 200, errors %v; want exactly one approval", got, codes)
		}
	})
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// devInboxCode reads the newest code sent to to from the development
// inbox, waiting up to 10 s for it.
func devInboxCode(t *testing.T, s *server, to string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", s.base+"/_verifyd/dev/inbox?To="+url.QueryEscape(to), nil)
		req.SetBasicAuth(testAccount, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Messages []struct {
				Code string `json:"code"`
			} `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("dev inbox: %d %v", resp.StatusCode, err)
		}
		if len(body.Messages) > 0 {
			return body.Messages[0].Code
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no code for %s in the dev inbox", to)
	return ""
}

// TestCodeSurvivesRestart: a code whose gateway is down when it is
// created is still delivered by the next server on the same database, and
// checks there.
func TestCodeSurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		var mu sync.Mutex
		down, refused := true, 0
		var got []gateway.Request
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if down {
				refused++
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			var req gateway.Request
			if gateway.Verify(gatewaySecret, r.Header.Get("X-Verifyd-Signature"), body, time.Now(), time.Minute) != nil ||
				json.Unmarshal(body, &req) != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			got = append(got, req)
		}))
		defer gw.Close()
		env := accountEnv(testAccount, testToken)
		env["VERIFYD_GATEWAY_URL"] = gw.URL
		env["VERIFYD_GATEWAY_SECRET"] = gatewaySecret
		env["VERIFYD_GATEWAY_INCLUDE_CODE"] = "true"
		s1 := startServer(t, db, env)
		c := twilioClient(t, s1, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Restart"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.CreateVerification(*svc.Sid, newVerification("+14155553001", "sms"))
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := refused
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the first server never tried the gateway")
			}
		}
		s1.stop()
		mu.Lock()
		down = false
		mu.Unlock()
		s2 := startServer(t, db, env)
		c = twilioClient(t, s2, testAccount, testToken)
		var code string
		for deadline := time.Now().Add(15 * time.Second); code == ""; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			for _, r := range got {
				if r.VerificationSid == *v.Sid {
					code = r.Code
				}
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Fatal("the restarted server did not deliver the pending code")
			}
		}
		chk, err := c.CreateVerificationCheck(*svc.Sid, checkTo("+14155553001", code))
		if err != nil || *chk.Status != "approved" {
			t.Fatalf("check on the restarted server: %+v, %v", chk, err)
		}
	})
}

// TestClassicVerifyEmail sends the code through a real SMTP server on
// loopback, reads it from the mail received, and checks it with twilio-go.
func TestClassicVerifyEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		sink := &verifytest.SMTPSink{User: "mailer", Pass: "mail-pass-123"}
		port := sink.Start(t, nil, false)
		env := accountEnv(testAccount, testToken)
		env["VERIFYD_SMTP_URL"] = "smtp://mailer:mail-pass-123@127.0.0.1:" + strconv.Itoa(port) + "?tls=none"
		env["VERIFYD_EMAIL_FROM"] = "Shop <no-reply@shop.example>"
		s := startServer(t, db, env)
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		p := newVerification("bob@example.org", "email").SetChannelConfiguration(map[string]interface{}{
			"from": "security@shop.example", "from_name": "Shop Security"})
		v, err := c.CreateVerification(*svc.Sid, p)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`Your Shop verification code is: ([0-9]{6})\.`)
		var code string
		for deadline := time.Now().Add(10 * time.Second); code == ""; time.Sleep(20 * time.Millisecond) {
			for _, m := range sink.Received() {
				if len(m.To) == 1 && m.To[0] == "bob@example.org" && m.From == "security@shop.example" &&
					bytes.Contains(m.Data, []byte("X-Verifyd-Attempt-Sid: "+(*v.SendCodeAttempts)[0].(map[string]interface{})["attempt_sid"].(string))) {
					if sub := re.FindSubmatch(m.Data); sub != nil {
						code = string(sub[1])
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no code mail; received %d mails", len(sink.Received()))
			}
		}
		chk, err := c.CreateVerificationCheck(*svc.Sid, checkTo("bob@example.org", code))
		if err != nil || *chk.Status != "approved" {
			t.Fatalf("check: %+v, %v", chk, err)
		}
	})
}

// TestTemplates lists the built-in templates with twilio-go across pages
// and by name, and sends a code with one of them.
func TestTemplates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		all, err := c.ListVerificationTemplate((&openapi.ListVerificationTemplateParams{}).SetPageSize(3))
		if err != nil || len(all) != 8 {
			t.Fatalf("listed %d templates across pages of 3: %v", len(all), err)
		}
		seen := map[string]bool{}
		for _, tm := range all {
			seen[*tm.Sid] = true
		}
		if len(seen) != 8 {
			t.Fatalf("pages repeated templates: %d distinct", len(seen))
		}
		one, err := c.ListVerificationTemplate((&openapi.ListVerificationTemplateParams{}).SetFriendlyName("code first"))
		if err != nil || len(one) != 1 || *one[0].FriendlyName != "Code first" || *one[0].AccountSid != testAccount {
			t.Fatalf("by name: %+v, %v", one, err)
		}
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		const to = "+14155554001"
		if _, err := c.CreateVerification(*svc.Sid, newVerification(to, "sms").SetTemplateSid(*one[0].Sid)); err != nil {
			t.Fatal(err)
		}
		code := devInboxCode(t, s, to)
		req, _ := http.NewRequest("GET", s.base+"/_verifyd/dev/inbox?To="+url.QueryEscape(to), nil)
		req.SetBasicAuth(testAccount, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Messages []struct{ Text string } `json:"messages"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Messages) != 1 ||
			body.Messages[0].Text != code+" is your verification code for Shop." {
			t.Fatalf("text sent with the template: %+v %v", body, err)
		}
	})
}

// TestInboxCommand reads a --dev server's inbox with verifyd inbox, and
// is told plainly when the server has none.
func TestInboxCommand(t *testing.T) {
	s := startServer(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), "--dev")
	c := twilioClient(t, s, testAccount, testToken)
	svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Cli"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVerification(*svc.Sid, newVerification("+14155555001", "sms")); err != nil {
		t.Fatal(err)
	}
	code := devInboxCode(t, s, "+14155555001")
	env := accountEnv(testAccount, testToken)
	var out, errOut strings.Builder
	err = run(context.Background(), []string{"inbox", "--url", s.base, "--to", "+1 415-555-5001"}, func(k string) string { return env[k] }, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), " sms ") || !strings.Contains(out.String(), "Your Cli verification code is: "+code+".") {
		t.Fatalf("inbox: %q, %v", out.String(), err)
	}
	plain := startServer(t, t.TempDir()+"/p.db", accountEnv(testAccount, testToken))
	err = run(context.Background(), []string{"inbox", "--url", plain.base}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--dev") {
		t.Fatalf("inbox of a server without --dev: %v", err)
	}
}
