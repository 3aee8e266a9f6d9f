package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/device"
	"github.com/verifyd/verify/sqlstore"
)

// statusLog is a transport that records the status of every response, so
// a test can see the 401 of a clock sync that the device hides.
type statusLog struct {
	mu       sync.Mutex
	statuses []int
}

func (l *statusLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.statuses = append(l.statuses, resp.StatusCode)
		l.mu.Unlock()
	}
	return resp, err
}

func (l *statusLog) take() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.statuses
	l.statuses = nil
	return s
}

// devService creates a service and an enrollment access token for identity.
func devService(t *testing.T, c *openapi.ApiService, identity string) (string, string) {
	t.Helper()
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Device test"))
	if err != nil {
		t.Fatal(err)
	}
	return *svc.Sid, devToken(t, c, *svc.Sid, identity)
}

func devToken(t *testing.T, c *openapi.ApiService, va, identity string) string {
	t.Helper()
	at, err := c.CreateAccessToken(va, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push").SetFactorFriendlyName("Ana's phone"))
	if err != nil {
		t.Fatalf("CreateAccessToken: %v", err)
	}
	return deref(t, at.Token, "token")
}

// devChallenge is the backend starting a login, as a real backend would.
func devChallenge(t *testing.T, c *openapi.ApiService, va, identity, factor string) string {
	t.Helper()
	ch, err := c.CreateChallenge(va, identity, new(openapi.CreateChallengeParams).SetFactorSid(factor).
		SetDetailsMessage("Log in to https://example.com? <Ana & Bob> café").
		SetDetailsFields([]any{map[string]string{"label": "IP", "value": "203.0.113.7"}, map[string]string{"label": "Where", "value": "Lyon; France"}}).
		SetHiddenDetails(map[string]string{"ip": "203.0.113.7", "ua": "Firefox/128"}))
	if err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
	return *ch.Sid
}

// devWaitStatus polls the challenge with twilio-go until it leaves pending.
func devWaitStatus(t *testing.T, c *openapi.ApiService, va, identity, sid, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ch, err := c.FetchChallenge(va, identity, sid)
		if err != nil {
			t.Fatalf("FetchChallenge: %v", err)
		}
		if *ch.Status != "pending" || time.Now().After(deadline) {
			if *ch.Status != want || ch.DateResponded == nil {
				t.Fatalf("challenge %s is %s (responded %v), want %s", sid, *ch.Status, ch.DateResponded, want)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeviceApproveDeny runs the whole push flow: twilio-go as the backend,
// the device package as the phone.
func TestDeviceApproveDeny(t *testing.T) { forEachBackend(t, testDeviceApproveDeny) }

func testDeviceApproveDeny(t *testing.T, db string) {
	s, c := newServer(t, db)
	ctx := context.Background()
	const identity = "ana-00000001"
	va, token := devService(t, c, identity)
	log := &statusLog{}
	d := &device.Client{HTTP: &http.Client{Transport: log, Timeout: 10 * time.Second}}
	st, err := d.Enroll(ctx, s.base, va, identity, token, "Ana's phone (Pixel 8)", "none", "", map[string]string{"os": "Android", "note": "a;b/c"})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if st.Status != "unverified" || st.AccountSid != testAccount || st.CredentialSid == "" || st.NotificationPlatform != "none" || st.FriendlyName != "Ana's phone (Pixel 8)" {
		t.Fatalf("enrolled state %+v", st)
	}
	if _, err := d.Enroll(ctx, s.base, va, identity, token, "again", "none", "", nil); err == nil || !strings.Contains(err.Error(), "60313") {
		t.Fatalf("enroll with a used token: %v", err)
	}
	if status, err := d.Verify(ctx); err != nil || status != "verified" {
		t.Fatalf("Verify = %q, %v", status, err)
	}
	f, err := c.FetchFactor(va, identity, st.FactorSid)
	if err != nil || *f.Status != "verified" || (*f.Metadata).(map[string]any)["note"] != "a;b/c" {
		t.Fatalf("FetchFactor = %+v, %v", f, err)
	}
	if upd, err := d.UpdatePushToken(ctx, "fcm", "fcm-registration:token/"+strings.Repeat("x", 40)); err != nil || upd.NotificationPlatform != "fcm" || upd.CredentialSid != st.CredentialSid {
		t.Fatalf("UpdatePushToken = %+v, %v", upd, err)
	}

	for _, approve := range []bool{true, false} {
		sid := devChallenge(t, c, va, identity, st.FactorSid)
		ch, err := d.Challenge(ctx, sid)
		if err != nil || ch.Status != "pending" || ch.Message != "Log in to https://example.com? <Ana & Bob> café" || len(ch.Fields) != 2 ||
			ch.HiddenDetails["ua"] != "Firefox/128" || len(ch.SignatureFields) == 0 {
			t.Fatalf("Challenge = %+v, %v", ch, err)
		}
		want := map[bool]string{true: "approved", false: "denied"}[approve]
		got, err := d.Respond(ctx, sid, approve)
		if err != nil || got.Status != want {
			t.Fatalf("Respond(%v) = %+v, %v", approve, got, err)
		}
		devWaitStatus(t, c, va, identity, sid, want)
		if _, err := d.Respond(ctx, sid, !approve); !errors.Is(err, device.ErrAlreadyUpdated) {
			t.Fatalf("second answer: %v", err)
		}
	}
	// Two pages of one; the challenges share a creation second, so which
	// comes first is the server's tie-break and not checked.
	list, err := d.Challenges(ctx, "", 1, "asc", "")
	if err != nil || len(list.Challenges) != 1 || list.NextPageToken == "" || list.PreviousPageToken != "" {
		t.Fatalf("Challenges page 1 = %+v, %v", list, err)
	}
	first := list.Challenges[0].Status
	list, err = d.Challenges(ctx, "", 1, "asc", list.NextPageToken)
	if err != nil || len(list.Challenges) != 1 || first+list.Challenges[0].Status != "approveddenied" && first+list.Challenges[0].Status != "deniedapproved" {
		t.Fatalf("Challenges page 2 = %+v, %v", list, err)
	}
	if pending, err := d.Challenges(ctx, "pending", 10, "desc", ""); err != nil || len(pending.Challenges) != 0 {
		t.Fatalf("pending challenges = %+v, %v", pending, err)
	}
	if got := log.take(); slices.Contains(got, http.StatusUnauthorized) || d.State.ClockCorrection != 0 {
		t.Fatalf("a device with a correct clock saw a 401: %v", got)
	}

	// Unenrol: the factor is gone; deleting again is still success (the
	// server answers 401 twice for the unknown credential).
	if err := d.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = c.FetchFactor(va, identity, st.FactorSid)
	wantTwilioError(t, err, 20404, 404)
	if err := d.Delete(ctx); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if got := log.take(); len(got) != 3 || got[1] != 401 || got[2] != 401 {
		t.Fatalf("statuses of delete, delete again: %v", got)
	}
}

// TestDeviceClockCorrection: devices 2 hours behind and ahead of the server
// each take one 401, store the correction from its Date, and succeed.
func TestDeviceClockCorrection(t *testing.T) { forEachBackend(t, testDeviceClockCorrection) }

func testDeviceClockCorrection(t *testing.T, db string) {
	s, c := newServer(t, db)
	ctx := context.Background()
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Skew"))
	if err != nil {
		t.Fatal(err)
	}
	for _, skew := range []time.Duration{-2 * time.Hour, 2 * time.Hour} {
		identity := "skew-" + map[bool]string{true: "ahead", false: "behind"}[skew > 0]
		log := &statusLog{}
		d := &device.Client{HTTP: &http.Client{Transport: log}, Now: func() time.Time { return time.Now().Add(skew) }}
		st, err := d.Enroll(ctx, s.base, *svc.Sid, identity, devToken(t, c, *svc.Sid, identity), "skewed", "none", "", nil)
		if err != nil {
			t.Fatalf("Enroll: %v", err)
		}
		if status, err := d.Verify(ctx); err != nil || status != "verified" {
			t.Fatalf("Verify with a clock %v off = %q, %v", skew, status, err)
		}
		if got := log.take(); len(got) != 3 || got[0] != 201 || got[1] != 401 || got[2] != 200 {
			t.Fatalf("statuses (enroll, verify, retry) = %v", got)
		}
		want := int64(-skew / time.Second)
		if diff := st.ClockCorrection - want; diff < -5 || diff > 5 {
			t.Fatalf("correction = %d, want about %d", st.ClockCorrection, want)
		}
		path := filepath.Join(t.TempDir(), "state.json")
		if err := st.Save(path); err != nil {
			t.Fatal(err)
		}
		loaded, err := device.Load(path)
		if err != nil || loaded.ClockCorrection != st.ClockCorrection {
			t.Fatalf("saved correction = %+v, %v", loaded, err)
		}
		// The stored correction holds: no more 401s.
		d.State = loaded
		sid := devChallenge(t, c, *svc.Sid, identity, st.FactorSid)
		if _, err := d.Respond(ctx, sid, true); err != nil {
			t.Fatalf("Respond after sync: %v", err)
		}
		devWaitStatus(t, c, *svc.Sid, identity, sid, "approved")
		if got := log.take(); len(got) != 3 || got[0] != 200 || got[1] != 200 || got[2] != 200 {
			t.Fatalf("statuses after sync (get, post, get) = %v", got)
		}
	}
}

// devRun runs "verifyd device ARGS…" through run, as the binary does.
func devRun(ctx context.Context, args ...string) (string, error) {
	var out, errOut strings.Builder
	err := run(ctx, append([]string{"device"}, args...), func(string) string { return "" }, &out, &errOut)
	if err != nil {
		return out.String(), errors.New(err.Error() + "\n" + errOut.String())
	}
	return out.String(), nil
}

// TestDeviceCLI drives the command line: enroll, verify, approve --wait
// while the backend creates the challenge, deny by SID, list and show, over
// HTTPS with the development certificate (--ca, then --insecure).
func TestDeviceCLI(t *testing.T) { forEachBackend(t, testDeviceCLI) }

func testDeviceCLI(t *testing.T, db string) {
	args := []string{"--tls-self-signed"}
	if sqlstore.IsPostgres(db) {
		args = append(args, "--tls-self-signed-dir", t.TempDir())
	}
	s := startServer(t, db, accountEnv(testAccount, testToken), args...)
	out := s.stdout.String()
	begin, end := strings.Index(out, "-----BEGIN CERTIFICATE-----"), strings.Index(out, "-----END CERTIFICATE-----")
	if begin < 0 || end < 0 {
		t.Fatalf("no certificate printed:\n%s", out)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte(out[begin:end+len("-----END CERTIFICATE-----")]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(out[begin:]))
	c := twilioClientVia(t, s, testAccount, testToken, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	const identity = "cli-user-0001"
	va, token := devService(t, c, identity)
	ctx := context.Background()
	state := filepath.Join(dir, "device.json")

	if _, err := devRun(ctx, "enroll", "--state", state, "--url", s.base+"/v2/", "--service", va, "--identity", identity, "--token", token); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("enroll without trusting the certificate: %v", err)
	}
	got, err := devRun(ctx, "--state", state, "enroll", "--url", s.base+"/v2/", "--service", va, "--identity", identity, "--token", token, "--ca", ca, "--name", "CLI device")
	if err != nil || !strings.HasPrefix(got, "enrolled YF") {
		t.Fatalf("enroll: %q, %v", got, err)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v", fi, err)
	}
	st, _ := device.Load(state)
	if _, err := devRun(ctx, "enroll", "--state", state, "--url", s.base, "--service", va, "--identity", identity, "--token", token, "--insecure"); err == nil {
		t.Fatal("enroll over an existing state file without --force")
	}
	if _, err := devRun(ctx, "enroll", "--state", state, "--force", "--url", s.base, "--service", va, "--identity", identity, "--token", token, "--insecure"); err == nil || !strings.Contains(err.Error(), "60313") {
		t.Fatalf("enroll with a used token: %v", err)
	}
	if got, err = devRun(ctx, "verify", "--state", state, "--insecure"); err != nil || got != "verified "+st.FactorSid+"\n" {
		t.Fatalf("verify: %q, %v", got, err)
	}

	// approve --wait: the device polls while the backend starts a login.
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := devRun(ctx, "approve", "--wait", "--timeout", "20s", "--poll", "100ms", "--state", state, "--insecure")
		done <- result{out, err}
	}()
	time.Sleep(300 * time.Millisecond)
	sid := devChallenge(t, c, va, identity, st.FactorSid)
	r := <-done
	if r.err != nil || r.out != "approved "+sid+"\n" {
		t.Fatalf("approve --wait: %q, %v", r.out, r.err)
	}
	devWaitStatus(t, c, va, identity, sid, "approved")

	sid2 := devChallenge(t, c, va, identity, st.FactorSid)
	if got, err = devRun(ctx, "deny", sid2, "--json", "--state", state, "--ca", ca); err != nil {
		t.Fatalf("deny: %v", err)
	}
	var denied map[string]any
	if err := json.Unmarshal([]byte(got), &denied); err != nil || denied["status"] != "denied" || denied["sid"] != sid2 {
		t.Fatalf("deny --json: %q, %v", got, err)
	}
	devWaitStatus(t, c, va, identity, sid2, "denied")
	if _, err = devRun(ctx, "approve", sid2, "--state", state, "--insecure"); err == nil || !strings.Contains(err.Error(), "already updated") {
		t.Fatalf("approve a denied challenge: %v", err)
	}
	// One line per challenge (both were created in the same second, so
	// their order is the server's tie-break and not checked here).
	got, err = devRun(ctx, "challenges", "--state", state, "--insecure")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if err != nil || len(lines) != 2 || !slices.Contains(lines, sid+" approved "+lineRest(t, c, va, identity, sid)) ||
		!slices.Contains(lines, sid2+" denied "+lineRest(t, c, va, identity, sid2)) {
		t.Fatalf("challenges: %q, %v", got, err)
	}
	if got, err = devRun(ctx, "challenges", "--status", "pending", "--json", "--state", state, "--insecure"); err != nil || !strings.HasPrefix(got, `{"challenges":[]`) {
		t.Fatalf("challenges --status pending --json: %q, %v", got, err)
	}
	if got, err = devRun(ctx, "show", "--json", "--state", state); err != nil || strings.Contains(got, "private_key") || !strings.Contains(got, `"status":"verified"`) {
		t.Fatalf("show --json: %q, %v", got, err)
	}
	if _, err = devRun(ctx, "approve", "--wait", "--timeout", "300ms", "--poll", "50ms", "--state", state, "--insecure"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("approve --wait with nothing pending: %v", err)
	}
	if got, err = devRun(ctx, "delete", "--state", state, "--insecure"); err != nil || got != "deleted "+st.FactorSid+"\n" {
		t.Fatalf("delete: %q, %v", got, err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("state file after delete: %v", err)
	}
	if _, err = devRun(ctx, "verify", "--state", state); err == nil || !strings.Contains(err.Error(), "enroll") {
		t.Fatalf("verify without a state file: %v", err)
	}
}

// lineRest is the expiration date and message of a challenge as the
// challenges command prints them.
func lineRest(t *testing.T, c *openapi.ApiService, va, identity, sid string) string {
	t.Helper()
	ch, err := c.FetchChallenge(va, identity, sid)
	if err != nil {
		t.Fatal(err)
	}
	return ch.ExpirationDate.UTC().Format(time.RFC3339) + " " + (*ch.Details).(map[string]any)["message"].(string)
}
