package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	notify "github.com/twilio/twilio-go/rest/notify/v1"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/sqlstore"
)

// bodyRecorder keeps every response body that passes through it, so that
// a test can assert that no secret was ever sent back.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.bodies = append(b.bodies, string(body))
	b.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// assertNoSecret fails if any recorded body holds one of the secrets (or
// any PEM armour at all).
func (b *bodyRecorder) assertNoSecret(t *testing.T, secrets ...string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.bodies) < 10 {
		t.Fatalf("only %d bodies recorded: the check proves nothing", len(b.bodies))
	}
	for _, body := range b.bodies {
		if strings.Contains(body, "-----BEGIN") || strings.Contains(body, "PRIVATE KEY") {
			t.Fatalf("a response carries PEM: %.200s", body)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Fatalf("a response carries a secret: %.200s", body)
			}
		}
	}
}

// pemCore is a line from the middle of a PEM block: a piece of the secret
// that no armour check would catch.
func pemCore(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)/2]
}

func notifyClient(t *testing.T, s *server, user, secret string, rec http.RoundTripper) *notify.ApiService {
	t.Helper()
	c := notify.NewApiServiceWithClient(restClient(t, s, user, secret, user, rec))
	c.RequestHandler().Edge, c.RequestHandler().Region = "", ""
	return c
}

// postForm posts a form with Basic credentials, for the parameters that
// twilio-go cannot send (KeyId, TeamId).
func postForm(t *testing.T, rec http.RoundTripper, u string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testAccount, testToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Transport: rec, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPushCredentialsTwilioGo manages push credentials with twilio-go's
// Notify v1 client through the host rewrite, on each backend: create,
// fetch, update, list across pages and delete; another account's credential
// is not found; and no response ever carries a secret.
func TestPushCredentialsTwilioGo(t *testing.T) { forEachBackend(t, testPushCredentialsTwilioGo) }

func testPushCredentialsTwilioGo(t *testing.T, db string) {
	rec := &bodyRecorder{}
	now := time.Now()
	// Another account's credential, made on the same database first.
	s := startServer(t, db, accountEnv(otherAccount, otherToken))
	theirs, err := notifyClient(t, s, otherAccount, otherToken, rec).CreateCredential(
		new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t)))
	if err != nil {
		t.Fatalf("other account's CreateCredential: %v", err)
	}
	s.stop()

	logs := &lockedBuffer{}
	s = startServerLog(t, db, accountEnv(testAccount, testToken), logs)
	n := notifyClient(t, s, testAccount, testToken, rec)
	cert, key := apnCert(t, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	apn, err := n.CreateCredential(new(notify.CreateCredentialParams).SetType("apn").SetFriendlyName("iOS prod").
		SetCertificate(cert).SetPrivateKey(key).SetSandbox(true))
	if err != nil {
		t.Fatalf("CreateCredential apn: %v", err)
	}
	apnSid := deref(t, apn.Sid, "sid")
	if !strings.HasPrefix(apnSid, "CR") || len(apnSid) != 34 || deref(t, apn.Type, "type") != "apn" ||
		deref(t, apn.Sandbox, "sandbox") != "True" || deref(t, apn.AccountSid, "account_sid") != testAccount ||
		deref(t, apn.FriendlyName, "friendly_name") != "iOS prod" || deref(t, apn.Url, "url") != s.base+"/v1/Credentials/"+apnSid ||
		apn.DateCreated == nil {
		t.Fatalf("created apn credential = %+v", apn)
	}
	sa := serviceAccountJSON(t)
	fcm, err := n.CreateCredential(new(notify.CreateCredentialParams).SetType("FcM").SetSecret(sa))
	if err != nil || deref(t, fcm.Type, "type") != "fcm" || deref(t, fcm.Sandbox, "sandbox") != "False" {
		t.Fatalf("CreateCredential fcm = %+v, %v", fcm, err)
	}
	p8 := p8Key(t)
	status, body := postForm(t, rec, s.base+"/v1/Credentials", url.Values{"Type": {"apn"}, "FriendlyName": {"token"},
		"PrivateKey": {p8}, "KeyId": {"ABC123DEFG"}, "TeamId": {"TEAM123456"}})
	if status != http.StatusCreated || !strings.Contains(body, `"type":"apn"`) {
		t.Fatalf("token-mode create = %d %s", status, body)
	}

	if got, err := n.FetchCredential(apnSid); err != nil || *got.FriendlyName != "iOS prod" || *got.Sandbox != "True" {
		t.Fatalf("FetchCredential = %+v, %v", got, err)
	}
	cert2, key2 := apnCert(t, now.Add(-time.Hour), now.Add(30*24*time.Hour))
	got, err := n.UpdateCredential(apnSid, new(notify.UpdateCredentialParams).SetFriendlyName("iOS").SetSandbox(false).
		SetCertificate(cert2).SetPrivateKey(key2))
	if err != nil || *got.FriendlyName != "iOS" || *got.Sandbox != "False" || *got.Sid != apnSid {
		t.Fatalf("UpdateCredential = %+v, %v", got, err)
	}

	page, err := n.PageCredential(new(notify.ListCredentialParams).SetPageSize(2), "", "")
	if err != nil || len(page.Credentials) != 2 || page.Meta.Key != "credentials" || page.Meta.NextPageUrl == nil {
		t.Fatalf("PageCredential = %+v, %v", page, err)
	}
	all, err := n.ListCredential(new(notify.ListCredentialParams).SetPageSize(2)) // two pages, through next_page_url
	if err != nil || len(all) != 3 {
		t.Fatalf("ListCredential = %d, %v", len(all), err)
	}
	assertUnique(t, len(all), func(i int) string { return *all[i].Sid })
	// An API key of the account reaches them as the account does.
	k, err := keysClient(t, s, testAccount, testToken).CreateNewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	byKey := notify.NewApiServiceWithClient(restClient(t, s, *k.Sid, *k.Secret, testAccount, rec))
	byKey.RequestHandler().Edge, byKey.RequestHandler().Region = "", ""
	if got, err := byKey.FetchCredential(apnSid); err != nil || *got.Sid != apnSid {
		t.Fatalf("FetchCredential with an API key: %+v, %v", got, err)
	}
	for _, c := range all {
		if *c.Sid == *theirs.Sid {
			t.Fatal("the list shows another account's credential")
		}
	}

	// Another account's credential does not exist for this one.
	_, err = n.FetchCredential(*theirs.Sid)
	wantTwilioError(t, err, 20404, 404)
	_, err = n.UpdateCredential(*theirs.Sid, new(notify.UpdateCredentialParams).SetFriendlyName("mine"))
	wantTwilioError(t, err, 20404, 404)
	wantTwilioError(t, n.DeleteCredential(*theirs.Sid), 20404, 404)

	if err := n.DeleteCredential(*fcm.Sid); err != nil {
		t.Fatalf("DeleteCredential: %v", err)
	}
	_, err = n.FetchCredential(*fcm.Sid)
	wantTwilioError(t, err, 20404, 404)
	wantTwilioError(t, n.DeleteCredential(*fcm.Sid), 20404, 404)

	secrets := []string{pemCore(key), pemCore(key2), pemCore(p8), pemCore(cert),
		"push@verifyd-test.iam.gserviceaccount.com", pemCore(serviceAccountKey(t, sa))}
	rec.assertNoSecret(t, secrets...)
	s.stop()
	// A guard for later changes: today these paths log nothing but
	// start and stop (a 4xx is not logged).
	log := logs.String()
	for _, sec := range append(secrets, "PRIVATE KEY") {
		if strings.Contains(log, sec) {
			t.Fatalf("the server logged a secret: %s", log)
		}
	}
}

// serviceAccountKey returns the private_key of a service-account JSON.
func serviceAccountKey(t *testing.T, sa string) string {
	t.Helper()
	i := strings.Index(sa, `"private_key":"`)
	if i < 0 {
		t.Fatal("no private_key")
	}
	rest := sa[i+len(`"private_key":"`):]
	return strings.ReplaceAll(rest[:strings.Index(rest, `"`)], `\n`, "\n")
}

// TestPushCredentialsRefused: every malformed, expired, mismatched or
// unsupported credential is a Twilio-shaped 400 (20001) and stores nothing;
// a bad update changes nothing either.
func TestPushCredentialsRefused(t *testing.T) { forEachBackend(t, testPushCredentialsRefused) }

func testPushCredentialsRefused(t *testing.T, db string) {
	rec := &bodyRecorder{}
	s, _ := newServer(t, db)
	n := notifyClient(t, s, testAccount, testToken, rec)
	now := time.Now()
	cert, key := apnCert(t, now.Add(-time.Hour), now.Add(time.Hour))
	expired, expiredKey := apnCert(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	future, futureKey := apnCert(t, now.Add(24*time.Hour), now.Add(48*time.Hour))
	_, otherKey := apnCert(t, now.Add(-time.Hour), now.Add(time.Hour))
	p8 := p8Key(t)
	withECKey := serviceAccountJSON(t)
	withECKey = strings.Replace(withECKey, jsonEscape(serviceAccountKey(t, withECKey)), jsonEscape(p8), 1)
	apnP := func() *notify.CreateCredentialParams { return new(notify.CreateCredentialParams).SetType("apn") }
	for name, p := range map[string]*notify.CreateCredentialParams{
		"no type":               new(notify.CreateCredentialParams).SetSecret(serviceAccountJSON(t)),
		"gcm":                   new(notify.CreateCredentialParams).SetType("gcm").SetApiKey("AIzaLegacy"),
		"unknown type":          new(notify.CreateCredentialParams).SetType("webpush"),
		"fcm legacy ApiKey":     new(notify.CreateCredentialParams).SetType("fcm").SetApiKey("AIzaLegacy"),
		"fcm no secret":         new(notify.CreateCredentialParams).SetType("fcm"),
		"fcm not JSON":          new(notify.CreateCredentialParams).SetType("fcm").SetSecret("AAAAlegacy-server-key"),
		"fcm no project_id":     new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t, "project_id")),
		"fcm no client_email":   new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t, "client_email")),
		"fcm no private_key":    new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t, "private_key")),
		"fcm EC private_key":    new(notify.CreateCredentialParams).SetType("fcm").SetSecret(withECKey),
		"fcm with Certificate":  new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t)).SetCertificate(cert),
		"apn malformed PEM":     apnP().SetCertificate("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").SetPrivateKey(key),
		"apn certificate only":  apnP().SetCertificate(cert),
		"apn expired":           apnP().SetCertificate(expired).SetPrivateKey(expiredKey),
		"apn not yet valid":     apnP().SetCertificate(future).SetPrivateKey(futureKey),
		"apn mismatched key":    apnP().SetCertificate(cert).SetPrivateKey(otherKey),
		"apn key not PEM":       apnP().SetCertificate(cert).SetPrivateKey("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
		"apn p8 without KeyId":  apnP().SetPrivateKey(p8),
		"apn with Secret":       apnP().SetCertificate(cert).SetPrivateKey(key).SetSecret(serviceAccountJSON(t)),
		"apn long FriendlyName": apnP().SetCertificate(cert).SetPrivateKey(key).SetFriendlyName(strings.Repeat("n", 65)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := n.CreateCredential(p)
			wantTwilioError(t, err, 20001, 400)
		})
	}
	// Token mode through the extension parameters: a .p8 that is not EC
	// P-256, and malformed ids.
	for name, form := range map[string]url.Values{
		"p8 is RSA":      {"Type": {"apn"}, "PrivateKey": {serviceAccountKey(t, serviceAccountJSON(t))}, "KeyId": {"ABC123DEFG"}, "TeamId": {"TEAM123456"}},
		"short KeyId":    {"Type": {"apn"}, "PrivateKey": {p8}, "KeyId": {"ABC"}, "TeamId": {"TEAM123456"}},
		"no TeamId":      {"Type": {"apn"}, "PrivateKey": {p8}, "KeyId": {"ABC123DEFG"}},
		"cert and KeyId": {"Type": {"apn"}, "Certificate": {cert}, "PrivateKey": {key}, "KeyId": {"ABC123DEFG"}, "TeamId": {"TEAM123456"}},
	} {
		status, body := postForm(t, rec, s.base+"/v1/Credentials", form)
		if status != 400 || !strings.Contains(body, `"code":20001`) || !strings.Contains(body, `"status":400`) {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	if all, err := n.ListCredential(nil); err != nil || len(all) != 0 {
		t.Fatalf("refused credentials were stored: %d, %v", len(all), err)
	}

	// A bad update changes nothing, the name sent with it included.
	good, err := n.CreateCredential(apnP().SetFriendlyName("good").SetCertificate(cert).SetPrivateKey(key))
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.UpdateCredential(*good.Sid, new(notify.UpdateCredentialParams).SetFriendlyName("bad").SetPrivateKey(otherKey))
	wantTwilioError(t, err, 20001, 400)
	_, err = n.UpdateCredential(*good.Sid, new(notify.UpdateCredentialParams).SetFriendlyName("bad").SetSecret(serviceAccountJSON(t)))
	wantTwilioError(t, err, 20001, 400)
	if got, err := n.FetchCredential(*good.Sid); err != nil || *got.FriendlyName != "good" || !got.DateUpdated.Equal(*good.DateUpdated) {
		t.Fatalf("after refused updates: %+v, %v", got, err)
	}
	rec.assertNoSecret(t, pemCore(key), pemCore(otherKey), pemCore(p8), pemCore(expiredKey))
}

func jsonEscape(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// TestServicePushCredentials: a service's Push.ApnCredentialSid and
// Push.FcmCredentialSid must name a credential of the account of the right
// type (60200 otherwise, nothing stored), and a credential a service names
// cannot be deleted until the service lets go of it.
func TestServicePushCredentials(t *testing.T) { forEachBackend(t, testServicePushCredentials) }

func testServicePushCredentials(t *testing.T, db string) {
	s := startServer(t, db, accountEnv(otherAccount, otherToken))
	cert, key := apnCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	theirs, err := notifyClient(t, s, otherAccount, otherToken, nil).CreateCredential(
		new(notify.CreateCredentialParams).SetType("apn").SetCertificate(cert).SetPrivateKey(key))
	if err != nil {
		t.Fatal(err)
	}
	s.stop()

	s, v := newServer(t, db)
	n := notifyClient(t, s, testAccount, testToken, nil)
	apn, err := n.CreateCredential(new(notify.CreateCredentialParams).SetType("apn").SetCertificate(cert).SetPrivateKey(key))
	if err != nil {
		t.Fatal(err)
	}
	fcm, err := n.CreateCredential(new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t)))
	if err != nil {
		t.Fatal(err)
	}
	svc := func() *openapi.CreateServiceParams { return new(openapi.CreateServiceParams).SetFriendlyName("Push") }
	for name, p := range map[string]*openapi.CreateServiceParams{
		"fcm credential as apn":  svc().SetPushApnCredentialSid(*fcm.Sid),
		"apn credential as fcm":  svc().SetPushFcmCredentialSid(*apn.Sid),
		"another account's":      svc().SetPushApnCredentialSid(*theirs.Sid),
		"no such credential":     svc().SetPushFcmCredentialSid("CR" + strings.Repeat("0", 32)),
		"one right, one missing": svc().SetPushApnCredentialSid(*apn.Sid).SetPushFcmCredentialSid("CR" + strings.Repeat("1", 32)),
	} {
		_, err := v.CreateService(p)
		if err == nil {
			t.Fatalf("%s: service created", name)
		}
		wantTwilioError(t, err, 60200, 400)
	}
	if all, err := v.ListService(nil); err != nil || len(all) != 0 {
		t.Fatalf("refused services were stored: %d, %v", len(all), err)
	}

	created, err := v.CreateService(svc().SetPushApnCredentialSid(*apn.Sid).SetPushFcmCredentialSid(*fcm.Sid))
	if err != nil {
		t.Fatalf("CreateService with both credentials: %v", err)
	}
	push := (*created.Push).(map[string]any)
	if push["apn_credential_sid"] != *apn.Sid || push["fcm_credential_sid"] != *fcm.Sid {
		t.Fatalf("push = %v", push)
	}
	_, err = v.UpdateService(*created.Sid, new(openapi.UpdateServiceParams).SetFriendlyName("Renamed").SetPushFcmCredentialSid(*apn.Sid))
	wantTwilioError(t, err, 60200, 400)
	if got, err := v.FetchService(*created.Sid); err != nil || *got.FriendlyName != "Push" ||
		(*got.Push).(map[string]any)["fcm_credential_sid"] != *fcm.Sid {
		t.Fatalf("after a refused update: %+v, %v", got, err)
	}

	// In use: refused, and the credential stays.
	wantTwilioError(t, n.DeleteCredential(*fcm.Sid), 20001, 400)
	if _, err := n.FetchCredential(*fcm.Sid); err != nil {
		t.Fatalf("a refused delete deleted: %v", err)
	}
	if _, err := v.UpdateService(*created.Sid, new(openapi.UpdateServiceParams).SetPushFcmCredentialSid("")); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteCredential(*fcm.Sid); err != nil {
		t.Fatalf("delete once unused: %v", err)
	}
	// A service deleted lets go of its credentials too.
	if err := v.DeleteService(*created.Sid); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteCredential(*apn.Sid); err != nil {
		t.Fatalf("delete after the service went: %v", err)
	}
}

// TestRotateKeyResealsCredentials: "verifyd rotate-key" counts push
// credentials among the sealed secrets and re-seals them under the new
// key, after which a server given the new key alone starts (it checks at
// start that its keys open the credentials) and serves them.
func TestRotateKeyResealsCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		env := map[string]string{"VERIFYD_SECRET_KEY": rotKeyA}
		if !sqlstore.IsPostgres(db) {
			env = nil // the key file
		}
		s := startServer(t, db, mergeEnv(env, accountEnv(testAccount, testToken)))
		n := notifyClient(t, s, testAccount, testToken, nil)
		cert, key := apnCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		var sids []string
		for _, p := range []*notify.CreateCredentialParams{
			new(notify.CreateCredentialParams).SetType("apn").SetCertificate(cert).SetPrivateKey(key),
			new(notify.CreateCredentialParams).SetType("fcm").SetSecret(serviceAccountJSON(t)),
		} {
			c, err := n.CreateCredential(p)
			if err != nil {
				t.Fatal(err)
			}
			sids = append(sids, *c.Sid)
		}
		s.stop()

		oldKey, newKey := rotKeyA, rotKeyB
		args := []string{"rotate-key", "--db", db}
		if sqlstore.IsPostgres(db) {
			env = map[string]string{"VERIFYD_SECRET_KEY": newKey, "VERIFYD_PREVIOUS_SECRET_KEYS": oldKey}
		} else {
			oldKey = firstKey(t, db)
			args = append(args, "--new-key")
		}
		var out strings.Builder
		if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
			t.Fatalf("rotate-key: %v\n%s", err, &out)
		}
		// 3 values: the account's auth token, sealed when the server
		// started, and the 2 credentials.
		if !strings.Contains(out.String(), "3 sealed secrets (auth tokens, push credentials, TOTP secrets), 0 under the primary key") ||
			!strings.Contains(out.String(), "done:") {
			t.Fatalf("rotate-key printed:\n%s", &out)
		}
		if !sqlstore.IsPostgres(db) {
			newKey = firstKey(t, db)
		}
		if newKey == oldKey {
			t.Fatal("the key did not change")
		}
		if left, total := notUnder(t, db, sealedBy(t, newKey)); left != 0 || total != 3 {
			t.Fatalf("%d of %d sealed values are not under the new key, want 0 of 3", left, total)
		}
		s = startServer(t, db, mergeEnv(map[string]string{"VERIFYD_SECRET_KEY": newKey}, accountEnv(testAccount, testToken)))
		n = notifyClient(t, s, testAccount, testToken, nil)
		for _, sid := range sids {
			if _, err := n.FetchCredential(sid); err != nil {
				t.Fatalf("with the new key alone, fetch %s: %v", sid, err)
			}
		}
	})
}
