package api

import (
	"net/http"
	"strings"

	"github.com/verifyd/verify"
)

// signatureFields is the value of the Twilio-Verify-Signature-Fields header
// sent on GET of a pending challenge: the challenge fields a Push SDK copies
// into the AuthPayload JWT it signs to approve or deny. It is built from
// verify.SignatureFields, the list the Verifier checks answers against, so
// the header and the check cannot drift apart. The fields are immutable and
// always present in challengeResponse (never date_updated or status), and
// the list has no spaces, because the SDKs split it on "," without trimming
// (push-protocol.md §5.5, §7).
var signatureFields = strings.Join(verify.SignatureFields, ",")

// headerSignatureFields is the response header that carries SignatureFields.
const headerSignatureFields = "Twilio-Verify-Signature-Fields"

// challengeResponse is verify.v2.service.entity.challenge on the wire.
type challengeResponse struct {
	Sid             verify.Sid        `json:"sid"`
	AccountSid      verify.Sid        `json:"account_sid"`
	ServiceSid      verify.Sid        `json:"service_sid"`
	EntitySid       verify.Sid        `json:"entity_sid"`
	Identity        string            `json:"identity"`
	FactorSid       verify.Sid        `json:"factor_sid"`
	DateCreated     date              `json:"date_created"`
	DateUpdated     date              `json:"date_updated"`
	DateResponded   date              `json:"date_responded"` // null until responded
	ExpirationDate  date              `json:"expiration_date"`
	Status          string            `json:"status"`
	RespondedReason string            `json:"responded_reason"`
	Details         challengeDetails  `json:"details"`
	HiddenDetails   map[string]string `json:"hidden_details"` // null when unset
	Metadata        map[string]string `json:"metadata"`       // null when unset
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           challengeLinks    `json:"links"`
}

// challengeDetails omits what is unset instead of sending null: the SDKs
// read message and date as strings, and Android turns null into "null".
type challengeDetails struct {
	Message string         `json:"message,omitempty"`
	Date    *date          `json:"date,omitempty"`
	Fields  []detailsField `json:"fields,omitempty"`
}

type detailsField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type challengeLinks struct {
	Notifications string `json:"notifications"`
}

func (s *Server) challengeURL(c *verify.Challenge) string {
	return s.entityURL(c.ServiceSid, c.Identity) + "/Challenges/" + string(c.Sid)
}

// challengeJSON renders c. Status is taken as the Verifier resolved it
// (expired where due), so the handler adds no expiry rule of its own.
func (s *Server) challengeJSON(c *verify.Challenge) challengeResponse {
	d := challengeDetails{Message: c.Details.Message}
	if c.Details.Date != nil {
		dd := dateOf(*c.Details.Date)
		d.Date = &dd
	}
	for _, f := range c.Details.Fields {
		d.Fields = append(d.Fields, detailsField{Label: f.Label, Value: f.Value})
	}
	reason := c.RespondedReason
	if reason == "" {
		reason = verify.ReasonNone
	}
	u := s.challengeURL(c)
	return challengeResponse{
		Sid:             c.Sid,
		AccountSid:      c.AccountSid,
		ServiceSid:      c.ServiceSid,
		EntitySid:       c.EntitySid,
		Identity:        c.Identity,
		FactorSid:       c.FactorSid,
		DateCreated:     dateOf(c.DateCreated),
		DateUpdated:     dateOf(c.DateUpdated),
		DateResponded:   datePtr(c.DateResponded),
		ExpirationDate:  dateOf(c.ExpirationDate),
		Status:          string(c.Status),
		RespondedReason: reason,
		Details:         d,
		HiddenDetails:   c.HiddenDetails,
		Metadata:        c.Metadata,
		FactorType:      string(c.FactorType),
		URL:             u,
		Links:           challengeLinks{Notifications: u + "/Notifications"},
	}
}

// challengePath returns the service, identity and challenge SID of a
// challenge path.
func challengePath(r *http.Request) (verify.Sid, string, verify.Sid) {
	return verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Identity"), verify.Sid(r.PathValue("Sid"))
}

func (s *Server) handleChallengeCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cp := verify.ChallengeParams{
		FactorSid:      p.str("FactorSid"),
		ExpirationDate: p.time("ExpirationDate"),
		DetailsMessage: p.str("Details.Message"),
		DetailsFields:  p.strs("Details.Fields"),
		HiddenDetails:  p.str("HiddenDetails"),
		AuthPayload:    p.str("AuthPayload"),
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	service, identity, _ := challengePath(r)
	c, err := s.Verifier.CreateChallenge(r.Context(), pr.Account, service, identity, cp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeChallenge(w, http.StatusCreated, c)
}

// handleChallengeFetch is the one response that carries the signature-field
// header, and only while the challenge is pending: the SDK reads it only
// then, and a non-pending challenge cannot be approved anyway.
func (s *Server) handleChallengeFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	service, identity, sid := challengePath(r)
	c, err := s.Verifier.FetchChallenge(r.Context(), pr.Account, service, identity, sid)
	if err == nil {
		err = ownChallenge(pr, c)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	if c.Status == verify.ChallengePending {
		w.Header().Set(headerSignatureFields, signatureFields)
	}
	s.writeChallenge(w, http.StatusOK, c)
}

func (s *Server) handleChallengeUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cu := verify.ChallengeUpdate{
		AuthPayload: p.str("AuthPayload"),
		Metadata:    p.str("Metadata"),
		Render:      s.challengeView,
		Device:      pr.Device, // the Verifier refuses another factor's challenge
	}
	service, identity, sid := challengePath(r)
	c, err := s.Verifier.UpdateChallenge(r.Context(), pr.Account, service, identity, sid, cu)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeChallenge(w, http.StatusOK, c)
}

// handleChallengeList passes FactorSid, Status and Order through unchecked;
// the Verifier validates them and derives the sort direction from Order.
func (s *Server) handleChallengeList(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, pg, err := readListParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := verify.ChallengeQuery{FactorSid: p.str("FactorSid"), Status: p.str("Status"), Order: p.str("Order")}
	if pr.Device != nil {
		// A device lists only its own factor's challenges.
		own := string(pr.Device.Sid)
		if q.FactorSid != nil && *q.FactorSid != "" && *q.FactorSid != own {
			s.error(w, r, verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path))
			return
		}
		q.FactorSid = &own
	}
	var filters []filter
	for _, f := range []struct {
		name string
		v    *string
	}{{"FactorSid", q.FactorSid}, {"Status", q.Status}, {"Order", q.Order}} {
		if f.v != nil {
			filters = append(filters, filter{f.name, *f.v})
		}
	}
	service, identity, _ := challengePath(r)
	items, more, err := s.Verifier.ListChallenges(r.Context(), pr.Account, service, identity, q, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "challenges", s.entityURL(service, identity)+"/Challenges", filters, pg, items, more,
		func(c *verify.Challenge) verify.Cursor { return verify.Cursor{Time: c.DateCreated, Sid: c.Sid} },
		func(c *verify.Challenge) any { return s.challengeJSON(c) })
}
