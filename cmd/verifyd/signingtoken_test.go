package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/webhook"
	"github.com/verifyd/verify/sqlstore"
)

// signingToken opens the database of stopped servers with the key they
// sealed under (the key file's primary on SQLite, testSecretKey on
// PostgreSQL) and reads the account's signing token.
func signingToken(t *testing.T, db string, sid verify.Sid) string {
	t.Helper()
	hexKey := testSecretKey
	if !sqlstore.IsPostgres(db) {
		hexKey = firstKey(t, db)
	}
	k, err := decodeKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), db, subkey(k, "secrets at rest"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.SigningToken(context.Background(), sid)
	if err != nil {
		t.Fatalf("SigningToken(%s): %v", sid, err)
	}
	return tok
}

// TestSigningTokenFollowsRotation: serve seals the configured token; after
// a rotation through twilio-go's Accounts v1 client (create a secondary,
// promote it) the signing token is the new primary, and a restart with the
// old configured token leaves it so. A webhook signed with it by
// webhook.Sign is accepted by a receiver that validates with twilio-go's
// RequestValidator and the new token, and refused by one with the old.
func TestSigningTokenFollowsRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s, _ := newServer(t, db)
		s.stop()
		if got := signingToken(t, db, testAccount); got != testToken {
			t.Fatal("the signing token is not the configured token")
		}

		s, _ = newServer(t, db)
		admin := accountsClient(t, s, testAccount, testToken)
		created, err := admin.CreateSecondaryAuthToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		secondary := deref(t, created.SecondaryAuthToken, "secondary_auth_token")
		if _, err := admin.UpdateAuthTokenPromotion(nil); err != nil {
			t.Fatal(err)
		}
		s.stop()
		if got := signingToken(t, db, testAccount); got != secondary {
			t.Fatal("after promotion the signing token is not the new primary")
		}
		newServer(t, db) // the old configured token again: the rotation stays
		if got := signingToken(t, db, testAccount); got != secondary {
			t.Fatal("a restart with the old configured token changed the signing token")
		}

		tok := signingToken(t, db, testAccount)
		for _, tc := range []struct {
			receiverToken string
			want          int
		}{{secondary, http.StatusNoContent}, {testToken, http.StatusForbidden}} {
			var hookURL string
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				v := client.NewRequestValidator(tc.receiverToken)
				if !v.ValidateBody(hookURL, body, r.Header.Get("X-Twilio-Signature")) {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			hookURL = rcv.URL + "/verify/webhooks?env=test"
			params := url.Values{"type": {"challenge.approved"}, "account_sid": {testAccount},
				"challenge_details": {`{"message":"Login request","fields":[{"label":"IP","value":"203.0.113.7"}]}`}}
			req, _ := http.NewRequest(http.MethodPost, hookURL, strings.NewReader(params.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			req.Header.Set("X-Twilio-Signature", webhook.Sign(tok, hookURL, params))
			res, err := rcv.Client().Do(req)
			rcv.Close()
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("receiver validating with the %s token answered %d, want %d",
					map[bool]string{true: "new", false: "old"}[tc.receiverToken == secondary], res.StatusCode, tc.want)
			}
		}
	})
}

var printedToken = regexp.MustCompile(`VERIFYD_AUTH_TOKEN=([0-9a-f]{32})`)
var printedSid = regexp.MustCompile(`VERIFYD_ACCOUNT_SID=(AC[0-9a-f]{32})`)

// TestFirstAccountSealed: the account serve creates on an empty database
// is sealed at once, so it can sign before its first login.
func TestFirstAccountSealed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, map[string]string{})
		s.stop()
		out := s.stdout.String()
		tok, sid := printedToken.FindStringSubmatch(out), printedSid.FindStringSubmatch(out)
		if tok == nil || sid == nil {
			t.Fatalf("no credentials printed:\n%s", out)
		}
		if got := signingToken(t, db, verify.Sid(sid[1])); got != tok[1] {
			t.Fatal("the first account's signing token is not its printed token")
		}
	})
}
