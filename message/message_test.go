package message

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestSMS(t *testing.T) {
	for _, tc := range []struct {
		in   Input
		want string
	}{
		{Input{Locale: "en", FriendlyName: "MyApp", Code: "123456"}, "Your MyApp verification code is: 123456."},
		// Twilio's example of an AppHash send, with the default template's
		// full stop (the example omits it).
		{Input{Locale: "en", FriendlyName: "AppName", Code: "1234", AppHash: "He42w354ol9"}, "<#> Your AppName verification code is: 1234. He42w354ol9"},
		{Input{Locale: "en", FriendlyName: "Bank", Code: "9876", DoNotShare: true},
			"Your Bank verification code is: 9876. Don’t share this code with anyone; our employees will never ask for the code."},
		{Input{Locale: "en", FriendlyName: "Bank", Code: "9876", Amount: "€39.99", Payee: "Acme Inc."},
			"Your Bank verification code is: 9876. Amount: €39.99. Payee: Acme Inc."},
		{Input{Locale: "en", FriendlyName: "Bank", Code: "9876", Amount: "€5", Payee: "Acme", DoNotShare: true},
			"Your Bank verification code is: 9876. Amount: €5. Payee: Acme. Don’t share this code with anyone; our employees will never ask for the code."},
		{Input{Locale: "zh-CN", FriendlyName: "银行", Code: "9876", Amount: "¥5", Payee: "某公司"},
			"您的银行验证码是：9876。金额：¥5。收款方：某公司。"},
		{Input{Locale: "fr", FriendlyName: "Banque", Code: "4321"}, "Votre code de vérification Banque est : 4321."},
		// ko fell back to English before it had its own sentences.
		{Input{Locale: "ko", FriendlyName: "App", Code: "4321"}, "App 인증 코드: 4321"},
		{Input{Locale: "ja", FriendlyName: "App", Code: "4321"}, "Appの認証コード：4321"},
		{Input{Locale: "ru", FriendlyName: "Банк", Code: "9876", Amount: "100 ₽", Payee: "ООО Ромашка", DoNotShare: true},
			"Ваш код подтверждения Банк: 9876. Сумма: 100 ₽. Получатель: ООО Ромашка. Никому не сообщайте этот код; наши сотрудники никогда не попросят его у вас."},
	} {
		got, err := SMS(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("SMS(%+v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	tmpl, ok := Find(templateSid("Default, expiry"))
	if !ok {
		t.Fatal("the expiry template is missing")
	}
	if got, _ := SMS(Input{Locale: "en", FriendlyName: "A", Code: "1111", Template: &tmpl}); got != "Your A verification code is: 1111. This code will expire in 10 minutes." {
		t.Errorf("expiry template: %q", got)
	}
	custom := Template{Translations: map[string]Translation{"en": {Text: "{{code}} for {{user}}", IsDefault: true}}}
	if _, err := SMS(Input{Locale: "en", Code: "1111", Template: &custom}); !errors.Is(err, ErrMissingSubstitution) || !strings.Contains(err.Error(), "user") {
		t.Errorf("missing substitution: %v", err)
	}
	if got, err := SMS(Input{Locale: "en", Code: "1111", Template: &custom, Substitutions: map[string]string{"user": "ann"}}); err != nil || got != "1111 for ann" {
		t.Errorf("substitution: %q %v", got, err)
	}
	if _, err := SMS(Input{Locale: "en", Code: "1111", FriendlyName: strings.Repeat("x", 600)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long: %v", err)
	}
}

func TestCallWhatsAppEmail(t *testing.T) {
	got, err := Call(Input{Locale: "en", FriendlyName: "MyApp", Code: "123456", DtmfInputRequired: true})
	want := "Press any key to hear your code. Your MyApp verification code is: 1, 2, 3, 4, 5, 6. Your MyApp verification code is: 1, 2, 3, 4, 5, 6."
	if err != nil || got != want {
		t.Errorf("Call = %q, %v", got, err)
	}
	if got := WhatsApp(Input{Code: "555111", DoNotShare: true}); got != "555111 is your verification code. For your security, do not share this code. This code expires in 10 minutes." {
		t.Errorf("WhatsApp = %q", got)
	}
	v := EmailVars(Input{Locale: "de", FriendlyName: "Shop", Code: "2468", Substitutions: map[string]string{"name": "Ann"}})
	for k, want := range map[string]string{"twilio_code": "2468", "twilio_message": "Ihr Shop Bestätigungscode lautet: 2468.",
		"twilio_message_without_code": "Ihr Shop Bestätigungscode lautet:", "twilio_service_name": "Shop", "name": "Ann"} {
		if v[k] != want {
			t.Errorf("EmailVars[%s] = %q, want %q", k, v[k], want)
		}
	}
}

func TestResolveLocale(t *testing.T) {
	for _, tc := range []struct{ req, country, want string }{
		{"", "FR", "fr"}, {"", "BR", "pt-BR"}, {"", "US", "en"}, {"", "", "en"}, {"pt-br", "", "pt-BR"},
		{"EN", "FR", "en"}, {"es-MX", "", "es"}, {"ja", "US", "ja"},
		{"", "JP", "ja"}, {"", "jp", "ja"}, {"", "TW", "zh-HK"}, {"", "HK", "zh-HK"}, {"", "CN", "zh-CN"},
		{"", "CH", "de"}, {"", "BE", "fr"}, {"", "PH", "en"}, {"", "ZA", "en"}, {"", "EG", "ar"}, {"", "UY", "es"},
		{"zh-TW", "", "zh"},
	} {
		if got, err := ResolveLocale(tc.req, tc.country); err != nil || got != tc.want {
			t.Errorf("ResolveLocale(%q, %q) = %q, %v; want %q", tc.req, tc.country, got, err, tc.want)
		}
	}
	for _, bad := range []string{"xx", "klingon", "e"} {
		if _, err := ResolveLocale(bad, "US"); !errors.Is(err, ErrUnsupportedLocale) {
			t.Errorf("ResolveLocale(%q): %v", bad, err)
		}
	}
}

func TestTemplates(t *testing.T) {
	re := regexp.MustCompile(`^HJ[0-9a-f]{32}$`)
	seen := map[string]bool{}
	list := BuiltIn()
	if len(list) != 8 || list[0].FriendlyName != "Verify default" {
		t.Fatalf("built-in templates: %d, first %q", len(list), list[0].FriendlyName)
	}
	for _, tmpl := range list {
		h := sha256.Sum256([]byte("verifyd template " + tmpl.FriendlyName))
		if want := "HJ" + hex.EncodeToString(h[:16]); tmpl.Sid != want || !re.MatchString(tmpl.Sid) || seen[tmpl.Sid] {
			t.Errorf("%s: sid %s, want %s (unique)", tmpl.FriendlyName, tmpl.Sid, want)
		}
		seen[tmpl.Sid] = true
		if len([]rune(tmpl.FriendlyName)) > 32 || !tmpl.Translations["en"].IsDefault {
			t.Errorf("%s: name too long or no default en", tmpl.FriendlyName)
		}
	}
	list[0].Translations["en"] = Translation{Text: "changed"}
	if again, _ := Find(list[0].Sid); again.Translations["en"].Text != defaultText {
		t.Error("BuiltIn returned the shared templates, not copies")
	}
	for loc, p := range sentences {
		for _, s := range []string{p.code} {
			if strings.Count(s, "{{code}}") != 1 || strings.Count(s, "{{friendly_name}}") != 1 {
				t.Errorf("%s: %q", loc, s)
			}
		}
		if _, err := ResolveLocale(loc, ""); err != nil {
			t.Errorf("%s is not in Locales", loc)
		}
	}
}

// TestSentences checks every locale's own sentences: each tag of Locales
// has them, the default template is translated into each, the sentence
// has its placeholders once, the e-mail's sentence without the code is
// the sentence up to the code, and the PSD2 line takes the amount and
// payee.
func TestSentences(t *testing.T) {
	def := BuiltIn()[0].Translations
	for _, loc := range Locales {
		if _, ok := sentences[loc]; !ok {
			t.Errorf("%s has no sentences", loc)
		}
		if tr, ok := def[loc]; !ok || tr.Text != sentences[loc].code {
			t.Errorf("the default template's %s translation is %q, want the locale's sentence", loc, tr.Text)
		}
	}
	if len(sentences) != len(Locales) {
		t.Errorf("%d locales have sentences, %d are supported", len(sentences), len(Locales))
	}
	trim := func(s string) string { return strings.TrimRight(s, " .。।") }
	for loc, p := range sentences {
		if strings.Count(p.code, "{{code}}") != 1 || strings.Count(p.code, "{{friendly_name}}") != 1 {
			t.Errorf("%s: code %q", loc, p.code)
		}
		if strings.Contains(p.withoutCode, "{{code}}") || strings.Count(p.withoutCode, "{{friendly_name}}") != 1 {
			t.Errorf("%s: withoutCode %q", loc, p.withoutCode)
		}
		if want := trim(strings.Replace(p.code, "{{code}}", "", 1)); trim(p.withoutCode) != want {
			t.Errorf("%s: withoutCode %q, want %q", loc, p.withoutCode, want)
		}
		psd2 := fmt.Sprintf(p.psd2, "AMOUNT", "PAYEE")
		if strings.Contains(psd2, "%!") || strings.Count(psd2, "AMOUNT") != 1 || strings.Count(psd2, "PAYEE") != 1 {
			t.Errorf("%s: psd2 %q gives %q", loc, p.psd2, psd2)
		}
		for name, s := range map[string]string{"noShare": p.noShare, "pressKey": p.pressKey} {
			if s == "" || strings.Contains(s, "{{") || strings.Contains(s, "%") {
				t.Errorf("%s: %s %q", loc, name, s)
			}
		}
	}
	if sentences["en-GB"] != sentences["en"] {
		t.Error("en-GB differs from en")
	}
	if sentences["zh"] != sentences["zh-CN"] {
		t.Error("zh differs from zh-CN")
	}
}
