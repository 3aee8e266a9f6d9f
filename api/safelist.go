package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// pathSafeList is the account's Safe List of numbers.
const pathSafeList = "/v2/SafeList/Numbers"

// safeNumberResponse is verify.v2.safelist on the wire; its URL has the
// number with a literal "+", as Twilio's.
type safeNumberResponse struct {
	Sid         verify.Sid `json:"sid"`
	PhoneNumber string     `json:"phone_number"`
	URL         string     `json:"url"`
}

func (s *Server) safeNumberJSON(n *verify.SafeNumber) safeNumberResponse {
	return safeNumberResponse{Sid: n.Sid, PhoneNumber: n.PhoneNumber, URL: s.BaseURL + pathSafeList + "/" + n.PhoneNumber}
}

func (s *Server) handleSafeNumberCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.Verifier.AddSafeNumber(r.Context(), pr.Account, p.str("PhoneNumber"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.safeNumberJSON(n))
}

func (s *Server) handleSafeNumberFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	n, err := s.Verifier.FetchSafeNumber(r.Context(), pr.Account, r.PathValue("PhoneNumber"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.safeNumberJSON(n))
}

func (s *Server) handleSafeNumberDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.RemoveSafeNumber(r.Context(), pr.Account, r.PathValue("PhoneNumber")); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}
