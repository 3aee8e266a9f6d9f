package fcm_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/verifyd/verify/notify/fcm"
)

// The delivery worker keeps one Client per FCM credential and acts on the
// outcome of each send.
func ExampleClient_Send() {
	key, err := os.ReadFile("service-account.json")
	if err != nil {
		return
	}
	c, err := fcm.New(fcm.Config{ServiceAccount: key, BaseURL: os.Getenv("VERIFYD_FCM_URL")})
	if err != nil {
		slog.Error("fcm credential", "err", err)
		return
	}
	name, err := c.Send(context.Background(), fcm.Message{
		Token:        "registration token from the factor's config",
		ChallengeSid: "YC0123456789abcdef0123456789abcdef",
		FactorSid:    "YF0123456789abcdef0123456789abcdef",
		Message:      "Login request",
		Expiration:   time.Now().Add(5 * time.Minute),
	})
	switch fcm.OutcomeOf(err) {
	case fcm.Delivered:
		slog.Info("push delivered", "message", name)
	case fcm.Retry:
		var e *fcm.Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			slog.Info("push deferred", "after", e.RetryAfter)
		}
	case fcm.TokenDead:
		slog.Info("push token dead; wait for the device to update it")
	case fcm.Permanent:
		slog.Error("push failed", "err", err)
	}
}
