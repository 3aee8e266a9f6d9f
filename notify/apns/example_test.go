package apns_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/verifyd/verify/notify/apns"
)

// The delivery worker keeps one Client per credential and acts on the
// Kind of each failure.
func Example() {
	p8, err := os.ReadFile("AuthKey_ABC123DEFG.p8")
	if err != nil {
		log.Print(err)
		return
	}
	key, err := apns.ParseP8(p8)
	if err != nil {
		log.Print(err)
		return
	}
	c, err := apns.New(apns.Config{Sandbox: true, SigningKey: key, KeyID: "ABC123DEFG", TeamID: "DEF123GHIJ"})
	if err != nil {
		log.Print(err)
		return
	}
	defer c.Close()

	_, err = c.Send(context.Background(), apns.Notification{
		DeviceToken:  "8e0b1f0c9f3a4d6e7b2c5a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
		Topic:        "com.example.verifydemo",
		ChallengeSid: "YC0123456789abcdef0123456789abcdef",
		FactorSid:    "YF0123456789abcdef0123456789abcdef",
		Message:      "Login request",
		TTL:          apns.MaxTTL,
		Expiration:   time.Now().Add(5 * time.Minute),
	})
	var e *apns.Error
	switch {
	case err == nil:
		// delivered
	case errors.As(err, &e) && e.Kind == apns.TokenDead:
		// stop pushing to this token until the device sends a new one
	case errors.As(err, &e) && e.Kind == apns.Retry:
		// schedule another attempt after max(backoff, e.RetryAfter)
	default:
		// permanent: record e.Reason and alert the operator
	}
}
