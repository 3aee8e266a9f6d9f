package gateway

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"99999999999", 24 * time.Hour}, // capped: a broken gateway cannot park a row for years
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"Fri, 14 Mar 2025 09:28:23 GMT", 90 * time.Second},
		{"Friday, 14-Mar-25 09:28:23 GMT", 90 * time.Second}, // RFC 850, which HTTP-date still allows
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},   // past
	} {
		if got := parseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
