package verify

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify/phone"
)

// Attempt is a verification attempt as the Attempts API shows it: one send
// of a code (VL, the attempt_sid of send_code_attempts), with what its
// verification says about it (verifications.md §9).
type Attempt struct {
	SendAttempt
	CodeLength         int
	VerificationStatus VerificationStatus
	ExpiresAt          time.Time
}

// Channel data statuses of an attempt.
const (
	AttemptConfirmed   = "confirmed"
	AttemptUnconfirmed = "unconfirmed"
	AttemptExpired     = "expired"
)

// StatusAt is channel_data.status at now: confirmed once its verification
// was approved, expired once it can no longer be (expired, or canceled,
// or past its expiry), unconfirmed before.
func (a *Attempt) StatusAt(now time.Time) string {
	switch {
	case a.Converted:
		return AttemptConfirmed
	case a.VerificationStatus == VerificationExpired || a.VerificationStatus == VerificationCanceled || !now.Before(a.ExpiresAt):
		return AttemptExpired
	}
	return AttemptUnconfirmed
}

// AttemptFilter narrows the Attempts list and summary; zero fields do
// not filter.
type AttemptFilter struct {
	After, Before *time.Time // inclusive bounds on date_created
	To            string     // E.164 or e-mail, exact
	Prefix        string     // E.164 prefix of To (summary only)
	Country       string
	Channel       string
	Service       Sid
	Verification  Sid
	Converted     *bool
}

// AttemptQuery is the raw filter parameters of a request, as sent; nil
// is not sent.
type AttemptQuery struct {
	DateCreatedAfter, DateCreatedBefore   *string
	To, Country, Channel, Service, Status *string
	Verification, DestinationPrefix       *string
}

// DefaultAttemptRetention is how long attempts stay listed, as at Twilio.
const DefaultAttemptRetention = 30 * 24 * time.Hour

// Filter checks q and returns its filter: a value that is not a date,
// an E.164 number, a country, a channel, a SID or a conversion status is
// 60200, naming the parameter.
func (q AttemptQuery) Filter() (AttemptFilter, error) {
	var f AttemptFilter
	date := func(name string, s *string) (*time.Time, error) {
		if s == nil || *s == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			return nil, invalid(name)
		}
		t = t.UTC()
		return &t, nil
	}
	var err error
	if f.After, err = date("DateCreatedAfter", q.DateCreatedAfter); err != nil {
		return f, err
	}
	if f.Before, err = date("DateCreatedBefore", q.DateCreatedBefore); err != nil {
		return f, err
	}
	if s := q.To; s != nil && *s != "" {
		to, ok := NormalizeTo(*s)
		if !ok {
			return f, invalid("ChannelData.To")
		}
		f.To = to
	}
	if s := q.Country; s != nil && *s != "" {
		c, ok := phone.Country(*s)
		if !ok {
			return f, invalid("Country")
		}
		f.Country = c
	}
	if s := q.Channel; s != nil && *s != "" {
		switch *s {
		case ChannelSMS, ChannelCall, ChannelEmail, ChannelWhatsapp, "rbm":
			f.Channel = *s
		default:
			return f, invalid("Channel")
		}
	}
	if s := q.Service; s != nil && *s != "" {
		if !Sid(*s).Valid(PrefixService) {
			return f, invalid("VerifyServiceSid")
		}
		f.Service = Sid(*s)
	}
	if s := q.Verification; s != nil && *s != "" {
		if !Sid(*s).Valid(PrefixVerification) {
			return f, invalid("VerificationSid")
		}
		f.Verification = Sid(*s)
	}
	if s := q.Status; s != nil && *s != "" {
		switch strings.ToLower(*s) {
		case "converted":
			f.Converted = new(bool)
			*f.Converted = true
		case "unconverted":
			f.Converted = new(bool)
		default:
			return f, invalid("Status")
		}
	}
	if s := q.DestinationPrefix; s != nil && *s != "" {
		p := *s
		if len(p) < 2 || len(p) > 16 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
			return f, invalid("DestinationPrefix")
		}
		f.Prefix = p
	}
	return f, nil
}

// attemptFloor is the oldest date_created still within the attempts'
// retention at now: the sweep deletes what is older.
func (v *Verifier) attemptFloor(now time.Time) time.Time {
	return now.Add(-orDefault(v.AttemptRetention, DefaultAttemptRetention))
}

// retained narrows f to the attempts within the retention, so that the
// API answers the same whether or not the sweep (which may be turned off,
// or be behind) has deleted the older ones yet.
func (v *Verifier) retained(f AttemptFilter) AttemptFilter {
	floor := v.attemptFloor(v.now())
	if f.After == nil || f.After.Before(floor) {
		f.After = &floor
	}
	return f
}

// ListAttempts pages through the account's attempts, newest first (the
// list's own order, Page.Desc meaning oldest first is not offered).
func (v *Verifier) ListAttempts(ctx context.Context, account Sid, f AttemptFilter, p Page) ([]*Attempt, bool, error) {
	if err := v.throttle(ctx, "attempts:"+string(account), v.limits().AttemptsAPI); err != nil {
		return nil, false, err
	}
	p.Desc = true
	return v.Store.ListAttempts(ctx, account, v.retained(f), p)
}

// FetchAttempt returns one of the account's attempts, while retained.
func (v *Verifier) FetchAttempt(ctx context.Context, account, sid Sid) (*Attempt, error) {
	if err := v.throttle(ctx, "attempts:"+string(account), v.limits().AttemptsAPI); err != nil {
		return nil, err
	}
	if !sid.Valid(PrefixAttempt) {
		return nil, notFound("/Attempts/" + string(sid))
	}
	a, err := v.Store.FindAttempt(ctx, account, sid)
	if err != nil {
		return nil, err
	}
	if a.DateCreated.Before(v.attemptFloor(v.now())) {
		return nil, notFound("/Attempts/" + string(sid))
	}
	return a, nil
}

// AttemptSummary counts attempts and conversions.
type AttemptSummary struct {
	Total, Converted int
}

// Rate is conversion_rate_percentage: converted/total × 100 with nine
// decimals, rounded, as Twilio's example "81.818181818" for 9 of 11,
// without trailing zeros ("100", "50"); "" (null) with no attempts.
func (s AttemptSummary) Rate() string {
	if s.Total == 0 {
		return ""
	}
	r := strconv.FormatFloat(100*float64(s.Converted)/float64(s.Total), 'f', 9, 64)
	return strings.TrimSuffix(strings.TrimRight(r, "0"), ".")
}

// SummarizeAttempts counts the account's attempts that match f.
func (v *Verifier) SummarizeAttempts(ctx context.Context, account Sid, f AttemptFilter) (AttemptSummary, error) {
	if err := v.throttle(ctx, "summary:"+string(account), v.limits().SummaryAPI); err != nil {
		return AttemptSummary{}, err
	}
	return v.Store.SummarizeAttempts(ctx, account, v.retained(f))
}
