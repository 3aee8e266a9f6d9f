package verify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestAttemptQueryFilter: good filter values are normalised (E.164, upper
// case country, either case of the conversion status); every bad one is
// 60200 naming its parameter.
func TestAttemptQueryFilter(t *testing.T) {
	s := func(v string) *string { return &v }
	f, err := verify.AttemptQuery{To: s("+1 415-555-2671"), Country: s("gb"), Status: s("CONVERTED"), Channel: s("whatsapp"),
		DateCreatedAfter: s("2024-01-02T05:04:05+02:00"), DestinationPrefix: s("+57305"),
		Service: s("VA0123456789abcdef0123456789abcdef"), Verification: s("VE0123456789abcdef0123456789abcdef")}.Filter()
	if err != nil {
		t.Fatal(err)
	}
	if f.To != "+14155552671" || f.Country != "GB" || f.Converted == nil || !*f.Converted || f.Channel != "whatsapp" ||
		!f.After.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || f.After.Location() != time.UTC || f.Before != nil ||
		f.Prefix != "+57305" || f.Service == "" || f.Verification == "" {
		t.Fatalf("filter %+v", f)
	}
	if f, err := (verify.AttemptQuery{Status: s("unconverted"), Country: s("")}).Filter(); err != nil || f.Converted == nil || *f.Converted || f.Country != "" {
		t.Fatalf("unconverted: %+v, %v", f, err)
	}
	for name, q := range map[string]verify.AttemptQuery{
		"DateCreatedAfter":  {DateCreatedAfter: s("2024-01-02")},
		"DateCreatedBefore": {DateCreatedBefore: s("yesterday")},
		"ChannelData.To":    {To: s("not a number")},
		"Country":           {Country: s("ZZ")},
		"Channel":           {Channel: s("sna")},
		"VerifyServiceSid":  {Service: s("VE0123456789abcdef0123456789abcdef")},
		"VerificationSid":   {Verification: s("VA0123456789abcdef0123456789abcdef")},
		"Status":            {Status: s("approved")},
		"DestinationPrefix": {DestinationPrefix: s("+12345678901234567")},
	} {
		_, err := q.Filter()
		if !verify.IsCode(err, verify.EInvalidParam) || !strings.HasSuffix(err.Error(), "Invalid parameter: "+name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAttemptSummaryRate: nine decimals, rounded, as Twilio's "81.818181818"
// for 9 of 11; whole numbers bare; no rate without attempts.
func TestAttemptSummaryRate(t *testing.T) {
	for _, tc := range []struct {
		total, converted int
		want             string
	}{
		{11, 9, "81.818181818"}, {3, 2, "66.666666667"}, {3, 1, "33.333333333"}, {8, 1, "12.5"},
		{4, 4, "100"}, {7, 0, "0"}, {0, 0, ""},
	} {
		if got := (verify.AttemptSummary{Total: tc.total, Converted: tc.converted}).Rate(); got != tc.want {
			t.Errorf("%d of %d: %q, want %q", tc.converted, tc.total, got, tc.want)
		}
	}
}

// TestAttemptStatusAt: confirmed once converted; expired past the expiry
// or once the verification is expired or canceled; unconfirmed before,
// also after the checks ran out.
func TestAttemptStatusAt(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(converted bool, status verify.VerificationStatus, expires time.Time) *verify.Attempt {
		a := &verify.Attempt{VerificationStatus: status, ExpiresAt: expires}
		a.Converted = converted
		return a
	}
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	for _, tc := range []struct {
		a    *verify.Attempt
		want string
	}{
		{at(true, verify.VerificationApproved, earlier), verify.AttemptConfirmed},
		{at(false, verify.VerificationPending, later), verify.AttemptUnconfirmed},
		{at(false, verify.VerificationMaxAttempts, later), verify.AttemptUnconfirmed},
		{at(false, verify.VerificationPending, now), verify.AttemptExpired},
		{at(false, verify.VerificationMaxAttempts, earlier), verify.AttemptExpired},
		{at(false, verify.VerificationExpired, later), verify.AttemptExpired},
		{at(false, verify.VerificationCanceled, later), verify.AttemptExpired},
	} {
		if got := tc.a.StatusAt(now); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.a, got, tc.want)
		}
	}
}
