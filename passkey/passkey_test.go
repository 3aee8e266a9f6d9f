package passkey

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/verifyd/verify/internal/verifytest"
)

// specExample is the request body of the VerifyFactor example in Twilio's
// OpenAPI spec (testdata/verify_factor_example.json): a real "none"
// registration for example.com whose rawId is the hex of the credential ID.
var specExample = func() string {
	b, err := os.ReadFile("testdata/verify_factor_example.json")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

var exampleRP = RP{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}}

func TestSpecExampleRegisters(t *testing.T) {
	r, err := ParseRegistration([]byte(specExample))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := r.Challenge()
	if err != nil {
		t.Fatal(err)
	}
	// Twilio's challenge is the factor SID's characters.
	if string(ch) != "YF048d1a7ec3a2a6970059c2766bbc7e0f" {
		t.Fatalf("challenge %q", ch)
	}
	cred, err := r.Verify(exampleRP, ch, []byte("YE4fd3aaf4e45324d0f3e134607b21912b"), Preferred)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(cred.ID); got != "6ySmhJd6qGUMCthiqszyb4Od4U6TFn0v3DLz-1EZrNQ" {
		t.Errorf("credential id %s", got)
	}
	if len(cred.PublicKey) == 0 || cred.AttestationFormat != "none" || cred.Attachment != "platform" {
		t.Errorf("credential %+v", cred)
	}
	if len(cred.Transports) != 1 || cred.Transports[0] != "internal" {
		t.Errorf("transports %v", cred.Transports)
	}
	// The same registration under another relying party, origin or
	// challenge is refused, and says why.
	cases := []struct {
		rp   RP
		ch   string
		uv   string
		want Reason
	}{
		{RP{ID: "example.org", Name: "x", Origins: []string{"https://example.com"}}, string(ch), Preferred, WrongRPID},
		{RP{ID: "example.com", Name: "x", Origins: []string{"https://evil.example"}}, string(ch), Preferred, WrongOrigin},
		{exampleRP, "YF00000000000000000000000000000000", Preferred, WrongChallenge},
	}
	for _, c := range cases {
		if _, err := r.Verify(c.rp, []byte(c.ch), nil, c.uv); ReasonOf(err) != c.want {
			t.Errorf("%+v: got %v, want reason %d", c, err, c.want)
		}
	}
}

func TestMalformedNamesTheField(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal([]byte(specExample), &m); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var c map[string]any
		b, _ := json.Marshal(m)
		json.Unmarshal(b, &c)
		f(c)
		out, _ := json.Marshal(c)
		return out
	}
	resp := func(c map[string]any) map[string]any { return c["response"].(map[string]any) }
	cases := map[string][]byte{
		"body":                       []byte(`[1,2]`),
		"id":                         edit(func(c map[string]any) { delete(c, "id") }),
		"rawId":                      edit(func(c map[string]any) { c["rawId"] = "AAAA" }),
		"type":                       edit(func(c map[string]any) { c["type"] = "password" }),
		"authenticatorAttachment":    edit(func(c map[string]any) { c["authenticatorAttachment"] = "usb" }),
		"response":                   edit(func(c map[string]any) { delete(c, "response") }),
		"response.clientDataJSON":    edit(func(c map[string]any) { resp(c)["clientDataJSON"] = "bm90IGpzb24" }),
		"response.attestationObject": edit(func(c map[string]any) { resp(c)["attestationObject"] = "AAAA" }),
	}
	for field, body := range cases {
		_, err := ParseRegistration(body)
		var e *Error
		if !asError(err, &e) || e.Reason != Malformed || e.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if _, err := ParseRegistration([]byte(`{"id":"` + strings.Repeat("A", MaxBody) + `"}`)); ReasonOf(err) != Malformed {
		t.Errorf("huge body: %v", err)
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

// TestRoundTrip registers a software authenticator's packed attestation and
// verifies its assertions: a counter that moves forward passes, one that
// does not is refused as a clone, and a signature over other data fails.
func TestRoundTrip(t *testing.T) {
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "verifyd", Origin: "http://localhost:8080"}
	ours := RP{ID: "localhost", Name: "verifyd", Origins: []string{"http://localhost:8080"}}
	userID := []byte("YE0123456789abcdef0123456789abcdef")
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: userID})
	key := verifytest.PasskeyCredential(t)
	challenge := []byte("YF0123456789abcdef0123456789abcdef")
	att := virtualwebauthn.CreateAttestationResponse(rp, auth, key, virtualwebauthn.AttestationOptions{Challenge: challenge, RelyingPartyID: rp.ID})
	reg, err := ParseRegistration([]byte(att))
	if err != nil {
		t.Fatal(err)
	}
	cred, err := reg.Verify(ours, challenge, userID, Required)
	if err != nil {
		t.Fatal(err)
	}
	lazy := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: userID, UserNotVerified: true})
	unverified := virtualwebauthn.CreateAttestationResponse(rp, lazy, key, virtualwebauthn.AttestationOptions{Challenge: challenge, RelyingPartyID: rp.ID})
	if r, err := ParseRegistration([]byte(unverified)); err != nil {
		t.Fatal(err)
	} else if _, err := r.Verify(ours, challenge, userID, Required); ReasonOf(err) != NoVerification {
		t.Errorf("no user verification: %v", err)
	} else if _, err := r.Verify(ours, challenge, userID, Preferred); err != nil {
		t.Errorf("no user verification, preferred: %v", err)
	}
	if cred.AttestationFormat != "packed" {
		t.Errorf("format %q", cred.AttestationFormat)
	}
	assert := func(counter uint32, ch []byte) (*Credential, error) {
		key.Counter = counter
		body := virtualwebauthn.CreateAssertionResponse(rp, auth, key, virtualwebauthn.AssertionOptions{Challenge: ch, RelyingPartyID: rp.ID})
		a, err := ParseAssertion([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return a.Verify(ours, challenge, userID, Required, *cred)
	}
	next, err := assert(5, challenge)
	if err != nil {
		t.Fatal(err)
	}
	if next.SignCount != 5 {
		t.Errorf("sign count %d", next.SignCount)
	}
	cred = next
	if _, err := assert(5, challenge); ReasonOf(err) != Cloned {
		t.Errorf("same counter again: %v", err)
	}
	if _, err := assert(6, []byte("YC0123456789abcdef0123456789abcdef")); ReasonOf(err) != WrongChallenge {
		t.Errorf("other challenge: %v", err)
	}
	other := verifytest.PasskeyCredential(t)
	other.ID = key.ID // same ID, another key: the signature cannot verify
	other.Counter = 7
	body := virtualwebauthn.CreateAssertionResponse(rp, auth, other, virtualwebauthn.AssertionOptions{Challenge: challenge, RelyingPartyID: rp.ID})
	a, err := ParseAssertion([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ours, challenge, userID, Required, *cred); ReasonOf(err) != BadSignature {
		t.Errorf("other key: %v", err)
	}
	if _, err := a.Verify(ours, challenge, []byte("YEffffffffffffffffffffffffffffffff"), Required, *cred); ReasonOf(err) != WrongUser {
		t.Errorf("other user: %v", err)
	}
}
