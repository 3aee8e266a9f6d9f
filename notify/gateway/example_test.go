package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verifyd/verify/notify/gateway"
)

// receive is an operator's adapter: it checks X-Verifyd-Signature before
// reading anything, then hands the text to its SMS or voice provider.
func receive(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		sig := r.Header.Get("X-Verifyd-Signature")
		if err := gateway.Verify(secret, sig, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized) // 4xx: verifyd does not retry
			return
		}
		var req gateway.Request
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		// Send req.Text to req.To here; a retry has the same Idempotency-Key (req.AttemptSid).
		fmt.Printf("%s to %s: %s\n", req.Channel, req.To, req.Text)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"message_id":"SM0001","status":"queued"}`)
	}
}

func Example() {
	const secret = "a-secret-of-at-least-16-bytes"
	adapter := httptest.NewServer(receive(secret))
	defer adapter.Close()

	c, err := gateway.New(gateway.Config{URL: adapter.URL, Secret: secret, UserAgent: "verifyd/dev"})
	if err != nil {
		panic(err)
	}
	res, err := c.Send(context.Background(), gateway.Request{
		AttemptSid: "VL00000000000000000000000000000001", Channel: "sms", To: "+15558675310",
		Text: "Your Acme verification code is: 924617", TTLSeconds: 600,
		ExpiresAt: time.Now().Add(10 * time.Minute), CreatedAt: time.Now(),
	})
	fmt.Println(res.MessageID, res.Status, err)

	// Someone without the secret is refused, and verifyd would not retry.
	c, _ = gateway.New(gateway.Config{URL: adapter.URL, Secret: "not-the-right-secret"})
	_, err = c.Send(context.Background(), gateway.Request{AttemptSid: "VL2", Channel: "sms", To: "+15558675310"})
	fmt.Println(err)
	// Output:
	// sms to +15558675310: Your Acme verification code is: 924617
	// SM0001 queued <nil>
	// gateway answered HTTP 401
}
