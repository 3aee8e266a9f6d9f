package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// Auth-token rotation lives in Twilio's Accounts v1 API
// (accounts.twilio.com/v1/AuthTokens/…), where twilio-go's rest/accounts/v1
// (CreateSecondaryAuthToken, DeleteSecondaryAuthToken,
// UpdateAuthTokenPromotion) and the Twilio CLI call it. The paths name no
// account: they act on the account whose credentials sign the request.
const (
	pathSecondaryToken = "/v1/AuthTokens/Secondary"
	pathPromoteToken   = "/v1/AuthTokens/Promote"
)

// secondaryTokenResponse is accounts.v1.secondary_auth_token. The token
// itself is set only in the answer to create: it is stored as a hash, so
// nothing can show it again.
type secondaryTokenResponse struct {
	AccountSid         verify.Sid `json:"account_sid"`
	DateCreated        date       `json:"date_created"`
	DateUpdated        date       `json:"date_updated"`
	SecondaryAuthToken string     `json:"secondary_auth_token"`
	URL                string     `json:"url"`
}

// tokenPromotionResponse is accounts.v1.auth_token_promotion. Twilio also
// sends auth_token, the promoted token in full; verifyd omits it (an absent
// key, which twilio-go reads as nil): the caller made that token and has it,
// a response should carry no more secret than it must, and only its hash
// is stored anyway.
type tokenPromotionResponse struct {
	AccountSid  verify.Sid `json:"account_sid"`
	DateCreated date       `json:"date_created"`
	DateUpdated date       `json:"date_updated"`
	URL         string     `json:"url"`
}

// tokenOwner admits only the account's own auth token, primary or
// secondary: Twilio requires the account SID and auth token for these
// resources, and an API key (a credential meant to be handed to one
// application) must not be able to mint or swap the account's tokens.
// SuppressEmailNotification, Twilio's one parameter, is read for its
// format and otherwise ignored: verifyd sends no email.
func tokenOwner(r *http.Request, pr *principal) error {
	if pr.Key != "" {
		return verify.Errorf(verify.EAuthenticate, "Authentication Error - API keys cannot manage auth tokens: use the account SID and auth token")
	}
	p, err := readParams(r, verify.EParam)
	if err != nil {
		return err
	}
	p.bool("SuppressEmailNotification")
	return p.err
}

func (s *Server) handleSecondaryTokenCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := tokenOwner(r, pr); err != nil {
		s.error(w, r, err)
		return
	}
	t, token, err := s.Verifier.CreateSecondaryToken(r.Context(), pr.Account)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// A secondary token this replaced may be the one cached for the account.
	s.logins.forget(string(pr.Account))
	s.writeJSON(w, r, http.StatusCreated, secondaryTokenResponse{
		AccountSid: t.AccountSid, DateCreated: dateOf(t.DateCreated), DateUpdated: dateOf(t.DateUpdated),
		SecondaryAuthToken: token, URL: s.BaseURL + pathSecondaryToken,
	})
}

// handleSecondaryTokenDelete revokes the secondary token, and drops the
// account's cached login so that the token stops working on this node at
// once; other nodes stop accepting it within the login cache's lifetime.
func (s *Server) handleSecondaryTokenDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := tokenOwner(r, pr); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.Verifier.DeleteSecondaryToken(r.Context(), pr.Account); err != nil {
		s.error(w, r, err)
		return
	}
	s.logins.forget(string(pr.Account))
	writeNoContent(w)
}

// handlePromoteToken makes the secondary token the primary; the old primary
// stops working on this node at once, as for a deleted secondary.
func (s *Server) handlePromoteToken(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := tokenOwner(r, pr); err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.Verifier.PromoteSecondaryToken(r.Context(), pr.Account)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logins.forget(string(pr.Account))
	s.writeJSON(w, r, http.StatusOK, tokenPromotionResponse{
		AccountSid: t.AccountSid, DateCreated: dateOf(t.DateCreated), DateUpdated: dateOf(t.DateUpdated),
		URL: s.BaseURL + pathPromoteToken,
	})
}
