package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// postJSON posts body as contentType with the test account's credentials
// and decodes the JSON answer.
func postJSON(t *testing.T, s *server, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testAccount, testToken)
	req.Header.Set("Content-Type", contentType)
	return sendJSON(t, http.DefaultClient, req)
}

// sendJSON sends req through client and decodes the answer, which must be
// a JSON object: the API's and the passkeys demo's answers, errors too,
// all are.
func sendJSON(t *testing.T, client *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d, body is not JSON: %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// edit returns the JSON of v changed by f, as a map.
func edit(t *testing.T, v any, f func(m map[string]any)) string {
	t.Helper()
	b, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, _ := json.Marshal(m)
	return string(out)
}

// TestPasskeyBadInput sends every kind of bad Passkeys request and checks
// that each gets its Twilio code and a 4xx, and that the factor and the
// challenge are unchanged afterwards.
func TestPasskeyBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s, c := newServer(t, db)
		service := passkeyService(t, c)
		base := "/v2/Services/" + service + "/Passkeys/"
		const js = "application/json"
		identity := "bad-input-01"

		// Factor creation: what the relying party and the body must be.
		creates := []struct {
			name, body string
			code       int
		}{
			{"no friendly_name", `{"identity":"` + identity + `"}`, 60388},
			{"no identity", `{"friendly_name":"x"}`, 60366},
			{"bad identity", `{"friendly_name":"x","identity":"a b"}`, 60366},
			{"not JSON", `{"friendly_name":`, 60300},
			{"rp id with scheme", `{"friendly_name":"x","identity":"` + identity + `","config":{"relying_party":{"id":"https://example.com"}}}`, 60372},
			{"bad origin", `{"friendly_name":"x","identity":"` + identity + `","config":{"relying_party":{"origins":["not an origin"]}}}`, 60371},
			{"bad enum", `{"friendly_name":"x","identity":"` + identity + `","config":{"user_verification":"always"}}`, 60370},
		}
		for _, tc := range creates {
			status, body := postJSON(t, s, base+"Factors", js, tc.body)
			wantError(t, "create: "+tc.name, status, body, tc.code, 400)
		}
		status, body := postJSON(t, s, base+"Factors", "application/x-www-form-urlencoded", "FriendlyName=x")
		wantError(t, "create as a form", status, body, 60300, 400)
		if _, err := c.FetchEntity(service, identity); err == nil {
			t.Fatal("a refused create left an entity behind")
		}

		// A registration that fails any check stores nothing.
		a := newAuthenticator(t)
		nf, err := c.CreateNewFactorPasskey(service, new(openapi.CreateNewFactorPasskeyParams).SetCreateNewPasskeysFactorRequest(
			openapi.CreateNewPasskeysFactorRequest{FriendlyName: "Phone", Identity: identity}))
		if err != nil {
			t.Fatal(err)
		}
		reg := a.register(t, *nf.Options)
		resp := func(m map[string]any) map[string]any { return m["response"].(map[string]any) }
		wrongOrigin := *a
		wrongOrigin.rp.Origin = "https://evil.example"
		wrongRP := *a
		wrongRP.rp.ID = "example.org"
		registrations := []struct {
			name, body string
			code, http int
		}{
			{"empty", `{}`, 60375, 400},
			{"id not base64url", edit(t, reg, func(m map[string]any) { m["id"] = "%%%" }), 60375, 400},
			{"rawId of another id", edit(t, reg, func(m map[string]any) { m["rawId"] = "AAAA" }), 60376, 400},
			{"attachment", edit(t, reg, func(m map[string]any) { m["authenticatorAttachment"] = "usb" }), 60377, 400},
			{"no response", edit(t, reg, func(m map[string]any) { delete(m, "response") }), 60378, 400},
			{"clientDataJSON not JSON", edit(t, reg, func(m map[string]any) { resp(m)["clientDataJSON"] = "bm9wZQ" }), 60380, 400},
			{"attestationObject not CBOR", edit(t, reg, func(m map[string]any) { resp(m)["attestationObject"] = "AAAA" }), 60386, 400},
			{"huge clientDataJSON", edit(t, reg, func(m map[string]any) {
				resp(m)["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 70<<10)))
			}), 60378, 400},
			{"wrong origin", edit(t, wrongOrigin.register(t, *nf.Options), func(map[string]any) {}), 60311, 403},
			{"wrong RP ID", edit(t, wrongRP.register(t, *nf.Options), func(map[string]any) {}), 60382, 400},
		}
		for _, tc := range registrations {
			status, body := postJSON(t, s, base+"VerifyFactor", js, tc.body)
			wantError(t, "verify: "+tc.name, status, body, tc.code, tc.http)
		}
		status, body = postJSON(t, s, base+"VerifyFactor", "text/plain", `{}`)
		wantError(t, "verify as text", status, body, 60434, 400)
		f, err := c.FetchFactor(service, identity, *nf.Sid)
		if err != nil || *f.Status != "unverified" {
			t.Fatalf("factor after refused registrations: %+v %v", f, err)
		}
		// The ordinary endpoints do not verify or challenge a passkey.
		_, err = c.UpdateFactor(service, identity, *nf.Sid, new(openapi.UpdateFactorParams).SetAuthPayload("123456"))
		wantTwilioError(t, err, 60369, 400)

		// Now registered for real; then the assertions' bad input.
		if _, err := c.UpdatePasskeysFactor(service, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(reg)); err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdatePasskeysFactor(service, new(openapi.UpdatePasskeysFactorParams).SetVerifyPasskeysFactorRequest(reg))
		wantTwilioError(t, err, 60383, 403) // the registration again
		_, err = c.CreateChallenge(service, identity, new(openapi.CreateChallengeParams).SetFactorSid(*nf.Sid).SetDetailsMessage("x"))
		wantTwilioError(t, err, 60369, 400)

		ch := createPasskeyChallenge(t, c, service, openapi.CreatePasskeysChallengeRequest{Identity: identity})
		good := a.sign(t, ch.Options)
		stranger := newAuthenticator(t)
		stranger.auth.Options.UserHandle = a.auth.Options.UserHandle
		otherChallenge := a.sign(t, map[string]any{"publicKey": map[string]any{"challenge": base64.RawURLEncoding.EncodeToString([]byte("YC0123456789abcdef0123456789abcdef"))}})
		assertions := []struct {
			name, body string
			code, http int
		}{
			{"no signature", edit(t, good, func(m map[string]any) { delete(resp(m), "signature") }), 60381, 400},
			{"no authenticatorData", edit(t, good, func(m map[string]any) { delete(resp(m), "authenticatorData") }), 60379, 400},
			{"bad signature", edit(t, good, func(m map[string]any) {
				resp(m)["signature"] = base64.RawURLEncoding.EncodeToString(make([]byte, 70))
			}), 60324, 403},
			{"unknown credential", edit(t, stranger.sign(t, ch.Options), func(map[string]any) {}), 60324, 403},
			{"userHandle of someone else", edit(t, good, func(m map[string]any) {
				resp(m)["userHandle"] = base64.RawURLEncoding.EncodeToString([]byte("YE0123456789abcdef0123456789abcdef"))
			}), 60324, 403},
			{"unknown challenge", edit(t, otherChallenge, func(map[string]any) {}), 20404, 404},
		}
		for _, tc := range assertions {
			status, body := postJSON(t, s, base+"ApproveChallenge", js, tc.body)
			wantError(t, "approve: "+tc.name, status, body, tc.code, tc.http)
		}
		status, body = postJSON(t, s, base+"ApproveChallenge", "application/x-www-form-urlencoded", url.Values{"x": {"y"}}.Encode())
		wantError(t, "approve as a form", status, body, 60433, 400)
		if got := challengeStatus(t, c, service, identity, *ch.Sid); got != "pending" {
			t.Fatalf("challenge after refused assertions: %s", got)
		}
		if _, err := approve(c, service, good); err != nil {
			t.Fatalf("the good assertion after the bad ones: %v", err)
		}
	})
}
