package verify

import "testing"

// TestOutboxTarget: a row's target never shows a webhook URL's query,
// fragment or user information, nor a push's device token.
func TestOutboxTarget(t *testing.T) {
	for _, c := range []struct {
		kind    OutboxKind
		payload string
		want    string
	}{
		{OutboxWebhook, `{"url":"https://user:pw@hooks.example.com:8443/v/in?token=s3cret#frag","account_sid":"AC1"}`, "https://hooks.example.com:8443/v/in"},
		{OutboxWebhook, `{"url":"http://127.0.0.1/"}`, "http://127.0.0.1/"},
		{OutboxWebhook, `not json`, "?"},
		{OutboxWebhook, `{"url":"http://a b/%zz"}`, "?"},
		{OutboxPush, `{"platform":"fcm","app_id":"com.example.app","token":"device-token"}`, "fcm com.example.app"},
		{OutboxPush, `{"platform":"apn","token":"device-token"}`, "apn"},
		{OutboxCode, `sealed`, ""},
	} {
		m := &OutboxMessage{Kind: c.kind, Payload: []byte(c.payload)}
		if got := m.Target(); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.kind, c.payload, got, c.want)
		}
	}
}
