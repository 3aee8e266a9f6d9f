// Package webhook holds what the webhook sender needs to sign the
// requests it posts to a Verify service's webhooks.
package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
)

// Sign returns the X-Twilio-Signature of a form POST to rawURL with params
// (docs/delivery.md §2.4): HMAC-SHA1, keyed with the account's primary
// auth token (verify.Verifier.SigningToken), over the URL exactly as
// configured followed by each parameter's name and value, names in byte
// order, in standard base64. It is what Twilio's helper libraries check,
// so a receiver that validates Twilio webhooks accepts verifyd's.
//
// The URL is signed as given, never normalized: receivers rebuild it from
// the same configured string. A name with several values appends each, in
// byte order, as twilio-node checks (twilio-go reads only the first, so
// Verify webhooks repeat no name). The body must be params.Encode(): the
// signature covers the decoded values, so any valid encoding verifies.
func Sign(token, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(rawURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
