package api

import (
	"net/http"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/message"
)

// pathTemplates is the account-level Templates list (no service in the
// path).
const pathTemplates = "/v2/Templates"

type translationJSON struct {
	IsDefaultTranslation bool   `json:"is_default_translation"`
	Status               string `json:"status"`
	Locale               string `json:"locale"`
	Text                 string `json:"text"`
	DateCreated          date   `json:"date_created"`
	DateUpdated          date   `json:"date_updated"`
}

// templateResponse is verify.v2.verification_template: translations is an
// object keyed by locale, as in Twilio's docs.
type templateResponse struct {
	Sid          string                     `json:"sid"`
	AccountSid   verify.Sid                 `json:"account_sid"`
	FriendlyName string                     `json:"friendly_name"`
	Channels     []string                   `json:"channels"`
	Translations map[string]translationJSON `json:"translations"`
}

func (s *Server) handleTemplateList(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := ""
	var filters []filter
	if n := p.str("FriendlyName"); n != nil {
		name = *n
		filters = append(filters, filter{"FriendlyName", name})
	}
	items, more, err := s.Verifier.ListTemplates(r.Context(), pr.Account, name, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	released := dateOf(verify.TemplatesReleased)
	writeList(s, w, r, "templates", s.BaseURL+pathTemplates, filters, pg, items, more,
		func(t message.Template) verify.Cursor {
			return verify.Cursor{Time: verify.TemplatesReleased, Sid: verify.Sid(t.Sid)}
		},
		func(t message.Template) any {
			out := templateResponse{Sid: t.Sid, AccountSid: pr.Account, FriendlyName: t.FriendlyName, Channels: t.Channels,
				Translations: make(map[string]translationJSON, len(t.Translations))}
			for loc, tr := range t.Translations {
				out.Translations[loc] = translationJSON{IsDefaultTranslation: tr.IsDefault, Status: tr.Status,
					Locale: loc, Text: tr.Text, DateCreated: released, DateUpdated: released}
			}
			return out
		})
}
