package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestVerifierStatusIsTheAPIs checks that a refusal by the Verifier whose
// code the API answers 409, 429 or 403 gets that same status on the
// console's pages: the console and the API share api.StatusOf. Each case
// makes the Verifier refuse the same request through both, on one real
// store, and compares the statuses with each other and with the one
// Twilio's code has.
func TestVerifierStatusIsTheAPIs(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		e := newTestEnv(t, Config{}, withStore(dsn))
		ctx, v := e.ctx, e.v
		name := "Acme Bank"
		s, err := v.CreateService(ctx, acctA, verify.ServiceParams{FriendlyName: &name})
		if err != nil {
			t.Fatal(err)
		}
		apiSrv := &api.Server{Verifier: v, BaseURL: "http://api.test"}
		handler := apiSrv.Handler()
		// viaAPI posts form to the API as account A and returns the
		// status and the Twilio code of the answer.
		viaAPI := func(path string, form url.Values) (int, int) {
			t.Helper()
			req := httptest.NewRequest(http.MethodPost, "http://api.test"+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(string(acctA), tokenA)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			var body struct {
				Code int `json:"code"`
			}
			json.Unmarshal(rec.Body.Bytes(), &body)
			return rec.Code, body.Code
		}
		apiEntities := "/v2/Services/" + string(s.Sid) + "/Entities"
		b := e.signedIn(string(acctA), tokenA)

		// 409: an entity that exists.
		const taken = "ana-0001"
		if _, err := v.CreateEntity(ctx, acctA, s.Sid, ptr(taken)); err != nil {
			t.Fatal(err)
		}
		entities := Prefix + "/services/" + string(s.Sid) + "/entities"
		b.getWant(entities, http.StatusOK)
		consoleStatus, body := b.post(entities, url.Values{"identity": {taken}})
		apiStatus, code := viaAPI(apiEntities, url.Values{"Identity": {taken}})
		check(t, "creating an entity that exists", verify.EEntityExists, http.StatusConflict, consoleStatus, body, apiStatus, code)

		// 403: a push factor's verification with a signature (here a
		// TOTP code) that does not match its key.
		const device = "bob-00001"
		_, pub := verifytest.DeviceKey(t)
		push, alg, sdk, app, none := "push", "ES256", "verifyd-console-1", "verifyd-console", verify.PlatformNone
		pf, err := v.CreateFactor(ctx, acctA, s.Sid, device, verify.FactorParams{
			FriendlyName: ptr("Phone"), FactorType: &push, BindingAlg: &alg, BindingPublicKey: &pub,
			Config: verify.FactorConfig{SdkVersion: &sdk, AppID: &app, NotificationPlatform: &none},
		})
		if err != nil {
			t.Fatal(err)
		}
		totp := entityPath(s.Sid, device) + "/totp"
		b.getWant(totp, http.StatusOK)
		consoleStatus, body = b.post(totp+"/"+string(pf.Sid)+"/verify", url.Values{"code": {"123456"}})
		apiStatus, code = viaAPI(apiEntities+"/"+device+"/Factors/"+string(pf.Sid), url.Values{"AuthPayload": {"123456"}})
		check(t, "verifying a push factor with a wrong signature", verify.EFactorVerify, http.StatusForbidden, consoleStatus, body, apiStatus, code)

		// 429: the entity's factor creations of the day are used up (one
		// deleted, so that the number of factors is under its limit).
		const busy = "cleo-0001"
		typ := string(verify.FactorTotp)
		var last verify.Sid
		for i := range verify.MaxFactorCreationsPerDay {
			nf, err := v.CreateFactor(ctx, acctA, s.Sid, busy, verify.FactorParams{FriendlyName: ptr("App " + strconv.Itoa(i)), FactorType: &typ})
			if err != nil {
				t.Fatalf("factor %d: %v", i, err)
			}
			last = nf.Sid
		}
		if err := v.DeleteFactor(ctx, acctA, s.Sid, busy, last); err != nil {
			t.Fatal(err)
		}
		totp = entityPath(s.Sid, busy) + "/totp"
		b.getWant(totp, http.StatusOK)
		consoleStatus, body = b.post(totp, url.Values{"friendly_name": {"One more"}})
		apiStatus, code = viaAPI(apiEntities+"/"+busy+"/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"One more"}})
		check(t, "creating a factor over the day's quota", verify.EFactorQuota, http.StatusTooManyRequests, consoleStatus, body, apiStatus, code)
	})
}

// check fails t unless the API refused with code and status want, and the
// console's page with the same status and code.
func check(t *testing.T, what string, code, want, consoleStatus int, body string, apiStatus, apiCode int) {
	t.Helper()
	if apiStatus != want || apiCode != code {
		t.Errorf("%s: the API answers %d (code %d), want %d (code %d)", what, apiStatus, apiCode, want, code)
	}
	if got := api.StatusOf(code); got != want {
		t.Errorf("api.StatusOf(%d) = %d, want %d", code, got, want)
	}
	if consoleStatus != apiStatus {
		t.Errorf("%s: the console answers %d, the API %d\n%s", what, consoleStatus, apiStatus, body)
	}
	if !strings.Contains(body, `id="error"`) {
		t.Errorf("%s: the console's page shows no error\n%s", what, body)
	}
}

func ptr[T any](v T) *T { return &v }
