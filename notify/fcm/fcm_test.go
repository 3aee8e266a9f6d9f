package fcm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// regToken looks like an FCM registration token; it must never appear in
// an error.
const regToken = "fGx3kE1vQ0m:APA91bH-registration-token-for-tests-only_0123456789"

func testMessage(now time.Time) Message {
	return Message{
		Token:        regToken,
		ChallengeSid: "YC0123456789abcdef0123456789abcdef",
		FactorSid:    "YF0123456789abcdef0123456789abcdef",
		Message:      "Login request from \"Chrome\" — approve?",
		Expiration:   now.Add(10 * time.Minute),
	}
}

func TestSendBody(t *testing.T) {
	f := newFake(t)
	c := f.client()
	name, err := c.Send(context.Background(), testMessage(f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if want := "projects/verifyd-test/messages/1"; name != want {
		t.Errorf("name = %q, want %q", name, want)
	}
	want := `{"message":{"token":"` + regToken + `",` +
		`"data":{"type":"verify_push_challenge","challenge_sid":"YC0123456789abcdef0123456789abcdef",` +
		`"factor_sid":"YF0123456789abcdef0123456789abcdef","message":"Login request from \"Chrome\" — approve?"},` +
		`"android":{"priority":"HIGH","ttl":"300s","collapse_key":"YC0123456789abcdef0123456789abcdef"}}}`
	if len(f.bodies) != 1 || f.bodies[0] != want {
		t.Errorf("body\n got %v\nwant %s", f.bodies, want)
	}
	if strings.Contains(f.bodies[0], `"notification"`) {
		t.Error("message has a notification block; it must be data-only")
	}
	if c.ProjectID() != testProject {
		t.Errorf("ProjectID() = %q", c.ProjectID())
	}
}

func TestTTL(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		exp  time.Time
		want string
	}{
		{"no expiration", time.Time{}, "300s"},
		{"far", now.Add(time.Hour), "300s"},
		{"exactly 300", now.Add(300 * time.Second), "300s"},
		{"rounds down", now.Add(120*time.Second + 900*time.Millisecond), "120s"},
		{"under a second", now.Add(500 * time.Millisecond), "0s"},
		{"expired", now.Add(-time.Minute), "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage(now)
			m.Expiration = tt.exp
			w, err := m.wire(now)
			if err != nil {
				t.Fatal(err)
			}
			if w.Message.Android.TTL != tt.want {
				t.Errorf("ttl = %q, want %q", w.Message.Android.TTL, tt.want)
			}
		})
	}
}

func TestLongMessageTruncated(t *testing.T) {
	now := time.Now()
	m := testMessage(now)
	m.Message = strings.Repeat("é", 3000) // 6000 bytes
	w, err := m.wire(now)
	if err != nil {
		t.Fatal(err)
	}
	d := w.Message.Data
	if n := dataSize(d); n > maxData || n < maxData-1 {
		t.Errorf("data size %d, want %d or one less (a split rune)", n, maxData)
	}
	if !strings.HasPrefix(m.Message, d.Message) || len(d.Message)%2 != 0 {
		t.Errorf("message cut inside a rune: %d bytes", len(d.Message))
	}
}

func TestMissingFieldsPermanent(t *testing.T) {
	f := newFake(t)
	c := f.client()
	m := testMessage(f.clock.Now())
	m.Token = ""
	_, err := c.Send(context.Background(), m)
	if OutcomeOf(err) != Permanent || !errors.Is(err, errMissing) {
		t.Errorf("err = %v, want Permanent errMissing", err)
	}
	if tc, sc, _ := f.counts(); tc+sc != 0 {
		t.Errorf("%d token and %d send requests for an invalid message", tc, sc)
	}
}

func TestTokenCachedAndRefreshed(t *testing.T) {
	f := newFake(t)
	c := f.client()
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.Send(ctx, testMessage(f.clock.Now())); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		f.clock.Add(10 * time.Minute)
	}
	if tc, _, _ := f.counts(); tc != 1 {
		t.Fatalf("%d token fetches for 3 sends within 30 minutes, want 1", tc)
	}
	// At 58 minutes the token (3599 s) still has more than a minute left.
	f.clock.Add(28 * time.Minute)
	if _, err := c.Send(ctx, testMessage(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if tc, _, _ := f.counts(); tc != 1 {
		t.Fatalf("%d token fetches at 58 minutes, want 1", tc)
	}
	// At 59 minutes it is within a minute of expiry and must be replaced
	// before it is used.
	f.clock.Add(time.Minute)
	if _, err := c.Send(ctx, testMessage(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if tc, sc, refused := f.counts(); tc != 2 || sc != 5 || refused != 0 {
		t.Errorf("token fetches %d, sends %d, refused %d; want 2, 5, 0", tc, sc, refused)
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Run("recovers", func(t *testing.T) {
		f := newFake(t)
		c := f.client()
		if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		f.revoke()
		name, err := c.Send(context.Background(), testMessage(f.clock.Now()))
		if err != nil || name == "" {
			t.Fatalf("Send after revocation = %q, %v; want a new token and delivery", name, err)
		}
		if tc, sc, refused := f.counts(); tc != 2 || sc != 2 || refused != 1 {
			t.Errorf("token fetches %d, sends %d, refused %d; want 2, 2, 1", tc, sc, refused)
		}
	})
	t.Run("second 401 is permanent", func(t *testing.T) {
		f := newFake(t)
		f.reply = func(_ int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}}`))
		}
		_, err := f.client().Send(context.Background(), testMessage(f.clock.Now()))
		e, ok := errors.AsType[*Error](err)
		if !ok || e.Outcome != Permanent || e.HTTPStatus != 401 || e.Status != "UNAUTHENTICATED" {
			t.Fatalf("err = %v, want Permanent 401 UNAUTHENTICATED", err)
		}
		if tc, sc, _ := f.counts(); tc != 2 || sc != 2 {
			t.Errorf("token fetches %d, sends %d; want exactly one refresh and one retry", tc, sc)
		}
	})
	t.Run("THIRD_PARTY_AUTH_ERROR is not retried", func(t *testing.T) {
		f := newFake(t)
		f.reply = func(_ int, w http.ResponseWriter) {
			fcmError(w, 401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")
		}
		_, err := f.client().Send(context.Background(), testMessage(f.clock.Now()))
		if OutcomeOf(err) != Permanent {
			t.Errorf("err = %v, want Permanent", err)
		}
		if tc, sc, _ := f.counts(); tc != 1 || sc != 1 {
			t.Errorf("token fetches %d, sends %d; want 1, 1", tc, sc)
		}
	})
}

func TestErrorClassification(t *testing.T) {
	const tokenViolation = `{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}`
	const ttlViolation = `{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.android.ttl","description":"bad"}]}`
	tests := []struct {
		name       string
		reply      func(w http.ResponseWriter)
		want       Outcome
		code       string
		retryAfter time.Duration
	}{
		{"UNREGISTERED", func(w http.ResponseWriter) { fcmError(w, 404, "NOT_FOUND", "UNREGISTERED") }, TokenDead, "UNREGISTERED", 0},
		{"INVALID_ARGUMENT token", func(w http.ResponseWriter) { fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", tokenViolation) }, TokenDead, "INVALID_ARGUMENT", 0},
		{"INVALID_ARGUMENT other field", func(w http.ResponseWriter) { fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", ttlViolation) }, Permanent, "INVALID_ARGUMENT", 0},
		{"SENDER_ID_MISMATCH", func(w http.ResponseWriter) { fcmError(w, 403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH") }, Permanent, "SENDER_ID_MISMATCH", 0},
		{"UNAVAILABLE Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "30")
			fcmError(w, 503, "UNAVAILABLE", "UNAVAILABLE")
		}, Retry, "UNAVAILABLE", 30 * time.Second},
		{"QUOTA_EXCEEDED Retry-After date", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", newClock().Now().Add(90*time.Second).Format(http.TimeFormat))
			fcmError(w, 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
		}, Retry, "QUOTA_EXCEEDED", 90 * time.Second},
		{"INTERNAL", func(w http.ResponseWriter) { fcmError(w, 500, "INTERNAL", "INTERNAL") }, Retry, "INTERNAL", 0},
		{"UNSPECIFIED_ERROR 503", func(w http.ResponseWriter) { fcmError(w, 503, "UNAVAILABLE", "UNSPECIFIED_ERROR") }, Retry, "UNSPECIFIED_ERROR", 0},
		{"502 from a proxy", func(w http.ResponseWriter) { w.WriteHeader(502); w.Write([]byte("<html>Bad Gateway</html>")) }, Retry, "", 0},
		{"429 without detail", func(w http.ResponseWriter) { w.WriteHeader(429) }, Retry, "", 0},
		{"403 PERMISSION_DENIED", func(w http.ResponseWriter) {
			w.WriteHeader(403)
			w.Write([]byte(`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`))
		}, Permanent, "", 0},
		{"404 without detail", func(w http.ResponseWriter) { w.WriteHeader(404) }, Permanent, "", 0},
		{"message echoes the token", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"code":400,"message":"bad token ` + regToken + `","status":"INVALID_ARGUMENT"}}`))
		}, Permanent, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.reply = func(_ int, w http.ResponseWriter) { tt.reply(w) }
			name, err := f.client().Send(context.Background(), testMessage(f.clock.Now()))
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Send = %q, %v; want an *Error", name, err)
			}
			if e.Outcome != tt.want || e.ErrorCode != tt.code || e.RetryAfter != tt.retryAfter {
				t.Errorf("got %v/%q/%v, want %v/%q/%v (%v)", e.Outcome, e.ErrorCode, e.RetryAfter, tt.want, tt.code, tt.retryAfter, err)
			}
			if OutcomeOf(err) != tt.want {
				t.Errorf("OutcomeOf = %v", OutcomeOf(err))
			}
			if strings.Contains(err.Error(), regToken) || strings.Contains(err.Error(), "ya29.") {
				t.Errorf("error leaks a token: %v", err)
			}
		})
	}
}

func TestConnectionErrorRetries(t *testing.T) {
	f := newFake(t)
	c := f.client()
	if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.srv.Close() // the token is cached; the send itself cannot connect
	_, err := c.Send(context.Background(), testMessage(f.clock.Now()))
	if e, ok := errors.AsType[*Error](err); !ok || e.Outcome != Retry || e.HTTPStatus != 0 || e.Err == nil {
		t.Errorf("err = %v, want Retry with a transport cause", err)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		status int
		want   Outcome
	}{
		{http.StatusBadRequest, Permanent},
		{http.StatusUnauthorized, Permanent},
		{http.StatusServiceUnavailable, Retry},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFake(t)
			f.tokenStatus = tt.status
			c := f.client()
			_, err := c.Send(context.Background(), testMessage(f.clock.Now()))
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Outcome != tt.want || e.HTTPStatus != tt.status || e.Status != "invalid_grant" || e.RetryAfter != 7*time.Second {
				t.Errorf("err = %#v, want %v from the token endpoint", err, tt.want)
			}
			if _, sc, refused := f.counts(); sc+refused != 0 {
				t.Error("FCM was called without an access token")
			}
			// A failed fetch is not cached: once the endpoint recovers,
			// the next send gets a token.
			f.mu.Lock()
			f.tokenStatus = 0
			f.mu.Unlock()
			if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
				t.Errorf("send after recovery: %v", err)
			}
		})
	}
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	f := newFake(t)
	f.tokenDelay = 100 * time.Millisecond // all sends arrive while the fetch is in flight
	c := f.client()
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Send(context.Background(), testMessage(f.clock.Now()))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if tc, sc, _ := f.counts(); tc != 1 || sc != n {
		t.Errorf("token fetches %d, sends %d; want 1, %d", tc, sc, n)
	}
}

func TestWaitingSendHonoursContext(t *testing.T) {
	f := newFake(t)
	f.tokenDelay = 300 * time.Millisecond
	c := f.client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, testMessage(f.clock.Now()))
	if OutcomeOf(err) != Retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want Retry wrapping DeadlineExceeded", err)
	}
	// The abandoned fetch still fills the cache for the next send.
	if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if tc, _, _ := f.counts(); tc != 1 {
		t.Errorf("%d token fetches, want 1", tc)
	}
}

// TestConcurrent401sRefreshOnce: sends refused with the same stale token
// must not each throw away the token another send has just fetched.
func TestConcurrent401sRefreshOnce(t *testing.T) {
	f := newFake(t)
	c := f.client()
	if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.revoke()
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Send(context.Background(), testMessage(f.clock.Now()))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// A send that starts after the refresh never sees the stale token, so
	// up to n sends are refused; however many, one new token serves all.
	if tc, sc, refused := f.counts(); tc != 2 || sc != n+1 || refused < 1 || refused > n {
		t.Errorf("token fetches %d, sends %d, refused %d; want 2, %d, 1..%d", tc, sc, refused, n+1, n)
	}
}
