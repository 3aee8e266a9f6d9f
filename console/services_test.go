package console

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verifyd/verify"
)

// TestServiceSettings: the settings form saves through UpdateService; a
// form it refuses, or one with a number that is not one, changes nothing
// and comes back with what was typed in every field, not the stored
// values, so that fixing one field does not mean typing the rest again.
func TestServiceSettings(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := e.browser()
	b.signIn(string(acctA), tokenA)
	status, loc := b.post(Prefix+"/services", url.Values{"friendly_name": {"Shop"}})
	if status != http.StatusSeeOther {
		t.Fatalf("create: %d", status)
	}
	sid := verify.Sid(strings.TrimPrefix(loc, Prefix+"/services/"))
	page := Prefix + "/services/" + string(sid)
	if body := b.getWant(page, http.StatusOK); !strings.Contains(body, `value="Shop"`) {
		t.Fatalf("the form does not show the stored name:\n%s", body)
	}

	saved := url.Values{"friendly_name": {"Shop login"}, "code_length": {"8"}, "totp_issuer": {"Shop"},
		"totp_time_step": {"60"}, "totp_code_length": {"8"}, "totp_skew": {"2"}, "push_include_date": {"1"},
		"passkeys_rp_id": {"shop.example"}, "passkeys_rp_name": {"Shop"},
		"passkeys_rp_origins": {"https://shop.example"}, "passkeys_user_verification": {"required"}}
	if status, loc := b.post(page, saved); status != http.StatusSeeOther || loc != page+"?saved=1" {
		t.Fatalf("save: %d %s", status, loc)
	}
	if body := b.getWant(page+"?saved=1", http.StatusOK); !strings.Contains(body, "Saved.") || !strings.Contains(body, `value="Shop login"`) {
		t.Fatalf("the page after saving shows no flash or not the saved name:\n%s", body)
	}
	want, err := e.v.FetchService(e.ctx, acctA, sid)
	if err != nil {
		t.Fatal(err)
	}
	if want.FriendlyName != "Shop login" || want.CodeLength != 8 || want.Totp.TimeStep != 60 || want.Totp.Skew != 2 ||
		!want.Push.IncludeDate || want.Passkeys.RelyingPartyID != "shop.example" {
		t.Fatalf("saved service: %+v", want)
	}

	for _, c := range []struct {
		field, typed, problem string
	}{
		{"totp_skew", "two", "totp_skew must be a whole number"}, // refused by the console
		{"totp_time_step", "90", "(60"},                          // refused by UpdateService: a Twilio code
	} {
		typed := url.Values{"friendly_name": {"Typed name"}, "code_length": {"6"}, "totp_issuer": {"Typed issuer"},
			"totp_time_step": {"30"}, "totp_code_length": {"6"}, "totp_skew": {"1"},
			"passkeys_rp_id": {"typed.example"}, "passkeys_rp_name": {"Typed"},
			"passkeys_rp_origins": {"https://typed.example"}, "passkeys_user_verification": {"preferred"}}
		typed.Set(c.field, c.typed)
		status, body := b.post(page, typed)
		if status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), c.problem) {
			t.Fatalf("%s=%s: %d, want 400 naming %q\n%s", c.field, c.typed, status, c.problem, body)
		}
		for name, vs := range typed {
			if v := `name="` + name + `"`; !strings.Contains(body, v) {
				t.Fatalf("no field %s", name)
			}
			if !strings.Contains(body, `value="`+html.EscapeString(vs[0])+`"`) {
				t.Errorf("%s=%s refused: the form lost %s=%q", c.field, c.typed, name, vs[0])
			}
		}
		if strings.Contains(body, `name="push_include_date" type="checkbox" value="1" checked`) {
			t.Errorf("%s=%s refused: the unticked box came back ticked", c.field, c.typed)
		}
		got, err := e.v.FetchService(e.ctx, acctA, sid)
		if err != nil {
			t.Fatal(err)
		}
		if got.FriendlyName != want.FriendlyName || got.Totp != want.Totp || got.Push != want.Push ||
			got.Passkeys.RelyingPartyID != want.Passkeys.RelyingPartyID {
			t.Errorf("%s=%s refused, yet the service changed: %+v", c.field, c.typed, got)
		}
	}
}
