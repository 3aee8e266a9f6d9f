package verify

// WebhookPayload is the payload of a webhook outbox row: everything the
// request needs, frozen when the event's transaction commits (the factor
// may be deleted right after its event). Params are the form parameters of
// docs/delivery.md §2.2 except sent_at, which each attempt sets; uuid is
// the row's ID and stays the same across retries. No token is stored: the
// sender signs with the account's primary token as it is at send time.
type WebhookPayload struct {
	URL     string            `json:"url"`
	Account Sid               `json:"account_sid"`
	Params  map[string]string `json:"params"`
}
