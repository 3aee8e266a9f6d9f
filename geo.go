package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/verifyd/verify/phone"
)

// GeoPermissions say which destination countries each phone channel may
// send codes to (verifications.md §6). Twilio sets them in its console and
// has no API for them; verifyd reads them from a file the operator writes
// (LoadGeoPermissions). Nil, or no rule that matches, allows everything.
type GeoPermissions struct {
	Rules []GeoRule `json:"rules"`
}

// GeoRule allows or blocks Countries on Channels, for every account, one
// account, or one service. Of the rules that match a send, the most
// specific decides: a service's over an account's over everyone's, and
// within one scope a rule naming the country over a "*" rule; between
// equals, the later rule in the file.
type GeoRule struct {
	Account    Sid      `json:"account,omitempty"`
	Service    Sid      `json:"service,omitempty"`
	Channels   []string `json:"channels,omitempty"` // default: sms, call, whatsapp
	Countries  []string `json:"countries"`          // ISO 3166-1 alpha-2, or "*"
	Permission string   `json:"permission"`         // "allow" or "block"
}

// Geo permission values.
const (
	GeoAllow = "allow"
	GeoBlock = "block"
)

// EGeoBlocked is Twilio's code for a destination geo permissions block.
const EGeoBlocked = 60605

// geoChannels are the channels whose destinations have a country.
var geoChannels = []string{ChannelSMS, ChannelCall, ChannelWhatsapp}

// LoadGeoPermissions reads and checks a geo permissions file (JSON, see
// GeoPermissions): unknown fields, SIDs of the wrong shape, countries the
// numbering plans do not know, channels without a country and
// permissions other than allow or block are errors, so that a typo never
// leaves a country open that the operator meant to close.
func LoadGeoPermissions(r io.Reader) (*GeoPermissions, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var g GeoPermissions
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("geo permissions: %w", err)
	}
	for i := range g.Rules {
		if err := g.Rules[i].check(); err != nil {
			return nil, fmt.Errorf("geo permissions: rule %d: %w", i+1, err)
		}
	}
	return &g, nil
}

func (r *GeoRule) check() error {
	if r.Account != "" && !r.Account.Valid(PrefixAccount) {
		return fmt.Errorf("account %q is not an AC SID", r.Account)
	}
	if r.Service != "" && !r.Service.Valid(PrefixService) {
		return fmt.Errorf("service %q is not a VA SID", r.Service)
	}
	if r.Permission != GeoAllow && r.Permission != GeoBlock {
		return fmt.Errorf("permission %q is neither allow nor block", r.Permission)
	}
	if len(r.Countries) == 0 {
		return fmt.Errorf("no countries (use [\"*\"] for all)")
	}
	for i, c := range r.Countries {
		if c == "*" {
			continue
		}
		cc, ok := phone.Country(c)
		if !ok {
			return fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code of a numbering plan", c)
		}
		r.Countries[i] = cc
	}
	if len(r.Channels) == 0 {
		r.Channels = slices.Clone(geoChannels)
	}
	for _, ch := range r.Channels {
		if !slices.Contains(geoChannels, ch) {
			return fmt.Errorf("channel %q has no destination country (sms, call, whatsapp)", ch)
		}
	}
	return nil
}

// Decide returns the permission for a send and the rule that gave it
// (nil when no rule matches, which allows).
func (g *GeoPermissions) Decide(account, service Sid, country, channel string) (string, *GeoRule) {
	if g == nil || country == "" || !slices.Contains(geoChannels, channel) {
		return GeoAllow, nil
	}
	best, bestScore := -1, -1
	for i := range g.Rules {
		r := &g.Rules[i]
		if r.Account != "" && r.Account != account || r.Service != "" && r.Service != service || !slices.Contains(r.Channels, channel) {
			continue
		}
		score := 0
		switch {
		case r.Service != "":
			score = 4
		case r.Account != "":
			score = 2
		}
		switch {
		case slices.Contains(r.Countries, strings.ToUpper(country)):
			score++
		case !slices.Contains(r.Countries, "*"):
			continue
		}
		if score >= bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return GeoAllow, nil
	}
	return g.Rules[best].Permission, &g.Rules[best]
}

// checkGeo refuses a send that geo permissions block, unless the number
// is on the account's Safe List or the request says RiskCheck=disable
// (verifications.md §6). The Safe List is read only for a send that would
// be blocked, so geo permissions cost a create nothing otherwise.
func (v *Verifier) checkGeo(ctx context.Context, account, service Sid, sp *sendPlan) error {
	perm, _ := v.Geo.Decide(account, service, sp.country, sp.channel)
	if perm == GeoAllow || sp.riskCheckOff {
		return nil
	}
	_, err := v.Store.FindSafeNumber(ctx, account, sp.to)
	switch {
	case err == nil:
		return nil
	case !IsCode(err, ENotFound):
		return err
	}
	return Errorf(EGeoBlocked, "Verification delivery attempt blocked: geo permissions do not allow %s to %s", sp.channel, sp.country)
}
