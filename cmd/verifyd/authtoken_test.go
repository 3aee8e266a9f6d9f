package main

import (
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"

	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	v2010 "github.com/twilio/twilio-go/rest/api/v2010"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// accountsClient is twilio-go's Accounts v1 client (where auth tokens are
// rotated) for the given credentials, pointed at s.
func accountsClient(t *testing.T, s *server, user, secret string) *accounts.ApiService {
	t.Helper()
	c := accounts.NewApiServiceWithClient(restClient(t, s, user, secret, testAccount, nil))
	c.RequestHandler().Edge, c.RequestHandler().Region = "", ""
	return c
}

// works reports whether token authenticates the test account on a Verify
// route; any answer but success must be 401 with 20003.
func works(t *testing.T, s *server, token string) bool {
	t.Helper()
	_, err := twilioClient(t, s, testAccount, token).ListService(&openapi.ListServiceParams{PageSize: ptr(1)})
	if err == nil {
		return true
	}
	wantTwilioError(t, err, 20003, 401)
	return false
}

var hexToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestAuthTokenRotationTwilioGo rotates the test account's auth token with
// twilio-go's Accounts v1 client as Twilio documents it (create a
// secondary, move the clients to it, promote it), checks which tokens work
// at each step on the node that changed them, and that a restart with the
// old configured token does not undo the rotation.
func TestAuthTokenRotationTwilioGo(t *testing.T) { forEachBackend(t, testAuthTokenRotation) }

func testAuthTokenRotation(t *testing.T, db string) {
	s, _ := newServer(t, db)
	admin := accountsClient(t, s, testAccount, testToken)

	_, err := admin.UpdateAuthTokenPromotion(nil)
	wantTwilioError(t, err, 20404, 404)
	wantTwilioError(t, admin.DeleteSecondaryAuthToken(nil), 20404, 404)

	first, err := admin.CreateSecondaryAuthToken(new(accounts.CreateSecondaryAuthTokenParams).SetSuppressEmailNotification(true))
	if err != nil {
		t.Fatalf("CreateSecondaryAuthToken: %v", err)
	}
	if deref(t, first.AccountSid, "account_sid") != testAccount || deref(t, first.Url, "url") != s.base+"/v1/AuthTokens/Secondary" ||
		first.DateCreated == nil || first.DateUpdated == nil {
		t.Fatalf("secondary token = %+v", first)
	}
	s1 := deref(t, first.SecondaryAuthToken, "secondary_auth_token")
	if !hexToken.MatchString(s1) {
		t.Fatalf("secondary_auth_token %q is not 32 hex characters", s1)
	}
	if !works(t, s, s1) || !works(t, s, testToken) {
		t.Fatal("the primary and the secondary token must both work")
	}

	// A second create replaces the first secondary: it stops working at
	// once although this node had just accepted (and cached) it.
	second, err := admin.CreateSecondaryAuthToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := deref(t, second.SecondaryAuthToken, "secondary_auth_token")
	if s2 == s1 || works(t, s, s1) || !works(t, s, s2) {
		t.Fatalf("after a second create: the replaced secondary must fail and the new one %q work", s2)
	}

	// An API key cannot touch the account's tokens.
	k, err := keysClient(t, s, testAccount, testToken).CreateNewKey(new(v2010.CreateNewKeyParams).SetFriendlyName("app"))
	if err != nil {
		t.Fatal(err)
	}
	byKey := accountsClient(t, s, *k.Sid, *k.Secret)
	_, err = byKey.CreateSecondaryAuthToken(nil)
	wantTwilioError(t, err, 20003, 401)
	_, err = byKey.UpdateAuthTokenPromotion(nil)
	wantTwilioError(t, err, 20003, 401)
	wantTwilioError(t, byKey.DeleteSecondaryAuthToken(nil), 20003, 401)

	promoted, err := admin.UpdateAuthTokenPromotion(new(accounts.UpdateAuthTokenPromotionParams).SetSuppressEmailNotification(false))
	if err != nil {
		t.Fatalf("UpdateAuthTokenPromotion: %v", err)
	}
	if deref(t, promoted.AccountSid, "account_sid") != testAccount || deref(t, promoted.Url, "url") != s.base+"/v1/AuthTokens/Promote" ||
		!deref(t, promoted.DateCreated, "date_created").Equal(*second.DateCreated) || promoted.DateUpdated == nil {
		t.Fatalf("promotion = %+v", promoted)
	}
	if promoted.AuthToken != nil {
		t.Fatalf("the promotion answer shows the token %q; it must not", *promoted.AuthToken)
	}
	if works(t, s, testToken) || !works(t, s, s2) {
		t.Fatal("after promotion the old primary must fail and the promoted token work")
	}
	if _, err := admin.UpdateAuthTokenPromotion(nil); err == nil {
		t.Fatal("the old primary promoted again")
	}
	newAdmin := accountsClient(t, s, testAccount, s2)
	_, err = newAdmin.UpdateAuthTokenPromotion(nil)
	wantTwilioError(t, err, 20404, 404)

	// Create and delete a secondary: it stops working on this node at once.
	third, err := newAdmin.CreateSecondaryAuthToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	s3 := *third.SecondaryAuthToken
	if !works(t, s, s3) {
		t.Fatal("the third secondary must work")
	}
	if err := accountsClient(t, s, testAccount, s3).DeleteSecondaryAuthToken(nil); err != nil {
		t.Fatalf("DeleteSecondaryAuthToken with the secondary itself: %v", err)
	}
	if works(t, s, s3) || !works(t, s, s2) {
		t.Fatal("after delete the secondary must fail and the primary work")
	}
	wantTwilioError(t, newAdmin.DeleteSecondaryAuthToken(nil), 20404, 404)

	// serve restarting with the same VERIFYD_AUTH_TOKEN keeps the rotation.
	s.stop()
	s = startServer(t, db, accountEnv(testAccount, testToken))
	if works(t, s, testToken) || !works(t, s, s2) {
		t.Fatal("a restart with the old configured token undid the rotation")
	}
}

// TestPromoteRaceHTTP sends parallel promotions of one secondary token:
// exactly one succeeds, the others find no secondary (20404, never a 500),
// and afterwards only the promoted token works.
func TestPromoteRaceHTTP(t *testing.T) { forEachBackend(t, testPromoteRaceHTTP) }

func testPromoteRaceHTTP(t *testing.T, db string) {
	s, _ := newServer(t, db)
	sec, err := accountsClient(t, s, testAccount, testToken).CreateSecondaryAuthToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	token := *sec.SecondaryAuthToken
	const n = 8
	statuses := make([]int, n)
	codes := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Signed with the secondary, which stays valid as the primary,
			// so the losers reach the handler instead of failing to log in.
			resp, body := request(t, s, http.MethodPost, "/v1/AuthTokens/Promote", testAccount, token, url.Values{})
			statuses[i], codes[i] = resp.StatusCode, body["code"]
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case statuses[i] == http.StatusOK:
			won++
		case statuses[i] != http.StatusNotFound || codes[i] != float64(20404):
			t.Errorf("promotion %d: HTTP %d, code %v", i, statuses[i], codes[i])
		}
	}
	if won != 1 {
		t.Fatalf("%d promotions succeeded, want 1", won)
	}
	if works(t, s, testToken) || !works(t, s, token) {
		t.Fatal("after the race the old primary must fail and the promoted token work")
	}
}

// TestAuthTokenBadInput: malformed requests to the token routes get
// Twilio-shaped 4xx answers.
func TestAuthTokenBadInput(t *testing.T) {
	s, _ := newServer(t, t.TempDir()+"/verifyd.db")
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		user, pass         string
		status, code       int
	}{
		{"bad SuppressEmailNotification", http.MethodPost, "/v1/AuthTokens/Secondary", url.Values{"SuppressEmailNotification": {"maybe"}}, testAccount, testToken, 400, 20001},
		{"wrong token", http.MethodPost, "/v1/AuthTokens/Promote", nil, testAccount, "nope", 401, 20003},
		{"device user", http.MethodDelete, "/v1/AuthTokens/Secondary", nil, "token", "x", 401, 20003},
		{"GET", http.MethodGet, "/v1/AuthTokens/Secondary", nil, testAccount, testToken, 405, 20004},
		{"unknown path", http.MethodPost, "/v1/AuthTokens/Tertiary", nil, testAccount, testToken, 404, 20404},
	} {
		resp, body := request(t, s, tc.method, tc.path, tc.user, tc.pass, tc.form)
		wantError(t, tc.name, resp.StatusCode, body, tc.code, tc.status)
	}
}
