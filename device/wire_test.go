package device

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify/jws"
)

func spkiBase64(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// deviceToken checks the Basic credentials of r and returns the verified
// device JWT's decoded header and payload bytes.
func deviceToken(t *testing.T, c *Client, r recorded) (header, payload string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.header.Get("Authorization"), "Basic "))
	user, tok, _ := strings.Cut(string(raw), ":")
	if err != nil || user != "token" {
		t.Fatalf("Authorization %q", r.header.Get("Authorization"))
	}
	return verifiedJWS(t, c, tok, "device JWT")
}

// verifiedJWS checks the compact JWS token against the device key and
// returns its decoded header and payload bytes; what names it in failures.
func verifiedJWS(t *testing.T, c *Client, token, what string) (header, payload string) {
	t.Helper()
	parsed, err := jws.Parse(token)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	key, _ := c.State.Key()
	if err := parsed.VerifyES256(&key.PublicKey); err != nil {
		t.Fatalf("%s signature: %v", what, err)
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	return string(h), string(parsed.Payload)
}

// TestDeviceJWTAndVerify checks the device JWT's exact header and claims,
// the verify-factor AuthPayload, and the headers of POST and GET.
func TestDeviceJWTAndVerify(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	now := time.Unix(1700000000, 0)
	c.Now = func() time.Time { return now }
	f.reply(200, `{"status":"verified","sid":"YF0123456789abcdef0123456789abcdef"}`)
	if status, err := c.Verify(context.Background()); err != nil || status != "verified" || c.State.Status != "verified" {
		t.Fatalf("Verify = %q, %v", status, err)
	}
	r := f.requests()[0]
	h, p := deviceToken(t, c, r)
	if h != `{"cty":"twilio-pba;v=1","kid":"CR0123456789abcdef0123456789abcdef","typ":"JWT","alg":"ES256"}` {
		t.Fatalf("device JWT header %s", h)
	}
	if p != `{"sub":"AC0123456789abcdef0123456789abcdef","exp":1700000600,"nbf":1700000000}` {
		t.Fatalf("device JWT claims %s", p)
	}
	if r.method != "POST" || r.path != "/v2/Services/VA1/Entities/user-0001/Factors/YF0123456789abcdef0123456789abcdef" ||
		r.header.Get("Accept") != "application/json" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("verify request %s %s %v", r.method, r.path, r.header)
	}
	payload, ok := strings.CutPrefix(r.body, "AuthPayload=")
	b64, err := url.QueryUnescape(payload)
	if !ok || err != nil || strings.ContainsAny(payload, "+/=") {
		t.Fatalf("verify body %q is not AuthPayload=<Android-encoded base64>", r.body)
	}
	dec, err := base64.StdEncoding.DecodeString(b64)
	key, _ := c.State.Key()
	h2 := sha256.Sum256([]byte(c.State.FactorSid))
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, h2[:], dec) {
		t.Fatalf("verify AuthPayload %q is not a DER signature over the factor sid (%v)", b64, err)
	}

	// GET: the SDK's odd Accept, and the list query in the SDK's order.
	f.reply(200, `{"challenges":[],"meta":{"page":0,"page_size":5,"previous_page_url":null,
	  "next_page_url":"https://h/v2/Services/VA1/Entities/user-0001/Challenges?PageSize=5&PageToken=DN%2Fab+c&pageToken=no"}}`)
	list, err := c.Challenges(context.Background(), "pending", 5, "desc", "a/b c")
	if err != nil || list.NextPageToken != "DN/ab c" || list.PreviousPageToken != "" || list.PageSize != 5 {
		t.Fatalf("Challenges = %+v, %v", list, err)
	}
	r = f.requests()[1]
	if r.method != "GET" || r.query != "PageSize=5&FactorSid=YF0123456789abcdef0123456789abcdef&Order=desc&Status=pending&PageToken=a%2Fb%20c" ||
		r.header.Get("Accept") != "application/x-www-form-urlencoded" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.body != "" {
		t.Fatalf("list request %s ?%s %v", r.method, r.query, r.header)
	}
}

// TestClockSync covers §4.3: a 401 with Date sets the correction and the
// call is retried once with a JWT at the server's time; without Date, or a
// second time, the 401 is an error, except on delete.
func TestClockSync(t *testing.T) {
	f := newFake(t)
	c := enrolled(t, f)
	device := time.Unix(1700000000, 0)
	c.Now = func() time.Time { return device }
	server := device.Add(2 * time.Hour)
	unauth := `{"code":20003,"message":"Authentication Error","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`
	f.reply(401, unauth, "Date: "+server.UTC().Format(http.TimeFormat))
	f.reply(200, `{"status":"verified"}`)
	if _, err := c.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.State.ClockCorrection != 7200 {
		t.Fatalf("correction = %d", c.State.ClockCorrection)
	}
	reqs := f.requests()
	_, p1 := deviceToken(t, c, reqs[0])
	_, p2 := deviceToken(t, c, reqs[1])
	if !strings.Contains(p1, `"nbf":1700000000`) || !strings.Contains(p2, fmt.Sprintf(`"nbf":%d`, server.Unix())) || reqs[0].body != reqs[1].body {
		t.Fatalf("JWTs before/after sync: %s / %s", p1, p2)
	}

	f.reply(401, unauth) // no Date: no retry
	_, err := c.Verify(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Code != 20003 || e.Status != 401 || len(f.requests()) != 3 {
		t.Fatalf("401 without Date: %v", err)
	}
	f.reply(401, unauth, "Date: Tue, 21 Jul 2020 17:07:32 GMT")
	f.reply(401, unauth, "Date: Tue, 21 Jul 2020 17:07:32 GMT")
	if _, err := c.Verify(context.Background()); !errors.As(err, &e) || len(f.requests()) != 5 {
		t.Fatalf("second 401: %v", err)
	}
	if want := time.Date(2020, 7, 21, 17, 7, 32, 0, time.UTC).Unix() - device.Unix(); c.State.ClockCorrection != want {
		t.Fatalf("correction from the SDK's example Date = %d, want %d", c.State.ClockCorrection, want)
	}
	f.reply(401, unauth, "Date: Tue, 21 Jul 2020 17:07:32 GMT")
	f.reply(401, unauth, "Date: Tue, 21 Jul 2020 17:07:32 GMT")
	if err := c.Delete(context.Background()); err != nil {
		t.Fatalf("delete after two 401s: %v", err)
	}
	f.reply(404, `{"code":20404,"message":"not found","more_info":"x","status":404}`)
	if err := c.Delete(context.Background()); err != nil {
		t.Fatalf("delete after 404: %v", err)
	}
	f.reply(403, `{"code":60310,"message":"nope","more_info":"x","status":403}`)
	if err := c.Delete(context.Background()); !errors.As(err, &e) || e.Code != 60310 {
		t.Fatalf("delete after 403: %v", err)
	}
	if r := f.requests()[len(f.requests())-1]; r.method != "DELETE" || r.body != "" || r.header.Get("Accept") != "application/json" {
		t.Fatalf("delete request %s %q %v", r.method, r.body, r.header)
	}
}
