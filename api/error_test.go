package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifyd/verify"
)

func TestErrorRendering(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		code    float64
		message string
	}{
		{"not found", verify.Errorf(verify.ENotFound, "Factor YF1 was not found"), 404, 20404, "Factor YF1 was not found"},
		{"auth", verify.Errorf(verify.EAuthenticate, "Authenticate"), 401, 20003, "Authenticate"},
		{"param", verify.Errorf(verify.EPushParam, "Invalid parameter X"), 400, 60300, "Invalid parameter X"},
		{"wrapped", fmt.Errorf("doing: %w", verify.Errorf(verify.EBindingExists, "dup")), 409, 60317, "dup"},
		{"limit", verify.Errorf(verify.EChallengeTries, "max"), 429, 60308, "max"},
		{"forbidden", verify.Errorf(verify.EChallengeExpire, "expired"), 403, 60323, "expired"},
		{"sid family", verify.Errorf(verify.EChallengeSid, "bad sid"), 400, 60364, "bad sid"},
		{"unknown code", verify.Errorf(61234, "odd"), 400, 61234, "odd"},
		{"method", verify.Errorf(eMethod, "no"), 405, 20004, "no"},
		{"internal hides cause", errors.New("sql: connection refused at 10.0.0.1"), 500, 20500, "Internal server error"},
		{"EInternal hides message", &verify.Error{Code: verify.EInternal, Message: "secret detail"}, 500, 20500, "Internal server error"},
	}
	s := &Server{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.error(rec, httptest.NewRequest(http.MethodGet, "/v2/x", nil), tt.err)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Errorf("HTTP status = %d, want %d", res.StatusCode, tt.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			body, _ := io.ReadAll(res.Body)
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			want := map[string]any{
				"code":      tt.code,
				"message":   tt.message,
				"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", int(tt.code)),
				"status":    float64(tt.status),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			// code must be a JSON integer, not a string or a float.
			var typed struct{ Code, Status int }
			if err := json.Unmarshal(body, &typed); err != nil {
				t.Errorf("code/status are not integers: %v", err)
			}
			if tt.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}
