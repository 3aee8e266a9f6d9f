package passkey

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// body is the JSON both ceremonies post, as the spec lists it.
type body struct {
	ID                      *string          `json:"id"`
	RawID                   *string          `json:"rawId"`
	Type                    *string          `json:"type"`
	AuthenticatorAttachment *string          `json:"authenticatorAttachment"`
	Response                *json.RawMessage `json:"response"`
}

type responseBody struct {
	ClientDataJSON    *string `json:"clientDataJSON"`
	AttestationObject *string `json:"attestationObject"`
	AuthenticatorData *string `json:"authenticatorData"`
	Signature         *string `json:"signature"`
	UserHandle        *string `json:"userHandle"`
}

// shape checks the body field by field before the library parses it, so
// that a refusal names the field at fault, as Twilio's errors do (one code
// per field). It checks presence and encoding only; what the fields say is
// checked later.
func shape(raw []byte, assertion bool) error {
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return &Error{Reason: Malformed, Field: "body", Detail: "the body is not a JSON object: " + err.Error()}
	}
	bad := func(field, why string) error {
		return &Error{Reason: Malformed, Field: field, Detail: field + " " + why}
	}
	if b.ID == nil || !isB64URL(*b.ID) {
		return bad("id", "must be the base64url encoding of rawId")
	}
	if b.RawID == nil || *b.RawID == "" {
		return bad("rawId", "is missing")
	}
	if id, raw := decodeAny(*b.ID), decodeAny(*b.RawID); raw == nil || string(id) != string(raw) {
		return bad("rawId", "must be the credential ID that id encodes")
	}
	if b.Type != nil && *b.Type != "public-key" {
		return bad("type", "must be public-key")
	}
	if a := b.AuthenticatorAttachment; a != nil && *a != "" && *a != "platform" && *a != "cross-platform" {
		return bad("authenticatorAttachment", "must be platform or cross-platform")
	}
	if b.Response == nil {
		return bad("response", "is missing")
	}
	var r responseBody
	if err := json.Unmarshal(*b.Response, &r); err != nil {
		return bad("response", "must be an object")
	}
	need := func(field string, v *string) error {
		if v == nil || !isB64(*v) {
			return bad("response."+field, "must be base64url")
		}
		return nil
	}
	fields := []namedField{{"clientDataJSON", r.ClientDataJSON}}
	if assertion {
		fields = append(fields, namedField{"authenticatorData", r.AuthenticatorData}, namedField{"signature", r.Signature})
		if r.UserHandle != nil && *r.UserHandle != "" && !isB64(*r.UserHandle) {
			return bad("response.userHandle", "must be base64url")
		}
	} else {
		fields = append(fields, namedField{"attestationObject", r.AttestationObject})
	}
	for _, f := range fields {
		if err := need(f.name, f.v); err != nil {
			return err
		}
	}
	var client map[string]any
	if json.Unmarshal(decodeAny(*r.ClientDataJSON), &client) != nil {
		return bad("response.clientDataJSON", "is not a JSON object")
	}
	return nil
}

type namedField struct {
	name string
	v    *string
}

// isB64URL reports whether s is non-empty unpadded base64url.
func isB64URL(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) > 0
}

// decodeAny decodes base64url or standard base64, padded or not; nil if s
// is neither.
func decodeAny(s string) []byte {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b
	}
	return nil
}

// isB64 accepts what the library's URLEncodedBase64 does: base64url or
// standard base64, padded or not.
func isB64(s string) bool { return len(decodeAny(s)) > 0 }
