package webhook

import (
	"net/url"
	"testing"

	"github.com/twilio/twilio-go/client"
)

// TestSignVectors checks Sign on the vectors of docs/delivery.md §10.4,
// and that twilio-go's validator accepts each signature, from the
// parameters and from the encoded body, and refuses it for another token
// or URL.
func TestSignVectors(t *testing.T) {
	body, err := url.ParseQuery("account_sid=AC0123456789abcdef0123456789abcdef&challenge_details=%7B%22message%22%3A%22Login+request%22%2C%22date%22%3A%222023-11-14T22%3A13%3A20Z%22%2C%22fields%22%3A%5B%7B%22label%22%3A%22IP%22%2C%22value%22%3A%22203.0.113.7%22%7D%5D%7D" +
		"&challenge_hidden_details=%7B%22ip%22%3A%22203.0.113.7%22%7D&challenge_sid=YC0123456789abcdef0123456789abcdef" +
		"&challenge_status=approved&entity_identity=ff483d1ff591898a9942916050d2ca3f&factor_friendly_name=John%27s+Phone" +
		"&factor_sid=YF0123456789abcdef0123456789abcdef&factor_type=push&sent_at=2023-11-14T22%3A14%3A02Z" +
		"&service_sid=VA0123456789abcdef0123456789abcdef&type=challenge.approved&uuid=6f1e8c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token, url string
		params           url.Values
		want             string
	}{
		{"twilio-go", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"},
			"To": {"+18005551212"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
		}, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{"verify v2 challenge.approved", "0123456789abcdef0123456789abcdef", "https://backend.example.com/verify/webhooks", body,
			"FWNrHE7hyUAkGvMp/IC4SwsmS0s="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := Sign(tc.token, tc.url, tc.params)
			if sig != tc.want {
				t.Fatalf("Sign = %s, want %s", sig, tc.want)
			}
			v := client.NewRequestValidator(tc.token)
			params := map[string]string{}
			for k := range tc.params {
				params[k] = tc.params.Get(k)
			}
			if !v.Validate(tc.url, params, sig) {
				t.Fatal("twilio-go's validator refuses the signature")
			}
			if !v.ValidateBody(tc.url, []byte(tc.params.Encode()), sig) {
				t.Fatal("twilio-go's validator refuses the signature over the encoded body")
			}
			other := client.NewRequestValidator(tc.token + "x")
			if other.Validate(tc.url, params, sig) || v.Validate(tc.url+"x", params, sig) {
				t.Fatal("the signature validates for another token or URL")
			}
		})
	}
}
