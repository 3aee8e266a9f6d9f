package verify

import (
	"encoding/json"
	"errors"
	"net/mail"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/verifyd/verify/message"
	"github.com/verifyd/verify/phone"
)

// sendPlan is a create verification request checked against the service
// and the channels this server can send on: everything the send needs
// except the code.
type sendPlan struct {
	channel string
	to      string
	country string
	key     string
	locale  string
	// landline: the numbering plan says the number is a fixed line.
	landline bool

	friendlyName  string
	customCode    string
	amount, payee *string
	appHash       string
	sendDigits    string
	template      *message.Template
	substitutions map[string]string
	tags          map[string]string
	email         *CodeEmail
	emailSubs     map[string]string
	// messagingService is the MessagingConfiguration of an SMS's country.
	messagingService Sid
	// rateLimits are the RateLimits values, by rate limit UniqueName.
	rateLimits map[string]string
	// riskCheckOff is RiskCheck=disable: geo permissions do not apply.
	riskCheckOff bool
}

// invalid is Twilio's 60200 for a parameter, worded as its error page.
func invalid(name string) error { return Errorf(EInvalidParam, "Invalid parameter: %s", name) }

// planSend checks p in the order of verifications.md §2.2, so that the
// same bad request always gets the same code: parameter syntax, then the
// service's feature flags, then the channel's configuration, then the
// destination. Nothing is stored before it passes.
func (v *Verifier) planSend(svc *Service, p VerificationParams) (*sendPlan, error) {
	if p.To == nil || *p.To == "" {
		return nil, missing(EInvalidParam, "To")
	}
	if p.Channel == nil || *p.Channel == "" {
		return nil, missing(EInvalidParam, "Channel")
	}
	sp := &sendPlan{channel: *p.Channel, friendlyName: svc.FriendlyName}
	switch sp.channel {
	case ChannelSMS, ChannelCall, ChannelWhatsapp, ChannelEmail:
	default:
		// sna and auto included: there is no carrier to ask here.
		return nil, Errorf(EUnsupportedChan, "Unsupported channel: %q is not a channel this server can send on", truncate(sp.channel, 32))
	}
	if err := sp.destination(*p.To); err != nil {
		return nil, err
	}
	if err := sp.options(p); err != nil {
		return nil, err
	}
	if err := sp.features(svc); err != nil {
		return nil, err
	}
	if !v.CodeChannels[sp.channel] {
		return nil, Errorf(EUnsupportedChan, "Unsupported channel: no sender for the %s channel is configured on this server", sp.channel)
	}
	locale := ""
	if p.Locale != nil {
		locale = *p.Locale
	}
	loc, err := message.ResolveLocale(locale, sp.country)
	if err != nil {
		return nil, Errorf(ENotFound, "Locale %q is not supported", truncate(locale, 16))
	}
	sp.locale = loc
	return sp, nil
}

// destination normalises To for the channel and derives the lifecycle key.
func (sp *sendPlan) destination(to string) error {
	if sp.channel == ChannelEmail {
		addr, err := phone.Email(to)
		if err == nil {
			sp.to, sp.key = addr, addr
			return nil
		}
		if _, perr := phone.Parse(to); perr == nil {
			return Errorf(EToChannel, "Invalid parameter To: a phone number cannot receive the email channel")
		}
		return invalid("To")
	}
	n, err := phone.Parse(to)
	if err != nil {
		if _, eerr := phone.Email(to); eerr == nil {
			return Errorf(EToChannel, "Invalid parameter To: an email address cannot receive the %s channel", sp.channel)
		}
		return invalid("To")
	}
	sp.to, sp.key, sp.country = n.E164, n.E164, n.Country
	sp.landline = n.Type == "landline"
	return nil
}

// options checks the syntax of the optional parameters.
func (sp *sendPlan) options(p VerificationParams) error {
	if p.CustomFriendlyName != nil {
		if *p.CustomFriendlyName == "" || utf8.RuneCountInString(*p.CustomFriendlyName) > MaxCustomFriendlyName || !ValidText(*p.CustomFriendlyName, false) {
			return invalid("CustomFriendlyName")
		}
		sp.friendlyName = *p.CustomFriendlyName
	}
	if p.SendDigits != nil && sp.channel == ChannelCall {
		d := *p.SendDigits
		if len(d) > MaxSendDigits || strings.Trim(d, "0123456789*#w") != "" {
			return invalid("SendDigits")
		}
		sp.sendDigits = d
	}
	if p.CustomCode != nil {
		c := *p.CustomCode
		if n := utf8.RuneCountInString(c); n < MinCodeLength || n > MaxCodeLength || !ValidText(c, false) || strings.TrimSpace(c) != c {
			return invalid("CustomCode")
		}
		sp.customCode = c
	}
	for _, f := range []struct {
		name string
		val  *string
		dst  **string
	}{{"Amount", p.Amount, &sp.amount}, {"Payee", p.Payee, &sp.payee}} {
		if f.val == nil {
			continue
		}
		if *f.val == "" || utf8.RuneCountInString(*f.val) > MaxPsd2Field || !ValidText(*f.val, false) {
			return invalid(f.name)
		}
		*f.dst = f.val
	}
	if p.AppHash != nil && *p.AppHash != "" {
		if sp.channel != ChannelSMS {
			return Errorf(EAppHash, "AppHash is only allowed with the sms channel")
		}
		h := *p.AppHash
		if len(h) > MaxAppHash || strings.Trim(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != "" {
			return invalid("AppHash")
		}
		sp.appHash = h
	}
	if p.TemplateSid != nil && *p.TemplateSid != "" {
		if !Sid(*p.TemplateSid).Valid("HJ") {
			return invalid("TemplateSid")
		}
		if sp.channel == ChannelEmail || sp.channel == ChannelWhatsapp {
			return Errorf(ETemplateChannel, "TemplateSid is only allowed with the sms and call channels")
		}
		t, ok := message.Find(*p.TemplateSid)
		if !ok {
			return Errorf(ETemplateMissing, "Template %s was not found", *p.TemplateSid)
		}
		sp.template = &t
	}
	if p.TemplateCustomSubstitutions != nil {
		m, err := ParseStringMap(*p.TemplateCustomSubstitutions)
		if err != nil || len(*p.TemplateCustomSubstitutions) > 4096 {
			return Errorf(ESubstitution, "Invalid parameter TemplateCustomSubstitutions: must be a JSON object of string values")
		}
		sp.substitutions = m
	}
	if p.Tags != nil {
		m, err := ParseStringMap(*p.Tags)
		if err != nil || len(m) > MaxVerificationTags {
			return invalid("Tags")
		}
		for k, val := range m {
			if k == "" || utf8.RuneCountInString(k) > MaxTagLength || utf8.RuneCountInString(val) > MaxTagLength {
				return invalid("Tags")
			}
		}
		sp.tags = m
	}
	if p.DeviceIP != nil && *p.DeviceIP != "" {
		if _, err := netip.ParseAddr(*p.DeviceIP); err != nil {
			return invalid("DeviceIp")
		}
	}
	if p.RiskCheck != nil && *p.RiskCheck != "enable" && *p.RiskCheck != "disable" {
		return invalid("RiskCheck")
	}
	sp.riskCheckOff = p.RiskCheck != nil && *p.RiskCheck == "disable"
	if p.RateLimits != nil && *p.RateLimits != "" {
		m, err := parseRateLimits(*p.RateLimits)
		if err != nil {
			return err
		}
		sp.rateLimits = m
	}
	if p.ChannelConfiguration != nil && *p.ChannelConfiguration != "" && sp.channel == ChannelEmail {
		if err := sp.emailConfig(*p.ChannelConfiguration); err != nil {
			return err
		}
	}
	return nil
}

// emailConfig reads ChannelConfiguration for the email channel: from,
// from_name, template_id and a substitutions object.
func (sp *sendPlan) emailConfig(raw string) error {
	var c struct {
		From          *string        `json:"from"`
		FromName      *string        `json:"from_name"`
		TemplateID    *string        `json:"template_id"`
		Substitutions map[string]any `json:"substitutions"`
	}
	if len(raw) > 4096 {
		return invalid("ChannelConfiguration")
	}
	if err := decodeJSON(raw, &c); err != nil {
		// twilio-go encodes a map parameter as a JSON string of JSON.
		var s string
		if json.Unmarshal([]byte(raw), &s) != nil || decodeJSON(s, &c) != nil {
			return invalid("ChannelConfiguration")
		}
	}
	e := &CodeEmail{}
	if c.From != nil {
		a, err := mail.ParseAddress(*c.From)
		if err != nil || a.Name != "" {
			return invalid("ChannelConfiguration.from")
		}
		e.From = a.Address
	}
	if c.FromName != nil {
		if !ValidText(*c.FromName, false) || utf8.RuneCountInString(*c.FromName) > 64 {
			return invalid("ChannelConfiguration.from_name")
		}
		e.FromName = *c.FromName
	}
	if c.TemplateID != nil {
		if !ValidText(*c.TemplateID, false) || len(*c.TemplateID) > 64 {
			return invalid("ChannelConfiguration.template_id")
		}
		e.TemplateID = *c.TemplateID
	}
	if len(c.Substitutions) > 0 {
		sp.emailSubs = map[string]string{}
		for k, val := range c.Substitutions {
			s, ok := val.(string)
			if !ok {
				b, _ := json.Marshal(val)
				s = string(b)
			}
			if !ValidText(k, false) || !ValidText(s, true) {
				return invalid("ChannelConfiguration.substitutions")
			}
			sp.emailSubs[k] = s
		}
	}
	sp.email = e
	return nil
}

// features applies the service's flags: custom code, PSD2, landlines.
func (sp *sendPlan) features(svc *Service) error {
	if sp.customCode != "" && !svc.CustomCodeEnabled {
		return Errorf(EFeature, "The service does not allow custom codes (CustomCodeEnabled is false)")
	}
	if svc.Psd2Enabled {
		if sp.amount == nil || sp.payee == nil {
			return Errorf(EPsd2Missing, "A PSD2 service requires Amount and Payee")
		}
		if sp.channel == ChannelCall {
			return Errorf(ECallPsd2, "The call channel is not supported with PSD2")
		}
		sp.key = sp.to + "\n" + *sp.amount + "\n" + *sp.payee
	} else if sp.amount != nil || sp.payee != nil {
		return Errorf(EFeature, "Amount and Payee need a PSD2 service (Psd2Enabled is false)")
	}
	if sp.channel == ChannelSMS && svc.SkipSmsToLandlines && sp.landline {
		return Errorf(ELandline, "The number is a landline, and the service skips SMS to landlines")
	}
	return nil
}

// truncate cuts s to at most n bytes at a rune boundary, for messages that
// quote input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// errMessage maps an error of the message package to Twilio's code.
func errMessage(err error) error {
	switch {
	case errors.Is(err, message.ErrMissingSubstitution):
		return Errorf(ESubstitution, "Template substitutions are missing a variable: %v", err)
	case errors.Is(err, message.ErrTooLong):
		return Errorf(EMessageLength, "The message is longer than 500 characters")
	default:
		return err
	}
}
