package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Webhook is a Verify webhook (YW): where a service's events are posted.
type Webhook struct {
	Sid          Sid
	AccountSid   Sid
	ServiceSid   Sid
	FriendlyName string
	// EventTypes are the subscribed events, as given (deduplicated).
	EventTypes []string
	// URL is stored exactly as given: it is the signing input.
	URL         string
	Status      string // WebhookEnabled or WebhookDisabled
	Version     string // "v1" or "v2"
	DateCreated time.Time
	DateUpdated time.Time
}

// Webhook statuses.
const (
	WebhookEnabled  = "enabled"
	WebhookDisabled = "disabled"
)

// The events (docs/delivery.md §1.4). EventAll subscribes to Twilio's
// five. EventChallengeExpired is verifyd's own, sent by the sweep only to
// webhooks that list it: no Twilio receiver expects it.
const (
	EventAll               = "*"
	EventFactorCreated     = "factor.created"
	EventFactorVerified    = "factor.verified"
	EventFactorDeleted     = "factor.deleted"
	EventChallengeApproved = "challenge.approved"
	EventChallengeDenied   = "challenge.denied"
	EventChallengeExpired  = "challenge.expired"
)

var eventTypes = []string{EventAll, EventFactorCreated, EventFactorVerified, EventFactorDeleted,
	EventChallengeApproved, EventChallengeDenied, EventChallengeExpired}

// MaxWebhooksPerService bounds a service's webhooks, and so the rows one
// event writes in the transaction that causes it. Twilio publishes no
// limit.
const MaxWebhooksPerService = 20

// WebhookDeadline is how long the outbox keeps retrying a webhook: past
// the end of notify.DefaultSchedule (about 7.6 hours plus jitter).
const WebhookDeadline = 10 * time.Hour

// MaxWebhookFriendlyName bounds FriendlyName (as for other resources).
const MaxWebhookFriendlyName = 64

// Subscribes reports whether the webhook gets events of type typ.
func (w *Webhook) Subscribes(typ string) bool {
	if w.Status != WebhookEnabled {
		return false
	}
	for _, t := range w.EventTypes {
		if t == typ || (t == EventAll && typ != EventChallengeExpired) {
			return true
		}
	}
	return false
}

// WebhookParams are the parameters of create and update; nil means not
// given.
type WebhookParams struct {
	FriendlyName *string
	EventTypes   []string // nil: not given
	URL          *string
	Status       *string
	Version      *string
}

// apply checks p and sets what it gives on w.
func (v *Verifier) applyWebhook(w *Webhook, p WebhookParams) error {
	if p.FriendlyName != nil {
		if err := checkLen(EPushParam, "FriendlyName", *p.FriendlyName, MaxWebhookFriendlyName); err != nil {
			return err
		}
		if *p.FriendlyName == "" {
			return missing(EPushParam, "FriendlyName")
		}
		w.FriendlyName = *p.FriendlyName
	}
	if p.EventTypes != nil {
		var types []string
		for _, t := range p.EventTypes {
			if !slices.Contains(eventTypes, t) {
				return Errorf(EEventType, "Invalid parameter EventTypes: unknown event type %q", t)
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		if len(types) == 0 {
			return missing(EPushParam, "EventTypes")
		}
		w.EventTypes = types
	}
	if p.URL != nil {
		if err := checkWebhookURL(*p.URL, v.WebhookPublicOnly); err != nil {
			return err
		}
		w.URL = *p.URL
	}
	if p.Status != nil {
		if *p.Status != WebhookEnabled && *p.Status != WebhookDisabled {
			return Errorf(EPushParam, "Invalid parameter Status: must be enabled or disabled")
		}
		w.Status = *p.Status
	}
	if p.Version != nil {
		if *p.Version != "v1" && *p.Version != "v2" {
			return Errorf(EPushParam, "Invalid parameter Version: must be v1 or v2")
		}
		w.Version = *p.Version
	}
	return nil
}

func webhookNotFound(service, sid Sid) error {
	return notFound("/Services/" + string(service) + "/Webhooks/" + string(sid))
}

// CreateWebhook adds a webhook to the account's service. FriendlyName,
// EventTypes and WebhookUrl are required; Status defaults to enabled and
// Version to v2. Nothing is stored if any parameter is refused.
func (v *Verifier) CreateWebhook(ctx context.Context, account, service Sid, p WebhookParams) (*Webhook, error) {
	switch {
	case p.FriendlyName == nil:
		return nil, missing(EPushParam, "FriendlyName")
	case p.EventTypes == nil:
		return nil, missing(EPushParam, "EventTypes")
	case p.URL == nil:
		return nil, missing(EPushParam, "WebhookUrl")
	}
	w := &Webhook{AccountSid: account, ServiceSid: service, Status: WebhookEnabled, Version: "v2"}
	if err := v.applyWebhook(w, p); err != nil {
		return nil, err
	}
	sid, err := v.newSid(PrefixWebhook)
	if err != nil {
		return nil, err
	}
	w.Sid, w.DateCreated, w.DateUpdated = sid, v.now(), v.now()
	err = v.Store.Tx(ctx, func(st Store) error {
		if _, err := v.in(st).service(ctx, account, service); err != nil { // locks the service row
			return err
		}
		n, err := st.CountWebhooks(ctx, service)
		if err != nil {
			return err
		}
		if n >= MaxWebhooksPerService {
			return Errorf(EPushParam, "Maximum number of webhooks (%d) reached for this service", MaxWebhooksPerService)
		}
		return st.CreateWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// FetchWebhook returns the service's webhook.
func (v *Verifier) FetchWebhook(ctx context.Context, account, service, sid Sid) (*Webhook, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if !sid.Valid(PrefixWebhook) {
		return nil, webhookNotFound(service, sid)
	}
	return v.Store.FindWebhook(ctx, service, sid)
}

// UpdateWebhook changes the parameters given.
func (v *Verifier) UpdateWebhook(ctx context.Context, account, service, sid Sid, p WebhookParams) (*Webhook, error) {
	w, err := v.FetchWebhook(ctx, account, service, sid)
	if err != nil {
		return nil, err
	}
	if err := v.applyWebhook(w, p); err != nil {
		return nil, err
	}
	w.DateUpdated = v.now()
	if err := v.Store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook deletes the webhook; rows already in the outbox for it are
// still delivered (their payload holds the URL).
func (v *Verifier) DeleteWebhook(ctx context.Context, account, service, sid Sid) error {
	if _, err := v.service(ctx, account, service); err != nil {
		return err
	}
	if !sid.Valid(PrefixWebhook) {
		return webhookNotFound(service, sid)
	}
	return v.Store.DeleteWebhook(ctx, service, sid)
}

// ListWebhooks pages through the service's webhooks.
func (v *Verifier) ListWebhooks(ctx context.Context, account, service Sid, p Page) ([]*Webhook, bool, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, false, err
	}
	return v.Store.ListWebhooks(ctx, service, p)
}

// emit writes one webhook outbox row per enabled webhook of f's service
// that subscribes to typ, through st, the store of the transaction that
// makes the change: the rows commit or roll back with it. c is nil for
// factor events. The parameters are those of docs/delivery.md §2.2; v1
// webhooks get them without the JSON metadata and status fields.
func (v *Verifier) emit(ctx context.Context, st Store, typ string, f *Factor, c *Challenge) error {
	v.observe(typ, f)
	hooks, err := subscribers(ctx, st, f.ServiceSid, typ)
	if err != nil || len(hooks) == 0 {
		return err
	}
	return v.emitTo(ctx, st, hooks, typ, f, c)
}

// subscribers returns the webhooks of service that subscribe to typ,
// read through st, the transaction that emits. On SQLite the cache
// answers that read from memory (cache/webhook.go), so an approval costs
// the single writer no read for it; on a shared database it is read in
// the transaction, since another node's new webhook must get the next
// event. (Reading outside the transaction instead would take a second
// pool connection while the transaction holds one: with every connection
// held by such transactions, none could go on.)
func subscribers(ctx context.Context, st Store, service Sid, typ string) ([]*Webhook, error) {
	hooks, _, err := st.ListWebhooks(ctx, service, Page{Size: MaxWebhooksPerService})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hooks, func(h *Webhook) bool { return !h.Subscribes(typ) }), nil
}

// emitExpired emits challenge.expired for challenges the sweep just
// expired, in its transaction, to the webhooks that list that event (it
// is verifyd's own; * does not include it). A service's webhooks are read
// once per batch, and a factor only when some webhook wants the event.
func (v *Verifier) emitExpired(ctx context.Context, st Store, expired []*Challenge) error {
	hooksOf := map[Sid][]*Webhook{}
	for _, c := range expired {
		if v.Observe != nil {
			v.Observe(EventChallengeExpired, string(c.FactorType))
		}
		hooks, ok := hooksOf[c.ServiceSid]
		if !ok {
			var err error
			if hooks, _, err = st.ListWebhooks(ctx, c.ServiceSid, Page{Size: MaxWebhooksPerService}); err != nil {
				return err
			}
			hooksOf[c.ServiceSid] = hooks
		}
		if !slices.ContainsFunc(hooks, func(h *Webhook) bool { return h.Subscribes(EventChallengeExpired) }) {
			continue
		}
		f, err := st.FindFactor(ctx, c.EntitySid, c.FactorSid)
		if err != nil {
			return err
		}
		if err := v.emitTo(ctx, st, hooks, EventChallengeExpired, f, c); err != nil {
			return err
		}
	}
	return nil
}

// emitTo enqueues the event for those of hooks that subscribe to typ.
func (v *Verifier) emitTo(ctx context.Context, st Store, hooks []*Webhook, typ string, f *Factor, c *Challenge) error {
	now := v.Now().UTC()
	for _, h := range hooks {
		if !h.Subscribes(typ) {
			continue
		}
		params := map[string]string{
			"type": typ, "account_sid": string(f.AccountSid), "service_sid": string(f.ServiceSid),
			"entity_identity": f.Identity, "factor_sid": string(f.Sid), "factor_type": string(f.Type),
			"factor_friendly_name": f.FriendlyName,
		}
		v2 := h.Version != "v1"
		if v2 && f.Metadata != nil {
			params["factor_metadata"] = jsonString(f.Metadata)
		}
		if c != nil {
			params["challenge_sid"] = string(c.Sid)
			params["challenge_details"] = jsonString(detailsJSON(c.Details))
			if len(c.HiddenDetails) > 0 {
				params["challenge_hidden_details"] = jsonString(c.HiddenDetails)
			}
			if v2 {
				params["challenge_status"] = string(c.Status)
				params["challenge_responded_reason"] = nonEmpty(c.RespondedReason, ReasonNone)
				if c.Metadata != nil {
					params["challenge_metadata"] = jsonString(c.Metadata)
				}
			}
		}
		id, err := newUUID(now, v.Rand)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(WebhookPayload{URL: h.URL, Account: h.AccountSid, Params: params})
		if err != nil {
			return err
		}
		if err := st.EnqueueOutbox(ctx, &OutboxMessage{ID: id, Kind: OutboxWebhook, Account: h.AccountSid, Ref: string(h.Sid), Payload: payload,
			NextAttempt: now, Deadline: now.Add(WebhookDeadline), DateCreated: now}); err != nil {
			return err
		}
	}
	return nil
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// detailsJSON is a challenge's details as the API shows them.
func detailsJSON(d ChallengeDetails) any {
	type field struct {
		Label string `json:"label"`
		Value string `json:"value"`
	}
	out := struct {
		Message string  `json:"message"`
		Date    *string `json:"date,omitempty"`
		Fields  []field `json:"fields"`
	}{Message: d.Message, Fields: []field{}}
	for _, f := range d.Fields {
		out.Fields = append(out.Fields, field{f.Label, f.Value})
	}
	if d.Date != nil {
		s := d.Date.UTC().Format("2006-01-02T15:04:05Z")
		out.Date = &s
	}
	return out
}

func jsonString(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// newUUID returns a webhook's uuid: a version 7 UUID (RFC 9562), whose
// first 48 bits are the Unix time in milliseconds and the other 74 random.
// It is also the outbox row's primary key, and time order is what keeps
// that key's index cheap: a random (version 4) key put every new row on a
// random page of the index, and each such page went to the WAL and its
// fsync in full, which on SQLite cost more than the event row itself.
// Receivers treat the uuid as opaque, and 74 random bits per millisecond
// keep it unique.
func newUUID(now time.Time, r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		return "", fmt.Errorf("verify: uuid: %w", err)
	}
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b)
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-"), nil
}

// observe tells Observe of an event as it is made, inside the
// transaction of the change: a commit that then fails, which is rare,
// leaves it counted.
func (v *Verifier) observe(typ string, f *Factor) {
	if v.Observe != nil {
		v.Observe(typ, string(f.Type))
	}
}
