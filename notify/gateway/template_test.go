package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/gateway"
)

// writeTemplate writes a template file and returns its path.
func writeTemplate(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// twilioLike is the part of Twilio's Messages API the template calls: a
// form POST with basic auth, answered 201 with the message's JSON.
const twilioLike = `{
  "method": "post",
  "url": "%s/2010-04-01/Accounts/ACprovider00000000000000000000000/Messages.json",
  "headers": {
    "Content-Type": "application/x-www-form-urlencoded",
    "I-Twilio-Idempotency-Token": "{{.AttemptSid}}"
  },
  "body": "To={{urlquery .To}}&From={{urlquery (deref .From)}}&Body={{urlquery .Text}}&StatusCallback={{urlquery (index .Tags \"callback\")}}",
  "basic_auth": {"user": "ACprovider00000000000000000000000", "password": "provider-token"}
}`

func TestTemplateProviderFormAPI(t *testing.T) {
	type call struct {
		form           url.Values
		user, password string
		authOK         bool
		contentType    string
		header         http.Header
	}
	calls := make(chan call, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		calls <- call{r.PostForm, user, password, ok, r.Header.Get("Content-Type"), r.Header.Clone()}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM0123","status":"queued"}`)
	})
	srv := newServer(t, mux)
	tmpl, err := gateway.LoadTemplate(writeTemplate(t, strings.Replace(twilioLike, "%s", srv.URL, 1)))
	if err != nil {
		t.Fatalf("LoadTemplate: %v", err)
	}
	c := newClient(t, gateway.Config{Template: tmpl})
	r := fixedRequest()
	r.Channel = "sms"
	if _, err := c.Send(context.Background(), r); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := <-calls
	for field, want := range map[string]string{"To": r.To, "From": *r.From, "Body": text, "StatusCallback": ""} {
		if v := got.form.Get(field); v != want {
			t.Errorf("form %s = %q, want %q", field, v, want)
		}
	}
	if !got.authOK || got.user != "ACprovider00000000000000000000000" || got.password != "provider-token" {
		t.Errorf("basic auth %q:%q (%v)", got.user, got.password, got.authOK)
	}
	if got.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", got.contentType)
	}
	if v := got.header.Get("I-Twilio-Idempotency-Token"); v != r.AttemptSid {
		t.Errorf("I-Twilio-Idempotency-Token %q, want %q", v, r.AttemptSid)
	}
	if v := got.header.Get("X-Verifyd-Signature"); v != "" {
		t.Errorf("signed without a secret: %q", v)
	}
}

func TestTemplateJSONBodySigned(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	c := newClient(t, gateway.Config{
		URL: rc.srv.URL + "/otp", Secret: secret, IncludeCode: true,
		Template: &gateway.Template{
			Headers: map[string]string{"authorization": "Bearer static-key"},
			Body:    `{"phone":{{json .To}},"otp":{{json .Code}},"sender":{{json .From}},"voice":{{json .Voice}}}`,
		},
	})
	r := fixedRequest()
	r.From = nil
	if _, err := c.Send(context.Background(), r); err != nil {
		t.Fatalf("Send: %v", err)
	}
	g := rc.requests()[0]
	var body struct {
		Phone, OTP string
		Sender     *string
		Voice      gateway.Voice
	}
	if err := json.Unmarshal(g.body, &body); err != nil {
		t.Fatalf("body %s: %v", g.body, err)
	}
	if body.Phone != r.To || body.OTP != code || body.Sender != nil || body.Voice != *r.Voice {
		t.Errorf("body %s", g.body)
	}
	if g.method != http.MethodPost || g.path != "/otp" || g.header.Get("Content-Type") != "application/json" ||
		g.header.Get("Authorization") != "Bearer static-key" || g.header.Get("Idempotency-Key") != r.AttemptSid {
		t.Errorf("request %s %s, headers %v", g.method, g.path, g.header)
	}
	if err := gateway.Verify(secret, g.header.Get("X-Verifyd-Signature"), g.body, now, 0); err != nil {
		t.Errorf("Verify of a templated request: %v", err)
	}
}

func TestTemplateFailures(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	c := newClient(t, gateway.Config{URL: rc.srv.URL, Template: &gateway.Template{Body: `{{json .}}`}})
	if _, err := c.Send(context.Background(), fixedRequest()); !notify.IsPermanent(err) {
		t.Errorf("401 from a provider: %v, want permanent", err)
	}
	// A header that renders the text's line break: no request, a
	// permanent error that names the header and not the text.
	c = newClient(t, gateway.Config{URL: rc.srv.URL, IncludeCode: true, Template: &gateway.Template{
		Headers: map[string]string{"X-Message": "{{.Code}} {{.Text}}"},
	}})
	r := fixedRequest()
	r.Text = "line one\nline two " + text
	_, err := c.Send(context.Background(), r)
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "headers.X-Message") {
		t.Errorf("header with a line break: %v, want a permanent error naming headers.X-Message", err)
	}
	if err != nil {
		assertClean(t, err)
	}
	// A template that fails only on some request: Voice is nil but read.
	c = newClient(t, gateway.Config{URL: rc.srv.URL, IncludeCode: true, Template: &gateway.Template{
		Body: "{{.Code}} {{.Text}} {{.Voice.Repeat}}",
	}})
	r.Voice = nil
	_, err = c.Send(context.Background(), r)
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "field body") {
		t.Errorf("body failing on a nil Voice: %v, want a permanent error naming the body", err)
	}
	if err != nil {
		assertClean(t, err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1 (the 401)", n)
	}
}

func TestLoadTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"broken body", `{"url":"https://api.example/send","body":"To={{urlquery .To}"}`, "field body"},
		{"broken header", `{"url":"https://api.example/send","headers":{"X-Key":"{{if}}"}}`, "field headers.X-Key"},
		{"unknown request field", `{"url":"https://api.example/send","body":"{{.Phone}}"}`, "field body"},
		{"unknown field for calls only", `{"url":"https://api.example/send","body":"{{if eq .Channel \"call\"}}{{.Voice.Digits}}{{end}}"}`, "field body"},
		{"unknown function", `{"url":"https://api.example/send","body":"{{base64 .To}}"}`, "field body"},
		{"url not http", `{"url":"ftp://api.example/{{.To}}"}`, "field url"},
		{"broken url", `{"url":"https://api.example/{{.To"}`, "field url"},
		{"broken method", `{"method":"{{.Method}}","url":"https://api.example/"}`, "field method"},
		{"no url", `{"body":"x"}`, "field url"},
		{"basic auth without user", `{"url":"https://api.example/","basic_auth":{"password":"p"}}`, "field basic_auth"},
		{"misspelt key", `{"url":"https://api.example/","heders":{}}`, "heders"},
		{"not JSON", `url: https://api.example/`, "invalid character"},
	} {
		path := writeTemplate(t, tc.file)
		_, err := gateway.LoadTemplate(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: LoadTemplate error %v, want one naming %s and %q", tc.name, err, path, tc.want)
		}
	}
	if _, err := gateway.LoadTemplate(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadTemplate of a missing file: no error")
	}
	ok := `{"method":"PUT","url":"https://api.example/{{.Channel}}","headers":{"X-Key":"k"},"body":"{{json .}}"}`
	tmpl, err := gateway.LoadTemplate(writeTemplate(t, ok))
	if err != nil || tmpl.Method != "PUT" || tmpl.Headers["X-Key"] != "k" || tmpl.BasicAuth != nil {
		t.Errorf("LoadTemplate of a valid file: %+v, %v", tmpl, err)
	}
}
