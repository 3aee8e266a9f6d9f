package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// The Keys resource lives in Twilio's 2010-04-01 API, not in Verify v2:
// that is where twilio-go (Api.CreateNewKey, ListKey, …) and the Twilio CLI
// manage keys. Its wire format is the older one: .json paths, RFC 2822
// dates, and lists with relative *_page_uri fields at the top level.
const pathAccounts = "/2010-04-01/Accounts"

// rfc2822 is the date format of the 2010-04-01 API.
const rfc2822 = time.RFC1123Z

// keyResponse is api.v2010.account.key on the wire; Secret is set only in
// the answer to create.
type keyResponse struct {
	Sid          verify.Sid `json:"sid"`
	FriendlyName string     `json:"friendly_name"`
	DateCreated  string     `json:"date_created"`
	DateUpdated  string     `json:"date_updated"`
	Secret       string     `json:"secret,omitempty"`
}

func keyJSON(k *verify.APIKey) keyResponse {
	return keyResponse{
		Sid: k.Sid, FriendlyName: k.FriendlyName,
		DateCreated: k.DateCreated.UTC().Format(rfc2822), DateUpdated: k.DateUpdated.UTC().Format(rfc2822),
	}
}

// keyList is a page of keys in the 2010-04-01 list format.
type keyList struct {
	Keys            []keyResponse `json:"keys"`
	FirstPageURI    string        `json:"first_page_uri"`
	NextPageURI     *string       `json:"next_page_uri"`
	PreviousPageURI *string       `json:"previous_page_uri"`
	Page            int           `json:"page"`
	PageSize        int           `json:"page_size"`
	Start           int           `json:"start"`
	End             int           `json:"end"`
	URI             string        `json:"uri"`
}

// keysOwner admits only the account's own credentials, for the account in
// the path: an API key cannot manage keys (Twilio's Standard keys cannot
// either), and another account's path is refused as Twilio does, with 20003.
func keysOwner(r *http.Request, pr *principal) error {
	if pr.Key != "" {
		return verify.Errorf(verify.EAuthenticate, "Authentication Error - API keys cannot manage keys: use the account SID and auth token")
	}
	if verify.Sid(r.PathValue("AccountSid")) != pr.Account {
		return verify.Errorf(verify.EAuthenticate, "Authentication Error - the credentials are not those of account %s", r.PathValue("AccountSid"))
	}
	return nil
}

// keyOf checks that pr may manage the account's keys and reads {Key} of
// …/Keys/{Key}, which ServeMux matches as a whole segment: the SID followed
// by ".json".
func keyOf(r *http.Request, pr *principal) (verify.Sid, error) {
	if err := keysOwner(r, pr); err != nil {
		return "", err
	}
	sid, ok := strings.CutSuffix(r.PathValue("Key"), ".json")
	if !ok {
		return "", verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path)
	}
	return verify.Sid(sid), nil
}

func (s *Server) handleKeyCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := keysOwner(r, pr); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := readParams(r, verify.EParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	k, secret, err := s.Verifier.CreateAPIKey(r.Context(), pr.Account, p.str("FriendlyName"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := keyJSON(k)
	out.Secret = secret
	s.writeJSON(w, r, http.StatusCreated, out)
}

func (s *Server) handleKeyFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	sid, err := keyOf(r, pr)
	if err != nil {
		s.error(w, r, err)
		return
	}
	k, err := s.Verifier.FetchAPIKey(r.Context(), pr.Account, sid)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, keyJSON(k))
}

func (s *Server) handleKeyUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	sid, err := keyOf(r, pr)
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := readParams(r, verify.EParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	k, err := s.Verifier.UpdateAPIKey(r.Context(), pr.Account, sid, p.str("FriendlyName"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, keyJSON(k))
}

// handleKeyDelete also drops the key from this node's login cache, so that
// it stops working here at once.
func (s *Server) handleKeyDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	sid, err := keyOf(r, pr)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.Verifier.DeleteAPIKey(r.Context(), pr.Account, sid); err != nil {
		s.error(w, r, err)
		return
	}
	s.logins.forget(string(sid))
	writeNoContent(w)
}

func (s *Server) handleKeyList(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := keysOwner(r, pr); err != nil {
		s.error(w, r, err)
		return
	}
	_, pg, err := readListParams(r, verify.EParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	items, more, err := s.Verifier.ListAPIKeys(r.Context(), pr.Account, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// The paging links are those of the Verify lists, made relative.
	base := pathAccounts + "/" + string(pr.Account) + "/Keys.json"
	meta := pageMeta("keys", base, nil, pg, items, more,
		func(k *verify.APIKey) verify.Cursor { return verify.Cursor{Time: k.DateCreated, Sid: k.Sid} })
	out := keyList{
		Keys:         make([]keyResponse, len(items)),
		FirstPageURI: meta.FirstPageURL, NextPageURI: meta.NextPageURL, PreviousPageURI: meta.PreviousPageURL,
		Page: meta.Page, PageSize: meta.PageSize, URI: meta.URL,
		Start: meta.Page * meta.PageSize,
	}
	for i, k := range items {
		out.Keys[i] = keyJSON(k)
	}
	out.End = out.Start + max(len(items)-1, 0)
	s.writeJSON(w, r, http.StatusOK, out)
}
