package phone

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, e164, country, typ string
	}{
		{"+14155552671", "+14155552671", "US", "fixed_or_mobile"},
		{"+44 7400 123456", "+447400123456", "GB", "mobile"},
		{"+33 1 42 68 53 00", "+33142685300", "FR", "landline"},
		{"+49 (30) 901820", "+4930901820", "DE", "landline"},
		{"+81-90-1234-5678", "+819012345678", "JP", "mobile"},
		{"+5511987654321", "+5511987654321", "BR", "mobile"},
		{"+1 800 555 0199", "+18005550199", "US", "toll_free"},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if n.E164 != tc.e164 || n.Country != tc.country || n.Type != tc.typ {
			t.Errorf("Parse(%q) = %+v, want %s %s %s", tc.in, n, tc.e164, tc.country, tc.typ)
		}
	}
	for _, bad := range []string{"", "14155552671", "+", "+1", "+1415555267", "+999123456789", "+1415555267a",
		"+44 7911 12345678901", "tel:+14155552671", "+1 415 555 2671 ext 3", "+0123456789", "user@example.com",
		"+4479111234567891234567891234567890"} {
		if n, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, n)
		}
	}
}

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com":           "ann@example.com",
		"Ann.Lee+otp@Example.COM":   "Ann.Lee+otp@example.com",
		"x@sub.domain.example.org":  "x@sub.domain.example.org",
		"o'brien@mail.example.ie":   "o'brien@mail.example.ie",
		"UPPER@EXAMPLE.NET":         "UPPER@example.net",
		"digits123@example-123.com": "digits123@example-123.com",
	} {
		got, err := Email(in)
		if err != nil || got != want {
			t.Errorf("Email(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ann", "ann@", "@example.com", "Ann <ann@example.com>", "ann@example.com, bob@example.com",
		" ann@example.com", "ann@localhost", "ann@example..com", "ann@.example.com", "ann@example.com.", "+14155552671",
		"ann@exa mple.com", "\"odd name\"@example.com"} {
		if got, err := Email(bad); err == nil {
			t.Errorf("Email(%q) = %q, want an error", bad, got)
		}
	}
}

func TestCountry(t *testing.T) {
	for in, want := range map[string]string{"us": "US", "GB": "GB", "De": "DE", "XX": "", "USA": "", "": "", "0A": ""} {
		got, ok := Country(in)
		if ok != (want != "") || ok && got != want {
			t.Errorf("Country(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
