package passkey

import (
	"testing"
)

// FuzzParse feeds arbitrary bodies to both parsers and to verification:
// whatever a client posts, the answer is a refusal or a credential, never
// a panic, and a refusal always says which check made it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(specExample))
	f.Add([]byte(`{"id":"AA","rawId":"AA","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`))
	f.Add([]byte(`{"id":"6ySmhJd6qGUMCthiqszyb4Od4U6TFn0v3DLz-1EZrNQ","rawId":"eb24","response":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := ParseRegistration(body); err != nil {
			if ReasonOf(err) == 0 {
				t.Fatalf("registration refused without a reason: %v", err)
			}
		} else if _, err := r.Verify(exampleRP, []byte("YF048d1a7ec3a2a6970059c2766bbc7e0f"), []byte("YE"), Preferred); err != nil && ReasonOf(err) == 0 {
			t.Fatalf("registration verification failed without a reason: %v", err)
		}
		if a, err := ParseAssertion(body); err != nil {
			if ReasonOf(err) == 0 {
				t.Fatalf("assertion refused without a reason: %v", err)
			}
		} else if _, err := a.Verify(exampleRP, []byte("YC0"), []byte("YE"), Preferred, Credential{ID: a.CredentialID()}); err != nil && ReasonOf(err) == 0 {
			t.Fatalf("assertion verification failed without a reason: %v", err)
		}
	})
}
