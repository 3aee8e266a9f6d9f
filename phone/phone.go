// Package phone checks and normalises the To of a classic Verify
// verification: an E.164 telephone number for sms, call and whatsapp, an
// e-mail address for email. It wraps github.com/nyaruka/phonenumbers, a
// port of Google's libphonenumber, so that the numbering plans of every
// country come from the one table the industry keeps up to date rather
// than from regular expressions of ours.
package phone

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Number is a valid telephone number.
type Number struct {
	// E164 is the number as +<country code><national number>.
	E164 string
	// Country is the ISO 3166-1 alpha-2 code of the region the number
	// belongs to ("US", "GB"), or "" for a non-geographic number.
	Country string
	// Type is the line type the numbering plan says the number has:
	// "mobile", "landline", "fixed_or_mobile", "voip", "toll_free", …, or
	// "unknown". It is a property of the number range, not a carrier
	// lookup: a ported number keeps the type of its range.
	Type string
}

// ErrInvalid is returned for a To that is not a valid number or address.
var ErrInvalid = errors.New("phone: not a valid number")

// Parse reads s as an international number. It must start with "+" (E.164
// as Twilio requires; a national number would need a default country,
// which Verify has not), may contain the spaces, dashes, dots and
// parentheses people write, and must be a valid number of its country's
// plan, not merely of a plausible length.
func Parse(s string) (Number, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") || len(s) > 32 {
		return Number{}, ErrInvalid
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
			return Number{}, ErrInvalid
		}
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Number{}, ErrInvalid
	}
	region := phonenumbers.GetRegionCodeForNumber(n)
	if region == "001" || region == "ZZ" {
		region = ""
	}
	return Number{
		E164:    phonenumbers.Format(n, phonenumbers.E164),
		Country: region,
		Type:    lineType(phonenumbers.GetNumberType(n)),
	}, nil
}

func lineType(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.MOBILE:
		return "mobile"
	case phonenumbers.FIXED_LINE:
		return "landline"
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return "fixed_or_mobile"
	case phonenumbers.VOIP:
		return "voip"
	case phonenumbers.TOLL_FREE:
		return "toll_free"
	case phonenumbers.PREMIUM_RATE:
		return "premium_rate"
	case phonenumbers.SHARED_COST:
		return "shared_cost"
	case phonenumbers.PERSONAL_NUMBER:
		return "personal"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "uan"
	case phonenumbers.VOICEMAIL:
		return "voicemail"
	default:
		return "unknown"
	}
}

// Email checks that s is one bare e-mail address (an addr-spec: no display
// name, no angle brackets, no list) and returns it with the domain in lower
// case. A quoted local part ("a b"@x) is refused: it is legal but rare, and
// a code sent to it is more likely a probe than a user. The local part
// keeps its case: RFC 5321 lets a server tell
// "Ann@x" from "ann@x", and the verification is keyed by what was sent.
func Email(s string) (string, error) {
	if len(s) > 254 || strings.TrimSpace(s) != s {
		return "", ErrInvalid
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", ErrInvalid
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", ErrInvalid
	}
	domain := strings.ToLower(s[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", ErrInvalid
	}
	return s[:at+1] + domain, nil
}

// Country returns the ISO 3166-1 alpha-2 code s names, upper-cased, if
// the numbering plans know it as a region numbers are dialled in: the
// countries a code can be sent to. "us" is "US"; "XX" and "USA" are not
// countries.
func Country(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	c := strings.ToUpper(s)
	return c, phonenumbers.GetSupportedRegions()[c]
}
