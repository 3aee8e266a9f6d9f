package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// rateLimitResponse is verify.v2.service.rate_limit on the wire.
type rateLimitResponse struct {
	Sid         verify.Sid        `json:"sid"`
	ServiceSid  verify.Sid        `json:"service_sid"`
	AccountSid  verify.Sid        `json:"account_sid"`
	UniqueName  string            `json:"unique_name"`
	Description string            `json:"description"`
	DateCreated date              `json:"date_created"`
	DateUpdated date              `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

func (s *Server) rateLimitURL(service, sid verify.Sid) string {
	return s.serviceURL(service) + "/RateLimits/" + string(sid)
}

func (s *Server) rateLimitJSON(r *verify.RateLimit) rateLimitResponse {
	u := s.rateLimitURL(r.ServiceSid, r.Sid)
	return rateLimitResponse{Sid: r.Sid, ServiceSid: r.ServiceSid, AccountSid: r.AccountSid, UniqueName: r.UniqueName,
		Description: r.Description, DateCreated: dateOf(r.DateCreated), DateUpdated: dateOf(r.DateUpdated),
		URL: u, Links: map[string]string{"buckets": u + "/Buckets"}}
}

// bucketResponse is verify.v2.service.rate_limit.bucket on the wire.
type bucketResponse struct {
	Sid          verify.Sid `json:"sid"`
	RateLimitSid verify.Sid `json:"rate_limit_sid"`
	ServiceSid   verify.Sid `json:"service_sid"`
	AccountSid   verify.Sid `json:"account_sid"`
	Max          int        `json:"max"`
	Interval     int        `json:"interval"`
	DateCreated  date       `json:"date_created"`
	DateUpdated  date       `json:"date_updated"`
	URL          string     `json:"url"`
}

func (s *Server) bucketJSON(b *verify.Bucket) bucketResponse {
	return bucketResponse{Sid: b.Sid, RateLimitSid: b.RateLimitSid, ServiceSid: b.ServiceSid, AccountSid: b.AccountSid,
		Max: b.Max, Interval: b.Interval, DateCreated: dateOf(b.DateCreated), DateUpdated: dateOf(b.DateUpdated),
		URL: s.rateLimitURL(b.ServiceSid, b.RateLimitSid) + "/Buckets/" + string(b.Sid)}
}

func (s *Server) handleRateLimitCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rl, err := s.Verifier.CreateRateLimit(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), p.str("UniqueName"), p.str("Description"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.rateLimitJSON(rl))
}

func (s *Server) handleRateLimitFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	rl, err := s.Verifier.FetchRateLimit(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Sid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.rateLimitJSON(rl))
}

func (s *Server) handleRateLimitUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rl, err := s.Verifier.UpdateRateLimit(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Sid"), p.str("Description"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.rateLimitJSON(rl))
}

func (s *Server) handleRateLimitDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeleteRateLimit(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Sid")); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleRateLimitList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service := verify.Sid(r.PathValue("ServiceSid"))
	items, more, err := s.Verifier.ListRateLimits(r.Context(), pr.Account, service, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "rate_limits", s.serviceURL(service)+"/RateLimits", nil, pg, items, more,
		func(rl *verify.RateLimit) verify.Cursor { return verify.Cursor{Time: rl.DateCreated, Sid: rl.Sid} },
		func(rl *verify.RateLimit) any { return s.rateLimitJSON(rl) })
}

func (s *Server) handleBucketCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	max, interval := p.int("Max"), p.int("Interval")
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	b, err := s.Verifier.CreateBucket(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("RateLimitSid"), max, interval)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.bucketJSON(b))
}

func (s *Server) handleBucketFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	b, err := s.Verifier.FetchBucket(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("RateLimitSid"), verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.bucketJSON(b))
}

func (s *Server) handleBucketUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	max, interval := p.int("Max"), p.int("Interval")
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	b, err := s.Verifier.UpdateBucket(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("RateLimitSid"),
		verify.Sid(r.PathValue("Sid")), max, interval)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.bucketJSON(b))
}

func (s *Server) handleBucketDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeleteBucket(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("RateLimitSid"),
		verify.Sid(r.PathValue("Sid"))); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleBucketList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service := verify.Sid(r.PathValue("ServiceSid"))
	key := r.PathValue("RateLimitSid")
	items, more, err := s.Verifier.ListBuckets(r.Context(), pr.Account, service, key, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "buckets", s.serviceURL(service)+"/RateLimits/"+key+"/Buckets", nil, pg, items, more,
		func(b *verify.Bucket) verify.Cursor { return verify.Cursor{Time: b.DateCreated, Sid: b.Sid} },
		func(b *verify.Bucket) any { return s.bucketJSON(b) })
}
