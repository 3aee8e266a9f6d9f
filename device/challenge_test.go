package device

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// challengeJSON is a pending challenge with the awkward parts a re-typing
// signer would get wrong: nested keys out of alphabetical order, numbers
// that float64 would rewrite, a null, slashes and insignificant spaces.
const challengeJSON = `{"sid":"YC1","account_sid":"AC0123456789abcdef0123456789abcdef","factor_sid":"YF0123456789abcdef0123456789abcdef",
 "status":"pending","date_created":"2024-01-02T03:04:05Z","date_updated":"2024-01-02T03:04:05Z","expiration_date":"2024-01-02T03:09:05Z",
 "details":{"message":"Log in to https://example.com/a?", "fields":[{"label":"IP","value":"203.0.113.7"}],"date":"2024-01-02T03:04:05Z",
   "z":1.50,"a":[1e2, true, null, 12345678901234567890]},
 "hidden_details":null,"score":1.50}`

const fieldsHeader = "Twilio-Verify-Signature-Fields: sid,details,score,status,hidden_details,sid"

// wantPayload is the answer's payload byte for byte: listed fields in
// header order, raw values (compacted, "/" escaped as org.json does),
// status replacing the listed status in place, the repeated sid once.
const wantPayload = `{"sid":"YC1","details":{"message":"Log in to https:\/\/example.com\/a?","fields":[{"label":"IP","value":"203.0.113.7"}],"date":"2024-01-02T03:04:05Z","z":1.50,"a":[1e2,true,null,12345678901234567890]},"score":1.50,"status":"approved","hidden_details":null}`

func withStatus(status string) string {
	return strings.Replace(challengeJSON, `"status":"pending"`, `"status":"`+status+`"`, 1)
}

// answerOf returns the header and payload of the AuthPayload in a POST body,
// after checking its signature with the device key.
func answerOf(t *testing.T, c *Client, body string) (string, string) {
	t.Helper()
	v, err := url.QueryUnescape(strings.TrimPrefix(body, "AuthPayload="))
	if err != nil || !strings.HasPrefix(body, "AuthPayload=") {
		t.Fatalf("POST body %q", body)
	}
	return verifiedJWS(t, c, v, "AuthPayload")
}

// TestRespondRawPayload runs GET, POST (401 with Date, then retried with
// the same AuthPayload), GET, and checks the signed payload's bytes.
func TestRespondRawPayload(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	f.reply(200, challengeJSON, fieldsHeader)
	f.reply(401, `{"code":20003,"message":"Authentication Error","more_info":"x","status":401}`, "Date: "+time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	f.reply(200, withStatus("approved"))
	f.reply(200, withStatus("approved"))
	ch, err := c.Respond(context.Background(), "YC1", true)
	if err != nil || ch.Status != "approved" {
		t.Fatalf("Respond = %+v, %v", ch, err)
	}
	reqs := f.requests()
	if len(reqs) != 4 || reqs[0].method != "GET" || reqs[1].method != "POST" || reqs[2].method != "POST" || reqs[3].method != "GET" ||
		reqs[1].path != "/v2/Services/VA1/Entities/user-0001/Challenges/YC1" || reqs[1].body != reqs[2].body {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs[1].header.Get("Authorization") == reqs[2].header.Get("Authorization") {
		t.Fatal("the retry reused the device JWT instead of minting one at the corrected time")
	}
	h, p := answerOf(t, c, reqs[1].body)
	if h != `{"typ":"JWT","alg":"ES256"}` {
		t.Fatalf("AuthPayload header %s", h)
	}
	if p != wantPayload {
		t.Fatalf("AuthPayload payload\n got %s\nwant %s", p, wantPayload)
	}

	// Denial signs "denied".
	f.reply(200, challengeJSON, fieldsHeader)
	f.reply(200, withStatus("denied"))
	f.reply(200, withStatus("denied"))
	if ch, err = c.Respond(context.Background(), "YC1", false); err != nil || ch.Status != "denied" {
		t.Fatalf("deny = %v", err)
	}
	if _, p = answerOf(t, c, f.requests()[5].body); !strings.Contains(p, `"status":"denied"`) {
		t.Fatalf("deny payload %s", p)
	}
}

// TestRespondRefusals covers PushChallengeProcessor's local checks: each
// stops before any POST.
func TestRespondRefusals(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	for _, tc := range []struct {
		name, body, header string
		want               error
		wantText           string
	}{
		{"expired", withStatus("expired"), fieldsHeader, ErrExpired, ""},
		{"unknown status reads as expired", withStatus("later"), fieldsHeader, ErrExpired, ""},
		{"approved", withStatus("approved"), fieldsHeader, ErrAlreadyUpdated, ""},
		{"no signature header", challengeJSON, "", ErrSignatureFields, ""},
		{"empty signature header", challengeJSON, "Twilio-Verify-Signature-Fields: ", nil, `signature field ""`},
		{"spaces are not trimmed", challengeJSON, "Twilio-Verify-Signature-Fields: sid, details", nil, `signature field " details"`},
		{"another factor", strings.Replace(challengeJSON, `"YF0123`, `"YF9999`, 1), fieldsHeader, ErrWrongFactor, ""},
		{"no details.message", strings.Replace(challengeJSON, `"message"`, `"msg"`, 1), fieldsHeader, nil, "message"},
		{"fractional date", strings.Replace(challengeJSON, `03:09:05Z`, `03:09:05.5Z`, 1), fieldsHeader, nil, "expiration_date"},
	} {
		n := len(f.requests())
		var hs []string
		if tc.header != "" {
			hs = append(hs, tc.header)
		}
		f.reply(200, tc.body, hs...)
		_, err := c.Respond(context.Background(), "YC1", true)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) || tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if len(f.requests()) != n+1 {
			t.Errorf("%s: %d requests, want only the GET", tc.name, len(f.requests())-n)
		}
	}

	// The POST succeeds but the challenge still reads pending.
	f.reply(200, challengeJSON, fieldsHeader)
	f.reply(200, challengeJSON)
	f.reply(200, challengeJSON, fieldsHeader)
	if _, err := c.Respond(context.Background(), "YC1", true); !errors.Is(err, ErrNotUpdated) {
		t.Fatalf("not updated: %v", err)
	}
	// A Twilio error on the POST carries its code.
	f.reply(200, challengeJSON, fieldsHeader)
	f.reply(403, `{"code":60323,"message":"Challenge expired","more_info":"x","status":403}`)
	var e *Error
	if _, err := c.Respond(context.Background(), "YC1", true); !errors.As(err, &e) || e.Code != 60323 || e.Status != 403 || !strings.Contains(err.Error(), "60323") {
		t.Fatalf("POST refused: %v", err)
	}
}

// TestChallengeParse checks the single GET's parsed fields and header.
func TestChallengeParse(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	f.reply(200, challengeJSON, fieldsHeader)
	ch, err := c.Challenge(context.Background(), "YC1")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Sid != "YC1" || ch.Message != "Log in to https://example.com/a?" || len(ch.Fields) != 1 || ch.Fields[0] != (Detail{"IP", "203.0.113.7"}) ||
		ch.Date == nil || ch.HiddenDetails != nil || ch.ExpirationDate.Sub(ch.DateCreated) != 5*time.Minute ||
		strings.Join(ch.SignatureFields, "|") != "sid|details|score|status|hidden_details|sid" || string(ch.Raw) != challengeJSON {
		t.Fatalf("challenge %+v", ch)
	}
	f.reply(200, withStatus("approved"), fieldsHeader)
	if ch, err = c.Challenge(context.Background(), "YC1"); err != nil || ch.SignatureFields != nil {
		t.Fatalf("approved challenge keeps signature fields %v (%v)", ch.SignatureFields, err)
	}
}

func TestWaitForChallenge(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	empty := `{"challenges":[],"meta":{"page":0,"page_size":10}}`
	f.reply(200, empty)
	f.reply(200, empty)
	f.reply(200, `{"challenges":[`+challengeJSON+`],"meta":{"page":0,"page_size":10,"next_page_url":null}}`)
	ch, err := c.WaitForChallenge(context.Background(), 5*time.Millisecond)
	if err != nil || ch.Sid != "YC1" || len(f.requests()) != 3 {
		t.Fatalf("WaitForChallenge = %v, %v after %d polls", ch, err, len(f.requests()))
	}
	if q := f.requests()[0].query; !strings.Contains(q, "Order=desc&Status=pending") {
		t.Fatalf("poll query %s", q)
	}
	for range 1000 {
		f.reply(200, empty)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.WaitForChallenge(ctx, 5*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForChallenge past its deadline: %v", err)
	}
}
