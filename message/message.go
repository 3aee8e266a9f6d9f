// Package message writes the text of classic Verify codes: the SMS body,
// the call's speech script, the WhatsApp authentication text and the
// e-mail template variables, from Verify's templates (GET /v2/Templates)
// and locales, by the rules of verifications.md §8. It knows no Verify
// types: the root package maps its errors to Twilio codes.
package message

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Template is a Verify template (HJ…).
type Template struct {
	Sid          string
	FriendlyName string
	// Channels are "sms" and, for templates a call may speak, "voice".
	Channels     []string
	Translations map[string]Translation
}

// Translation is a template's text in one locale.
type Translation struct {
	Locale    string
	Text      string
	IsDefault bool
	Status    string
}

// Errors of rendering; the root package maps them to 60224 and 60247.
var (
	ErrUnsupportedLocale   = errors.New("message: unsupported locale")
	ErrMissingSubstitution = errors.New("message: a template variable has no value")
	ErrTooLong             = errors.New("message: longer than 500 characters")
)

// MaxSMS is the longest SMS body Verify sends (error 60247 beyond).
const MaxSMS = 500

// templateSid derives a built-in template's SID from its name, so that it
// is the same on every install and in every release.
func templateSid(name string) string {
	h := sha256.Sum256([]byte("verifyd template " + name))
	return "HJ" + hex.EncodeToString(h[:])[:32]
}

// defaultText is Verify's default template, whose translations are the
// sentences of locales.go.
const defaultText = "Your {{friendly_name}} verification code is: {{code}}."

// builtIn are the public templates of verifications.md §8.1: Verify's
// default, the other base messages, and the default with each addendum.
var builtIn = func() []Template {
	list := []struct{ name, text string }{
		{"Verify default", defaultText},
		{"Forgotten login ID", "{{friendly_name}} verification code for forgotten login ID is: {{code}}."},
		{"Code first", "{{code}} is your verification code for {{friendly_name}}."},
		{"Authentication code", "{{code}} is your authentication code for {{friendly_name}}."},
		{"Password change", "{{friendly_name}} verification code for password change: {{code}}."},
		{"Default, employees never ask", defaultText + " Our employees will never ask for the code."},
		{"Default, expiry", defaultText + " This code will expire in {{ttl}} minutes."},
		{"Default, do not share", defaultText + " Do not share this code with anyone."},
	}
	out := make([]Template, len(list))
	for i, t := range list {
		out[i] = Template{Sid: templateSid(t.name), FriendlyName: t.name, Channels: []string{"sms", "voice"},
			Translations: map[string]Translation{"en": {Locale: "en", Text: t.text, IsDefault: true, Status: "approved"}}}
	}
	for loc, s := range sentences {
		if loc != "en" {
			out[0].Translations[loc] = Translation{Locale: loc, Text: s.code, Status: "approved"}
		}
	}
	return out
}()

// BuiltIn returns copies of the templates verifyd ships, Verify's default
// first.
func BuiltIn() []Template {
	out := make([]Template, len(builtIn))
	for i, t := range builtIn {
		out[i] = clone(t)
	}
	return out
}

// Find returns a copy of the built-in template with this SID.
func Find(sid string) (Template, bool) {
	for _, t := range builtIn {
		if t.Sid == sid {
			return clone(t), true
		}
	}
	return Template{}, false
}

func clone(t Template) Template {
	c := t
	c.Channels = append([]string(nil), t.Channels...)
	c.Translations = make(map[string]Translation, len(t.Translations))
	for k, v := range t.Translations {
		c.Translations[k] = v
	}
	return c
}

// Input is what one message is made of.
type Input struct {
	Channel           string // sms, call, whatsapp, email
	Locale            string // resolved (ResolveLocale)
	FriendlyName      string
	Code              string
	TTLMinutes        int
	DoNotShare        bool   // sms only
	AppHash           string // sms only
	Amount, Payee     string // PSD2, both or neither
	Template          *Template
	Substitutions     map[string]string
	DtmfInputRequired bool // call only
}

// sentence returns the template text for the input's locale: the
// template's translation, else its default one; the Verify default in
// the locale's own words when no template is chosen.
func (in Input) sentence() string {
	if in.Template == nil {
		return localeOf(in.Locale).code
	}
	if t, ok := in.Template.Translations[in.Locale]; ok {
		return t.Text
	}
	for _, t := range in.Template.Translations {
		if t.IsDefault {
			return t.Text
		}
	}
	return defaultText
}

// fill substitutes {{name}} variables: friendly_name, code and ttl from
// the input, any other from Substitutions; one with no value is an error.
func (in Input) fill(text string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		name := strings.TrimSpace(text[i+2 : i+j])
		switch name {
		case "friendly_name":
			b.WriteString(in.FriendlyName)
		case "code":
			b.WriteString(in.Code)
		case "ttl":
			b.WriteString(strconv.Itoa(in.ttl()))
		default:
			v, ok := in.Substitutions[name]
			if !ok {
				return "", fmt.Errorf("%w: %s", ErrMissingSubstitution, name)
			}
			b.WriteString(v)
		}
		text = text[i+j+2:]
	}
}

func (in Input) ttl() int {
	if in.TTLMinutes > 0 {
		return in.TTLMinutes
	}
	return 10
}

// SMS renders the SMS body (§8.2): the template sentence, the PSD2
// amount and payee, Twilio's do-not-share warning, the Android
// SMS-Retriever prefix and hash, at most MaxSMS characters.
func SMS(in Input) (string, error) {
	s, err := in.fill(in.sentence())
	if err != nil {
		return "", err
	}
	loc := localeOf(in.Locale)
	if in.Amount != "" || in.Payee != "" {
		s += loc.sep() + fmt.Sprintf(loc.psd2, in.Amount, in.Payee) + loc.stopAfter(in.Payee)
	}
	if in.DoNotShare {
		s += loc.sep() + loc.noShare
	}
	if in.AppHash != "" {
		s = "<#> " + s + " " + in.AppHash
	}
	if utf8.RuneCountInString(s) > MaxSMS {
		return "", ErrTooLong
	}
	return s, nil
}

// Call renders the speech script: a prompt to press a key first when the
// service asks for one, then the sentence with the code spoken digit by
// digit, twice.
func Call(in Input) (string, error) {
	loc := localeOf(in.Locale)
	spoken := in
	spoken.Code = strings.Join(strings.Split(in.Code, ""), ", ")
	text := loc.code
	if in.Template != nil && hasVoice(in.Template) {
		text = in.sentence()
	}
	s, err := spoken.fill(text)
	if err != nil {
		return "", err
	}
	out := s + " " + s
	if in.DtmfInputRequired {
		out = loc.pressKey + " " + out
	}
	return out, nil
}

func hasVoice(t *Template) bool {
	for _, c := range t.Channels {
		if c == "voice" {
			return true
		}
	}
	return false
}

// WhatsApp renders Meta's fixed authentication text, which a WhatsApp
// sender fills into its approved template: the code, the optional
// security line, and the expiry.
func WhatsApp(in Input) string {
	s := in.Code + " is your verification code."
	if in.DoNotShare {
		s += " For your security, do not share this code."
	}
	return s + fmt.Sprintf(" This code expires in %d minutes.", in.ttl())
}

// EmailVars returns the e-mail template variables Twilio documents:
// twilio_code, twilio_message (the localised sentence with the code),
// twilio_message_without_code and twilio_service_name, plus the
// substitutions of ChannelConfiguration.
func EmailVars(in Input) map[string]string {
	vars := make(map[string]string, len(in.Substitutions)+4)
	for k, v := range in.Substitutions {
		vars[k] = v
	}
	loc := localeOf(in.Locale)
	plain := in
	plain.Template, plain.Substitutions = nil, nil
	msg, _ := plain.fill(loc.code)
	without, _ := plain.fill(loc.withoutCode)
	vars["twilio_code"] = in.Code
	vars["twilio_message"] = msg
	vars["twilio_message_without_code"] = without
	vars["twilio_service_name"] = in.FriendlyName
	return vars
}

// stopAfter returns the full stop that ends the payee's sentence: the one
// the locale ends its code sentence with ("." or "。"), unless the payee
// ends in punctuation itself ("Acme Inc.") or the locale ends sentences
// with none.
func (p phrases) stopAfter(payee string) string {
	if r, _ := utf8.DecodeLastRuneInString(payee); unicode.IsPunct(r) {
		return ""
	}
	r, _ := utf8.DecodeLastRuneInString(p.code)
	if !unicode.IsPunct(r) {
		return ""
	}
	return string(r)
}

// sep is what goes between two sentences: a space, or nothing after the
// ideographic full stop of Chinese.
func (p phrases) sep() string {
	if strings.HasSuffix(p.code, "。") {
		return ""
	}
	return " "
}
