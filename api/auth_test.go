package api

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/verifyd/verify"
)

// TestEmptyCredentials: Basic credentials with an empty username or an
// empty password are refused with 401 and code 20003 on every kind of
// route (account credentials only, device JWT, enrollment token), never
// taken for an account "" (which answered 404) or for no enrollment token.
func TestEmptyCredentials(t *testing.T) {
	e := newEnv(t)
	svc := e.as(http.MethodPost, "/v2/Services", "FriendlyName=Empty").want(t, http.StatusCreated).str(t, "sid")
	ent := "/v2/Services/" + svc + "/Entities/user-0001"
	e.as(http.MethodPost, "/v2/Services/"+svc+"/Entities", "Identity=user-0001").want(t, http.StatusCreated)
	routes := []struct{ name, method, path, body string }{
		{"account only", http.MethodPost, "/v2/Services", "FriendlyName=X"},
		{"account only (keys)", http.MethodGet, "/2010-04-01/Accounts/" + acctA + "/Keys.json", ""},
		{"device JWT", http.MethodGet, ent + "/Challenges", ""},
		{"device JWT (service)", http.MethodGet, "/v2/Services/" + svc, ""},
		{"enrollment token", http.MethodPost, ent + "/Factors", "FactorType=push&FriendlyName=p&Binding.Alg=ES256&Binding.PublicKey=x&Config.AppId=a&Config.NotificationPlatform=none&Config.SdkVersion=1"},
	}
	creds := []struct{ name, header string }{
		{"user and password empty", basicHeader("", "")},
		{"user empty", basicHeader("", tokenA)},
		{"device user, empty token", basicHeader("token", "")},
		{"account, empty token", basicHeader(acctA, "")},
		{"key, empty secret", basicHeader("SK00000000000000000000000000000000", "")},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("token"))},
		{"empty Basic", "Basic "},
	}
	for _, rt := range routes {
		for _, c := range creds {
			req, err := http.NewRequest(rt.method, e.ts.URL+rt.path, strings.NewReader(rt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", c.header)
			r := e.send(req)
			t.Run(rt.name+"/"+c.name, func(t *testing.T) {
				r.wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
				if r.header.Get("Date") == "" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without Date or WWW-Authenticate: %v", r.header)
				}
			})
		}
	}
	// The right credentials still pass on the same routes.
	e.as(http.MethodGet, ent+"/Challenges", "").want(t, http.StatusOK)
	e.as(http.MethodGet, "/v2/Services/"+svc, "").want(t, http.StatusOK)
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
