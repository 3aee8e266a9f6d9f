package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

const (
	pathAttempts = "/v2/Attempts"
	pathSummary  = pathAttempts + "/Summary"
)

// attemptResponse is verify.v2.verification_attempt on the wire.
type attemptResponse struct {
	Sid              verify.Sid  `json:"sid"`
	AccountSid       verify.Sid  `json:"account_sid"`
	ServiceSid       verify.Sid  `json:"service_sid"`
	VerificationSid  verify.Sid  `json:"verification_sid"`
	DateCreated      date        `json:"date_created"`
	DateUpdated      date        `json:"date_updated"`
	ConversionStatus string      `json:"conversion_status"`
	Channel          string      `json:"channel"`
	Price            *priceJSON  `json:"price"`
	ChannelData      channelData `json:"channel_data"`
	URL              string      `json:"url"`
}

type priceJSON struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// channelData is the attempt's channel_data; verifyd has no carrier
// lookup, so mcc, mnc and carrier are null.
type channelData struct {
	VerificationSid verify.Sid `json:"verification_sid"`
	To              string     `json:"to"`
	Status          string     `json:"status"`
	MessageStatus   string     `json:"message_status"`
	ErrorCode       *int       `json:"error_code"`
	Country         *string    `json:"country"`
	CodeLength      int        `json:"code_length"`
	Locale          string     `json:"locale"`
	MCC             *string    `json:"mcc"`
	MNC             *string    `json:"mnc"`
	Carrier         *string    `json:"carrier"`
}

func (s *Server) attemptJSON(a *verify.Attempt) attemptResponse {
	out := attemptResponse{Sid: a.Sid, AccountSid: a.AccountSid, ServiceSid: a.ServiceSid, VerificationSid: a.VerificationSid,
		DateCreated: dateOf(a.DateCreated), DateUpdated: dateOf(a.DateUpdated), ConversionStatus: "unconverted",
		Channel: a.Channel, URL: s.BaseURL + pathAttempts + "/" + string(a.Sid),
		ChannelData: channelData{VerificationSid: a.VerificationSid, To: a.To, Status: a.StatusAt(s.now()),
			MessageStatus: a.MessageStatus, CodeLength: a.CodeLength, Locale: a.Locale}}
	if a.Converted {
		out.ConversionStatus = "converted"
	}
	if a.Price != "" {
		out.Price = &priceJSON{Value: a.Price, Currency: a.PriceUnit}
	}
	if a.ErrorCode != 0 {
		out.ChannelData.ErrorCode = &a.ErrorCode
	}
	if a.Country != "" {
		out.ChannelData.Country = &a.Country
	}
	return out
}

// channelDataTo reads ChannelData.To, which twilio-go sends in a query
// with its dot escaped (ChannelData\.To: its form encoder escapes the
// delimiter it nests with).
func channelDataTo(p *params) *string {
	if v := p.str("ChannelData.To"); v != nil {
		return v
	}
	return p.str(`ChannelData\.To`)
}

// attemptQuery reads the filters the list and the summary share.
func attemptQuery(p *params) verify.AttemptQuery {
	return verify.AttemptQuery{DateCreatedAfter: p.str("DateCreatedAfter"), DateCreatedBefore: p.str("DateCreatedBefore"),
		To: channelDataTo(p), Country: p.str("Country"), Channel: p.str("Channel"),
		Service: p.str("VerifyServiceSid"), Verification: p.str("VerificationSid"), Status: p.str("Status"),
		DestinationPrefix: p.str("DestinationPrefix")}
}

// handleAttemptList serves GET /v2/Attempts, newest first. Its page URLs
// carry the filters as sent.
func (s *Server) handleAttemptList(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := attemptQuery(p)
	q.DestinationPrefix = nil // a summary filter only
	f, err := q.Filter()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var filters []filter
	for _, name := range []string{"DateCreatedAfter", "DateCreatedBefore", "ChannelData.To", "Country", "Channel",
		"VerifyServiceSid", "VerificationSid", "Status"} {
		v := p.str(name)
		if name == "ChannelData.To" {
			v = q.To
		}
		if v != nil {
			filters = append(filters, filter{name, *v})
		}
	}
	items, more, err := s.Verifier.ListAttempts(r.Context(), pr.Account, f, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "attempts", s.BaseURL+pathAttempts, filters, pg, items, more,
		func(a *verify.Attempt) verify.Cursor { return verify.Cursor{Time: a.DateCreated, Sid: a.Sid} },
		func(a *verify.Attempt) any { return s.attemptJSON(a) })
}

func (s *Server) handleAttemptFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	a, err := s.Verifier.FetchAttempt(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.attemptJSON(a))
}

// summaryResponse is verify.v2.verification_attempts_summary.
type summaryResponse struct {
	TotalAttempts    int     `json:"total_attempts"`
	TotalConverted   int     `json:"total_converted"`
	TotalUnconverted int     `json:"total_unconverted"`
	ConversionRate   *string `json:"conversion_rate_percentage"`
	URL              string  `json:"url"`
}

func (s *Server) handleAttemptSummary(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := attemptQuery(p)
	q.To, q.Verification, q.Status = nil, nil, nil // list filters only
	f, err := q.Filter()
	if err != nil {
		s.error(w, r, err)
		return
	}
	sum, err := s.Verifier.SummarizeAttempts(r.Context(), pr.Account, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := summaryResponse{TotalAttempts: sum.Total, TotalConverted: sum.Converted, TotalUnconverted: sum.Total - sum.Converted,
		URL: s.BaseURL + pathSummary}
	if rate := sum.Rate(); rate != "" {
		out.ConversionRate = &rate
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
