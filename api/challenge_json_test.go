package api

import (
	"bytes"
	"github.com/verifyd/verify"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteChallengeMatchesJSON: the hand-written challenge response is
// byte for byte, headers and status included, what writeJSON with
// encoding/json writes, for every case of challengeCases.
func TestWriteChallengeMatchesJSON(t *testing.T) {
	s := &Server{BaseURL: "https://verify.example"}
	base, cases := challengeCases()
	cases["identity with escapes"] = func(c *verify.Challenge) { c.Identity = "a\"b<c>&\u2028" }
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := base
			edit(&c)
			want := httptest.NewRecorder()
			s.writeJSON(want, httptest.NewRequest("GET", "/", nil), http.StatusCreated, s.challengeJSON(&c))
			got := httptest.NewRecorder()
			s.writeChallenge(got, http.StatusCreated, &c)
			if got.Code != want.Code {
				t.Errorf("status %d, want %d", got.Code, want.Code)
			}
			for _, h := range []string{"Content-Type", "Content-Length"} {
				if got.Header().Get(h) != want.Header().Get(h) {
					t.Errorf("%s %q, want %q", h, got.Header().Get(h), want.Header().Get(h))
				}
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("body\n%s\nwant\n%s", got.Body.Bytes(), want.Body.Bytes())
			}
		})
	}
}
