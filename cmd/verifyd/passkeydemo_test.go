package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// demoPost posts body to the passkeys demo's backend call as the demo page
// in a browser at http(s)://localhost:PORT would, through client, and
// decodes the JSON answer.
func demoPost(t *testing.T, s *server, client *http.Client, call, body string) (int, map[string]any) {
	t.Helper()
	u, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/dev/passkeys/api/"+call, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost:" + u.Port()
	req.Header.Set("Origin", u.Scheme+"://"+req.Host)
	req.Header.Set("Content-Type", "application/json")
	return sendJSON(t, client, req)
}

// demoGet returns the status and body of a GET of path on s.
func demoGet(t *testing.T, s *server, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestPasskeyDemoMounted: the demo is served, and announced, by a --dev
// server with the well-known constants only; a --dev server with its own
// credentials, or a server without --dev, answers /dev/passkeys as the API
// answers any unknown path. Paths beside the prefix stay the API's.
func TestPasskeyDemoMounted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, map[string]string{}, "--dev")
		port := s.base[strings.LastIndex(s.base, ":")+1:]
		if want := "passkeys demo: http://localhost:" + port + "/dev/passkeys"; !strings.Contains(s.stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, s.stdout)
		}
		status, h, body := demoGet(t, s, "/dev/passkeys")
		if status != 200 || !strings.Contains(body, `id="register"`) || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("demo page: %d %v", status, h)
		}
		for _, p := range []string{"/dev/passkeysx", "/dev", "/v2/Services/" + DevServiceSid + "/Passkeys"} {
			if status, _, body := demoGet(t, s, p); status != 404 || !strings.Contains(body, `"code":20404`) {
				t.Errorf("GET %s: %d %s, want the API's Twilio 404", p, status, body)
			}
		}
		s.stop()

		for _, env := range []map[string]string{accountEnv(testAccount, testToken), {}} {
			args := []string{"--dev"}
			if len(env) == 0 {
				args = nil
				env = accountEnv(testAccount, testToken)
			}
			s := startServer(t, db, env, args...)
			if strings.Contains(s.stdout.String(), "passkeys demo") {
				t.Errorf("%v: demo announced:\n%s", args, s.stdout)
			}
			if status, _, body := demoGet(t, s, "/dev/passkeys"); status != 404 || !strings.Contains(body, `"code":20404`) {
				t.Errorf("%v: /dev/passkeys: %d %s", args, status, body)
			}
			s.stop()
		}
	})
}

// TestPasskeyDemoBackend drives the demo's backend without a browser, as
// the page does, against the real API: it sends the relying party of the
// page's origin, relays the API's own errors, and before a login without
// username sets the service's Passkeys settings to that relying party.
// Over TLS its calls to the API trust the server's certificate.
func TestPasskeyDemoBackend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		t.Run("http", func(t *testing.T) { testPasskeyDemoBackend(t, db, "--dev") })
		t.Run("https", func(t *testing.T) {
			testPasskeyDemoBackend(t, db, "--dev", "--tls-self-signed", "--tls-self-signed-dir", t.TempDir())
		})
	})
}

func testPasskeyDemoBackend(t *testing.T, db string, args ...string) {
	s := startServer(t, db, map[string]string{}, args...)
	client := http.DefaultClient
	if strings.HasPrefix(s.base, "https:") {
		_, pem, _ := strings.Cut(s.stdout.String(), "-----BEGIN CERTIFICATE-----")
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte("-----BEGIN CERTIFICATE-----" + pem)) {
			t.Fatalf("no certificate printed:\n%s", s.stdout)
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	origin := strings.Replace(s.base, "127.0.0.1", "localhost", 1)

	status, answer := demoPost(t, s, client, "register/start", `{"identity":"x"}`)
	if status != 400 || answer["code"] == nil || answer["more_info"] == nil {
		t.Errorf("bad identity: %d %v, want the API's Twilio error relayed", status, answer)
	}

	status, answer = demoPost(t, s, client, "register/start", `{"identity":"demo-backend-01"}`)
	if status != 201 {
		t.Fatalf("register/start: %d %v", status, answer)
	}
	if sid, _ := answer["sid"].(string); !strings.HasPrefix(sid, "YF") || answer["status"] != "unverified" {
		t.Errorf("factor: %v", answer)
	}
	var created struct {
		Config struct {
			RelyingParty struct {
				ID      string   `json:"id"`
				Origins []string `json:"origins"`
			} `json:"relying_party"`
		} `json:"config"`
		Options struct {
			PublicKey struct {
				RP struct {
					ID string `json:"id"`
				} `json:"rp"`
				User struct {
					ID string `json:"id"`
				} `json:"user"`
				Challenge string `json:"challenge"`
			} `json:"publicKey"`
		} `json:"options"`
	}
	remarshal(t, answer, &created)
	pk := created.Options.PublicKey
	if pk.RP.ID != "localhost" || pk.User.ID == "" || pk.Challenge == "" {
		t.Errorf("creation options: %+v", pk)
	}
	if rp := created.Config.RelyingParty; rp.ID != "localhost" || len(rp.Origins) != 1 || rp.Origins[0] != origin {
		t.Errorf("factor's relying party: %+v, want localhost and [%s]", rp, origin)
	}

	// A forged registration is the API's to refuse, and is relayed.
	status, answer = demoPost(t, s, client, "register/finish", `{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`)
	if status < 400 || status >= 500 || answer["code"] == nil {
		t.Errorf("forged registration: %d %v", status, answer)
	}

	c := twilioClientVia(t, s, DevAccountSid, DevAuthToken, client.Transport)
	before, err := c.FetchService(DevServiceSid)
	if err != nil {
		t.Fatal(err)
	}
	status, answer = demoPost(t, s, client, "login/start", `{}`)
	if status != 201 {
		t.Fatalf("discoverable login/start: %d %v", status, answer)
	}
	if sid, _ := answer["sid"].(string); !strings.HasPrefix(sid, "YC") || answer["status"] != "pending" {
		t.Errorf("challenge: %v", answer)
	}
	after, err := c.FetchService(DevServiceSid)
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		RelyingParty struct {
			ID      *string  `json:"id"`
			Origins []string `json:"origins"`
		} `json:"relying_party"`
		DiscoverableCredentials *string `json:"discoverable_credentials"`
	}
	remarshal(t, after.Passkeys, &settings)
	if rp := settings.RelyingParty; rp.ID == nil || *rp.ID != "localhost" || len(rp.Origins) != 1 || rp.Origins[0] != origin ||
		settings.DiscoverableCredentials == nil || *settings.DiscoverableCredentials != "preferred" {
		t.Errorf("service's passkeys settings: before %s, after %s", jsonOf(before.Passkeys), jsonOf(after.Passkeys))
	}

	// With an identity, the API answers for the entity, which has no
	// verified passkey yet: its error is relayed.
	status, answer = demoPost(t, s, client, "login/start", `{"identity":"demo-backend-01"}`)
	if status < 400 || status >= 500 || answer["code"] == nil {
		t.Errorf("login/start without a verified passkey: %d %v", status, answer)
	}
}

// remarshal converts v, a decoded JSON value, into out.
func remarshal(t *testing.T, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

// jsonOf is v as JSON, for messages.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
