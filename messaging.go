package verify

import (
	"context"
	"strings"
	"time"

	"github.com/verifyd/verify/phone"
)

// MessagingConfiguration maps a destination country of a service's SMS to
// a Messaging Service SID (verifications.md §7). MG SIDs mean nothing to
// verifyd: the SID travels to the SMS gateway as messaging_service_sid, so
// that the operator's adapter can pick a sender pool per country.
type MessagingConfiguration struct {
	AccountSid Sid
	ServiceSid Sid
	// Country is an ISO 3166-1 alpha-2 code, upper case, or CountryAll.
	Country             string
	MessagingServiceSid Sid
	DateCreated         time.Time
	DateUpdated         time.Time
}

// CountryAll is the Country of the configuration used for every country
// that has none of its own.
const CountryAll = "all"

// messagingCountry returns the configuration key s names: CountryAll, or
// a country code in upper case.
func messagingCountry(s string) (string, bool) {
	if strings.EqualFold(s, CountryAll) {
		return CountryAll, true
	}
	return phone.Country(s)
}

// validMG reports whether s has the shape of a Messaging Service SID, the
// only check Twilio's contract allows verifyd to make.
func validMG(s string) bool { return Sid(s).Valid("MG") }

func messagingNotFound(service Sid, country string) error {
	return notFound("/Services/" + string(service) + "/MessagingConfigurations/" + country)
}

func messagingSid(p *string) (Sid, error) {
	if p == nil || *p == "" {
		return "", missing(EInvalidParam, "MessagingServiceSid")
	}
	if !validMG(*p) {
		return "", invalid("MessagingServiceSid")
	}
	return Sid(*p), nil
}

// CreateMessagingConfiguration adds the configuration of one country (or
// of all) to the account's service; a second one for the same country is
// EMessagingExists (60213).
func (v *Verifier) CreateMessagingConfiguration(ctx context.Context, account, service Sid, country, mg *string) (*MessagingConfiguration, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if country == nil || *country == "" {
		return nil, missing(EInvalidParam, "Country")
	}
	c, ok := messagingCountry(*country)
	if !ok {
		return nil, invalid("Country")
	}
	sid, err := messagingSid(mg)
	if err != nil {
		return nil, err
	}
	now := v.now()
	m := &MessagingConfiguration{AccountSid: account, ServiceSid: service, Country: c, MessagingServiceSid: sid,
		DateCreated: now, DateUpdated: now}
	if err := v.Store.CreateMessagingConfiguration(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// FetchMessagingConfiguration returns the configuration of a country.
func (v *Verifier) FetchMessagingConfiguration(ctx context.Context, account, service Sid, country string) (*MessagingConfiguration, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	c, ok := messagingCountry(country)
	if !ok {
		return nil, messagingNotFound(service, country)
	}
	return v.Store.FindMessagingConfiguration(ctx, service, c)
}

// UpdateMessagingConfiguration changes a country's Messaging Service SID,
// the one field Twilio lets change.
func (v *Verifier) UpdateMessagingConfiguration(ctx context.Context, account, service Sid, country string, mg *string) (*MessagingConfiguration, error) {
	m, err := v.FetchMessagingConfiguration(ctx, account, service, country)
	if err != nil {
		return nil, err
	}
	if m.MessagingServiceSid, err = messagingSid(mg); err != nil {
		return nil, err
	}
	m.DateUpdated = v.now()
	if err := v.Store.UpdateMessagingConfiguration(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMessagingConfiguration removes a country's configuration.
func (v *Verifier) DeleteMessagingConfiguration(ctx context.Context, account, service Sid, country string) error {
	if _, err := v.service(ctx, account, service); err != nil {
		return err
	}
	c, ok := messagingCountry(country)
	if !ok {
		return messagingNotFound(service, country)
	}
	return v.Store.DeleteMessagingConfiguration(ctx, service, c)
}

// ListMessagingConfigurations pages through the service's configurations
// in the order they were created; the cursor's Sid is the country.
func (v *Verifier) ListMessagingConfigurations(ctx context.Context, account, service Sid, p Page) ([]*MessagingConfiguration, bool, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, false, err
	}
	return v.Store.ListMessagingConfigurations(ctx, service, p)
}
