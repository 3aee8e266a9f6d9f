package console

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/otp"
)

// TOTP enrollment is tested the way a person does it: sign in through the
// console's form, create the factor, read the QR code (decoded from the
// PNG the page embeds, as a phone's camera would), compute the code an
// authenticator app would show from what the code holds, and type it in.
// A real Verifier over a real SQLite file answers.

const totpIdentity = "ana-0001"

// totpEnv is the shared env with the Verifier's clock stopped at now (see
// withClock) and a service of account A's.
type totpEnv struct {
	*testEnv
	now     time.Time
	service verify.Sid
}

func newTotpEnv(t *testing.T) *totpEnv {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	e := &totpEnv{testEnv: newTestEnv(t, Config{}, withClock(now)), now: now}
	name := "Acme Bank"
	s, err := e.v.CreateService(e.ctx, acctA, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		t.Fatal(err)
	}
	e.service = s.Sid
	return e
}

// element returns the text of the element with id, unescaped.
func totpElement(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no element %s in\n%s", id, body)
	}
	return html.UnescapeString(m[1])
}

// decodeQR reads the QR code of the page's img#totp-qr.
func totpDecodeQR(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`<img class="qr" id="totp-qr" src="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no QR image in\n%s", body)
	}
	data, ok := strings.CutPrefix(html.UnescapeString(m[1]), "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR src is not a PNG data URL: %.40s", m[1])
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if side := img.Bounds().Dx(); side < 200 {
		t.Errorf("QR image is %d px wide: too small to scan", side)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// appCode is what an authenticator app that scanned uri shows at now.
func totpAppCode(t *testing.T, uri string, now time.Time) string {
	t.Helper()
	secret, p := totpParseURI(t, uri)
	code, err := otp.Code(secret, now, p)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func totpParseURI(t *testing.T, uri string) ([]byte, otp.Params) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("not an otpauth TOTP URI: %q (%v)", uri, err)
	}
	q := u.Query()
	secret, err := otp.DecodeSecret(q.Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	digits, err1 := strconv.Atoi(q.Get("digits"))
	period, err2 := strconv.Atoi(q.Get("period"))
	if err1 != nil || err2 != nil {
		t.Fatalf("digits or period missing in %q", uri)
	}
	return secret, otp.Params{Alg: strings.ToLower(q.Get("algorithm")), Digits: digits, Period: period}
}

// wrongCode is a code of the right length that matches no time step near
// now, so that the factor's skew cannot make it right.
func totpWrongCode(t *testing.T, uri string, now time.Time) string {
	t.Helper()
	secret, p := totpParseURI(t, uri)
	near := map[string]bool{}
	for i := -3; i <= 3; i++ {
		c, err := otp.Code(secret, now.Add(time.Duration(i*p.Period)*time.Second), p)
		if err != nil {
			t.Fatal(err)
		}
		near[c] = true
	}
	for n := 0; ; n++ {
		c := strings.Repeat(strconv.Itoa(n%10), p.Digits)
		if !near[c] {
			return c
		}
	}
}

func (e *totpEnv) totpPath(identity string) string {
	return entityPath(e.service, identity) + "/totp"
}

// create submits the create form as b and returns the answer's body.
func (e *totpEnv) create(b *browser, identity, name string) string {
	e.t.Helper()
	b.getWant(e.totpPath(identity), http.StatusOK)
	return b.postWant(e.totpPath(identity), url.Values{"friendly_name": {name}}, http.StatusCreated)
}

func (e *totpEnv) factor(identity string, sid verify.Sid) *verify.Factor {
	e.t.Helper()
	f, err := e.v.FetchFactor(e.ctx, acctA, e.service, identity, sid)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func TestTotpEnrollment(t *testing.T) {
	e := newTotpEnv(t)
	b := e.signedIn(string(acctA), tokenA)

	form := b.getWant(e.totpPath(totpIdentity), http.StatusOK)
	for _, id := range []string{"totp-name", "totp-create"} {
		if !strings.Contains(form, `id="`+id+`"`) {
			t.Errorf("create form has no #%s", id)
		}
	}
	// The entity does not exist yet: creating the factor creates it.
	if _, err := e.v.FetchEntity(e.ctx, acctA, e.service, totpIdentity); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("entity before enrollment: %v", err)
	}

	body := e.create(b, totpIdentity, "Ana's phone")
	sid := verify.Sid(totpElement(t, body, "totp-factor-sid"))
	secret := totpElement(t, body, "totp-secret")
	uri := totpElement(t, body, "totp-uri")
	if !sid.Valid(verify.PrefixFactor) {
		t.Fatalf("factor SID %q", sid)
	}
	if got := totpDecodeQR(t, body); got != uri {
		t.Fatalf("QR code holds %q\npage shows %q", got, uri)
	}
	if s, _ := totpParseURI(t, uri); otp.EncodeSecret(s) != secret {
		t.Errorf("URI secret %s, page shows %s", otp.EncodeSecret(s), secret)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/Acme%20Bank:Ana%27s%20phone?") {
		t.Errorf("URI label: %q", uri)
	}
	verifyPath := e.totpPath(totpIdentity) + "/" + string(sid) + "/verify"
	if !strings.Contains(body, `action="`+verifyPath+`"`) || !strings.Contains(body, `id="totp-code"`) || !strings.Contains(body, `id="totp-verify"`) {
		t.Fatalf("no verify form posting to %s in\n%s", verifyPath, body)
	}

	// A wrong code: refused, counted, and the form again without the
	// secret, which no page after the create's shows.
	status, body := b.post(verifyPath, url.Values{"code": {totpWrongCode(t, uri, e.now)}})
	if status != http.StatusBadRequest || !strings.Contains(body, "Wrong code") {
		t.Fatalf("wrong code: %d\n%s", status, body)
	}
	if strings.Contains(body, secret) || strings.Contains(body, `id="totp-qr"`) || strings.Contains(body, `id="totp-uri"`) {
		t.Errorf("the wrong-code page shows the secret again:\n%s", body)
	}
	if !strings.Contains(body, `action="`+verifyPath+`"`) {
		t.Errorf("the wrong-code page has no verify form")
	}
	if f := e.factor(totpIdentity, sid); f.Status != verify.FactorUnverified || f.FailedAttempts != 1 {
		t.Fatalf("after a wrong code: %s with %d failed attempts", f.Status, f.FailedAttempts)
	}

	// The code of the app that scanned the QR code verifies the factor.
	status, loc := b.post(verifyPath, url.Values{"code": {totpAppCode(t, uri, e.now)}})
	if status != http.StatusSeeOther || loc != entityPath(e.service, totpIdentity) {
		t.Fatalf("right code: %d to %q", status, loc)
	}
	f := e.factor(totpIdentity, sid)
	if f.Status != verify.FactorVerified || f.Totp.LastUsedEnd == 0 {
		t.Fatalf("after the right code: %s, last used step ending %d", f.Status, f.Totp.LastUsedEnd)
	}
	entity := b.getWant(entityPath(e.service, totpIdentity), http.StatusOK)
	if !strings.Contains(entity, string(sid)) || !strings.Contains(entity, `<span class="badge verified">verified</span>`) {
		t.Errorf("the entity page does not show the factor verified:\n%s", entity)
	}
	// When it was last used: the end of the step its code was in, which a
	// list of factors leaves out (Verifier.ListFactorsLastUsed).
	if used := "<td>" + unixTime(f.Totp.LastUsedEnd).Format("2006-01-02 15:04:05") + "</td>"; !strings.Contains(entity, used) {
		t.Errorf("the entity page does not show the factor last used, %s:\n%s", used, entity)
	}
}

// After MaxFactorAttempts wrong codes the Verifier refuses even the right
// one (60310), and the console says so with the API's status.
func TestTotpTooManyAttempts(t *testing.T) {
	e := newTotpEnv(t)
	b := e.signedIn(string(acctA), tokenA)
	body := e.create(b, totpIdentity, "Phone")
	sid, uri := verify.Sid(totpElement(t, body, "totp-factor-sid")), totpElement(t, body, "totp-uri")
	verifyPath := e.totpPath(totpIdentity) + "/" + string(sid) + "/verify"
	wrong := totpWrongCode(t, uri, e.now)
	for i := 1; i <= verify.MaxFactorAttempts; i++ {
		status, body := b.post(verifyPath, url.Values{"code": {wrong}})
		if want := strconv.Itoa(i) + " of " + strconv.Itoa(verify.MaxFactorAttempts); status != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Fatalf("wrong code %d: %d, want 400 saying %q\n%s", i, status, want, body)
		}
	}
	status, body := b.post(verifyPath, url.Values{"code": {totpAppCode(t, uri, e.now)}})
	if status != http.StatusTooManyRequests || !strings.Contains(body, "(60310)") {
		t.Fatalf("right code after too many wrong ones: %d\n%s", status, body)
	}
	if f := e.factor(totpIdentity, sid); f.Status != verify.FactorUnverified {
		t.Fatalf("factor %s after too many attempts", f.Status)
	}
}

// The forms need the session's CSRF token, and another account finds
// neither the page nor the factor of a service it does not own.
func TestTotpRefusals(t *testing.T) {
	e := newTotpEnv(t)
	ctx := e.ctx
	b := e.signedIn(string(acctA), tokenA)
	path := e.totpPath(totpIdentity)

	if status, _ := b.post(path, url.Values{"friendly_name": {"Phone"}, "csrf": nil}); status != http.StatusForbidden {
		t.Errorf("create without csrf: %d, want 403", status)
	}
	if status, _ := b.post(path, url.Values{"friendly_name": {"Phone"}, "csrf": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("create with a wrong csrf: %d, want 403", status)
	}
	if _, err := e.v.FetchEntity(ctx, acctA, e.service, totpIdentity); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("a refused create made the entity: %v", err)
	}

	// The Verifier's refusal of an empty name shows on the form.
	b.getWant(path, http.StatusOK)
	if status, body := b.post(path, url.Values{"friendly_name": {" "}}); status != http.StatusBadRequest ||
		!strings.Contains(body, `id="error"`) || !strings.Contains(body, `id="totp-create"`) {
		t.Errorf("empty name: %d\n%s", status, body)
	}
	b.getWant(entityPath(e.service, "no")+"/totp", http.StatusNotFound) // not a valid identity

	body := e.create(b, totpIdentity, "Phone")
	sid, uri := verify.Sid(totpElement(t, body, "totp-factor-sid")), totpElement(t, body, "totp-uri")
	verifyPath := path + "/" + string(sid) + "/verify"
	if status, _ := b.post(verifyPath, url.Values{"code": {totpAppCode(t, uri, e.now)}, "csrf": nil}); status != http.StatusForbidden {
		t.Errorf("verify without csrf: %d, want 403", status)
	}

	other := e.signedIn(string(acctB), tokenB)
	other.getWant(path, http.StatusNotFound)
	if status, _ := other.post(path, url.Values{"friendly_name": {"Mallory"}}); status != http.StatusNotFound {
		t.Errorf("create in another account's service: %d, want 404", status)
	}
	if status, _ := other.post(verifyPath, url.Values{"code": {totpAppCode(t, uri, e.now)}}); status != http.StatusNotFound {
		t.Errorf("verify another account's factor: %d, want 404", status)
	}
	if f := e.factor(totpIdentity, sid); f.Status != verify.FactorUnverified || f.FailedAttempts != 0 {
		t.Errorf("after the refusals the factor is %s with %d failed attempts", f.Status, f.FailedAttempts)
	}
	factors, _, err := e.v.ListFactors(ctx, acctA, e.service, totpIdentity, verify.Page{Size: 10})
	if err != nil || len(factors) != 1 {
		t.Errorf("factors: %d, %v; want the one created", len(factors), err)
	}

	// Signed out, the page sends the browser to sign in.
	e.browser().getWant(path, http.StatusSeeOther)
}
