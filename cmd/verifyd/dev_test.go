package main

import (
	"io"
	"os"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// TestDevConstants: serve --dev without credentials prints and uses the
// well-known account and service, again after a restart; with
// credentials given, or without --dev, there is no such account.
func TestDevConstants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		for round := range 2 { // the second start finds them made
			s := startServer(t, db, map[string]string{}, "--dev")
			if !strings.Contains(s.stdout.String(), DevAccountSid) && round == 0 {
				// stdout holds what was printed before "listening"
				t.Fatalf("the constants were not printed:\n%s", s.stdout.String())
			}
			c := twilioClient(t, s, DevAccountSid, DevAuthToken)
			svc, err := c.FetchService(DevServiceSid)
			if err != nil || *svc.FriendlyName != "Dev" {
				t.Fatalf("round %d: dev service: %+v, %v", round, svc, err)
			}
			if _, err := c.CreateVerification(DevServiceSid, newVerification("+14155552671", "sms")); err != nil && round == 0 {
				t.Fatalf("a code in dev mode: %v", err)
			}
			s.stop()
		}
	})
	s := startServer(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken))
	_, err := twilioClient(t, s, DevAccountSid, DevAuthToken).ListService(&openapi.ListServiceParams{})
	wantTwilioError(t, err, 20003, 401)
}

// TestJSONCommand: verifyd json prints a string bare, anything else as
// JSON, and fails on a path the document does not have.
func TestJSONCommand(t *testing.T) {
	f := t.TempDir() + "/a.json"
	if err := os.WriteFile(f, []byte(`{"sid":"YF1","binding":{"secret":"ABC"},"attempts":[{"n":2}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"sid": "YF1\n", "binding.secret": "ABC\n", "attempts.0.n": "2\n", "binding": `{"secret":"ABC"}` + "\n"} {
		var out strings.Builder
		if err := jsonCommand([]string{path, f}, &out, io.Discard); err != nil || out.String() != want {
			t.Errorf("%s: %q, %v", path, out.String(), err)
		}
	}
	for _, path := range []string{"nope", "attempts.1", "sid.x"} {
		if err := jsonCommand([]string{path, f}, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: no error", path)
		}
	}
}
