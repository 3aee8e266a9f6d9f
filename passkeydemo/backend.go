package passkeydemo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// maxBody caps what the backend reads from the page. A registration
// response is a few KiB at most (the API itself takes up to 64 KiB).
const maxBody = 64 << 10

// maxAnswer caps what the backend reads from the Verify API.
const maxAnswer = 1 << 20

// Relying party settings of the demo: a passkey for any authenticator,
// platform or roaming (a phone, a security key), discoverable if it can
// be so that the login without a username works, and user verification
// when the authenticator can do it. "any" leaves authenticatorAttachment
// out of the creation options, which a platform authenticator satisfies.
const (
	rpName                  = "verifyd demo"
	friendlyName            = "verifyd demo passkey"
	authenticatorAttachment = "any"
	discoverableCredentials = "preferred"
	userVerification        = "preferred"
)

// backend is the customer's server of the demo: it decides the relying
// party, and passes the browser's credentials to the Verify API.
type backend struct {
	cfg Config

	// mu guards applied, and is held across the write that changes it,
	// so that concurrent logins write the settings once and applied
	// always names what the last successful write set.
	mu sync.Mutex
	// applied is, per service SID, the Passkeys settings (the encoded
	// form) the backend last set on the service.
	applied map[string]string
}

// registerStart creates an unverified passkeys factor for the identity,
// whose answer carries the creation options for the browser.
func (b *backend) registerStart(w http.ResponseWriter, r *http.Request) {
	identity, rp, ok := readStart(w, r)
	if !ok {
		return
	}
	body := map[string]any{
		"friendly_name": friendlyName,
		"identity":      identity,
		"config": map[string]any{
			"relying_party":            map[string]any{"id": rp.id, "name": rpName, "origins": []string{rp.origin}},
			"authenticator_attachment": authenticatorAttachment,
			"discoverable_credentials": discoverableCredentials,
			"user_verification":        userVerification,
		},
	}
	b.relay(w, r, "/Passkeys/Factors", "application/json", mustJSON(body))
}

// registerFinish posts the browser's registration credential, as it is,
// to VerifyFactor.
func (b *backend) registerFinish(w http.ResponseWriter, r *http.Request) {
	var cred map[string]json.RawMessage
	if raw, ok := readBody(w, r, &cred); ok {
		b.relay(w, r, "/Passkeys/VerifyFactor", "application/json", raw)
	}
}

// loginStart creates a passkeys challenge: for the identity's passkeys
// when one is given, else for any discoverable passkey of the service.
// The latter names no factor, so the API takes the relying party from the
// service's Passkeys settings; they are set first to this page's
// (applyPasskeySettings), as a customer sets them once when creating the
// service.
func (b *backend) loginStart(w http.ResponseWriter, r *http.Request) {
	identity, rp, ok := readStart(w, r)
	if !ok {
		return
	}
	body := map[string]any{}
	if identity != "" {
		body["identity"] = identity
	} else if !b.applyPasskeySettings(w, r, rp) {
		return
	}
	b.relay(w, r, "/Passkeys/Challenges", "application/json", mustJSON(body))
}

// applyPasskeySettings sets the service's Passkeys settings to those of
// the relying party rp, unless they are what the backend set last: one
// write when the page is first used (or reached by another name), not one
// per login, and settings changed elsewhere since are left alone while
// the page's own stay the same. It answers the API's refusal itself and
// then returns false.
func (b *backend) applyPasskeySettings(w http.ResponseWriter, r *http.Request, rp rp) bool {
	form := url.Values{
		"Passkeys.RelyingParty.Id":         {rp.id},
		"Passkeys.RelyingParty.Name":       {rpName},
		"Passkeys.RelyingParty.Origins":    {rp.origin},
		"Passkeys.AuthenticatorAttachment": {authenticatorAttachment},
		"Passkeys.DiscoverableCredentials": {discoverableCredentials},
		"Passkeys.UserVerification":        {userVerification},
	}.Encode()
	service := b.cfg.ServiceSid
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.applied[service] == form {
		return true
	}
	status, answer, err := b.call(r, "", "application/x-www-form-urlencoded", []byte(form))
	if err != nil || status != http.StatusOK {
		// The settings are unknown now (the write may have been made
		// before its answer was lost): the next login writes them again.
		delete(b.applied, service)
		relayAnswer(w, status, answer, err)
		return false
	}
	if b.applied == nil {
		b.applied = map[string]string{}
	}
	b.applied[service] = form
	return true
}

// loginFinish posts the browser's assertion, as it is, to
// ApproveChallenge.
func (b *backend) loginFinish(w http.ResponseWriter, r *http.Request) {
	var cred map[string]json.RawMessage
	if raw, ok := readBody(w, r, &cred); ok {
		b.relay(w, r, "/Passkeys/ApproveChallenge", "application/json", raw)
	}
}

// relay calls the service's operation op and answers with what the API
// answered, status and JSON, so that the page shows the API's own errors.
func (b *backend) relay(w http.ResponseWriter, r *http.Request, op, contentType string, body []byte) {
	status, answer, err := b.call(r, op, contentType, body)
	relayAnswer(w, status, answer, err)
}

// call POSTs body to the service's URL plus op with the account's Basic
// credentials, and returns the answer if it is JSON.
func (b *backend) call(r *http.Request, op, contentType string, body []byte) (int, []byte, error) {
	u := b.cfg.APIBase + "/v2/Services/" + url.PathEscape(b.cfg.ServiceSid) + op
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(b.cfg.AccountSid, b.cfg.AuthToken)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := b.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("the Verify API did not answer: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("reading the Verify API's answer: %w", err)
	case len(answer) > maxAnswer:
		return 0, nil, fmt.Errorf("the Verify API answered %d with more than %d bytes", resp.StatusCode, maxAnswer)
	case !json.Valid(answer):
		return 0, nil, fmt.Errorf("the Verify API answered %d with a body that is not JSON", resp.StatusCode)
	}
	return resp.StatusCode, answer, nil
}

// relayAnswer writes what call returned: the API's answer, or a 502 if
// there was none to relay.
func relayAnswer(w http.ResponseWriter, status int, answer []byte, err error) {
	if err != nil {
		fail(w, http.StatusBadGateway, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(answer)
}

// rp is the relying party of a request: the page's origin, and its host
// name as the RP ID, so that the demo works on whatever name the browser
// reached verifyd by.
type rp struct{ id, origin string }

// relyingParty takes the relying party from the Origin header, which the
// browser sets on the page's POSTs and a page elsewhere cannot forge: an
// origin other than this server's is refused, so another site cannot
// drive the demo through a visitor's browser.
func relyingParty(w http.ResponseWriter, r *http.Request) (rp, bool) {
	o := r.Header.Get("Origin")
	if o == "" {
		fail(w, http.StatusBadRequest, "no Origin header: the demo backend answers the demo page")
		return rp{}, false
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		fail(w, http.StatusBadRequest, fmt.Sprintf("the Origin header %q is not a web origin", o))
		return rp{}, false
	}
	if !strings.EqualFold(u.Host, r.Host) {
		fail(w, http.StatusForbidden, fmt.Sprintf("the Origin %s is not this server (%s): the demo backend answers its own page only", o, r.Host))
		return rp{}, false
	}
	if net.ParseIP(u.Hostname()) != nil {
		fail(w, http.StatusBadRequest, fmt.Sprintf("WebAuthn needs a domain name, not the IP address %s: open the page at http://localhost:%s%s", u.Hostname(), u.Port(), Prefix))
		return rp{}, false
	}
	return rp{id: strings.ToLower(u.Hostname()), origin: u.Scheme + "://" + strings.ToLower(u.Host)}, true
}

// readStart reads what the page sends to start a registration or a
// login, {"identity": ...} (trimmed; a login may leave it empty), and the
// request's relying party, answering the error itself if it cannot: both
// starts need the same two, checked in the same order, so that they
// refuse a bad request alike.
func readStart(w http.ResponseWriter, r *http.Request) (identity string, party rp, ok bool) {
	var in struct {
		Identity string `json:"identity"`
	}
	if _, ok := readBody(w, r, &in); !ok {
		return "", rp{}, false
	}
	if party, ok = relyingParty(w, r); !ok {
		return "", rp{}, false
	}
	return strings.TrimSpace(in.Identity), party, true
}

// readBody reads a POSTed JSON object of at most maxBody bytes, decodes it
// into v and returns it as it came; it answers 405, 413, 415 or 400
// itself, and a body that is valid but not an object is a 400 too.
func readBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "use POST")
		return nil, false
	}
	// Demanding JSON keeps a cross-site HTML form (which cannot send it
	// without a preflight this server refuses) out, beside the Origin check.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBody))
		} else {
			fail(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return nil, false
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		if err = json.Unmarshal(raw, v); err == nil {
			return raw, true
		}
	}
	msg := "the body is not a JSON object"
	if err != nil {
		msg += ": " + err.Error()
	}
	fail(w, http.StatusBadRequest, msg)
	return nil, false
}

// fail answers the demo's own errors in the shape of the API's, less the
// Twilio code it has none of, so that the page shows both alike.
func fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(mustJSON(map[string]any{"status": status, "message": message}))
}

// mustJSON marshals what cannot fail to: maps of strings.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
