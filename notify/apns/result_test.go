package apns

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{"-5", 0},
		{"soon", 0},
		{testT0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{testT0.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, testT0); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestKindOfUnlistedStatuses(t *testing.T) {
	tests := []struct {
		status int
		reason string
		want   Kind
	}{
		{404, "BadPath", Permanent},
		{405, "MethodNotAllowed", Permanent},
		{403, "BadCertificateEnvironment", Permanent},
		{410, "", TokenDead},
		{502, "", Retry},
		{400, "", Permanent},
	}
	for _, tt := range tests {
		if got := kindOf(tt.status, tt.reason); got != tt.want {
			t.Errorf("kindOf(%d, %q) = %v, want %v", tt.status, tt.reason, got, tt.want)
		}
	}
}

func TestErrorUnwrapAndString(t *testing.T) {
	cause := errors.New("connection reset")
	e := &Error{Kind: Retry, Token: redact(testToken), Err: cause}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	if got, want := e.Error(), "apns: retry: token 8e0b1f0c…: connection reset"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &Error{Kind: TokenDead, Status: 410, Reason: "Unregistered", Token: redact(testToken)}
	if got, want := e.Error(), "apns: token_dead: token 8e0b1f0c…: status 410: Unregistered"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
