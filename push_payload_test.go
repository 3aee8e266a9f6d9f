package verify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestPushOutbox: a push challenge and a Notification each write one push
// row in their transaction, with the frozen payload and a deadline at most
// the TTL away and never past the challenge's expiration; platform none
// writes nothing; a service without the platform's credential still gets
// its challenge, and a row without a credential SID that the sender fails.
func TestPushOutbox(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		v := burstNodes(t, dsn)[0]
		p8 := testP8(t)
		cred, err := v.CreatePushCredential(ctx, benchAccount, verify.CredentialParams{Type: sp("apn"),
			PrivateKey: &p8, KeyID: sp("KEY1234567"), TeamID: sp("TEAM123456")})
		if err != nil {
			t.Fatal(err)
		}
		withCred, err := v.CreateService(ctx, benchAccount, verify.ServiceParams{FriendlyName: sp("Push"), PushApnCredentialSid: sp(string(cred.Sid))})
		if err != nil {
			t.Fatal(err)
		}
		bare, err := v.CreateService(ctx, benchAccount, verify.ServiceParams{FriendlyName: sp("Bare")})
		if err != nil {
			t.Fatal(err)
		}
		token := "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
		factor := func(service verify.Sid, identity, platform string) *verify.Factor {
			key, pub := verifytest.DeviceKey(t)
			cfg := verify.FactorConfig{AppID: sp("com.example.app"), NotificationPlatform: &platform, SdkVersion: sp("3.0.0")}
			if platform != "none" {
				cfg.NotificationToken = &token
			}
			nf, err := v.CreateFactor(ctx, benchAccount, service, identity, verify.FactorParams{FriendlyName: sp("d"), FactorType: sp("push"),
				BindingPublicKey: &pub, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			payload := verifytest.SignSid(t, key, string(nf.Sid))
			if _, err := v.UpdateFactor(ctx, benchAccount, service, identity, nf.Sid, verify.FactorUpdate{AuthPayload: &payload}); err != nil {
				t.Fatal(err)
			}
			return nf.Factor
		}
		rows := func() []*verify.OutboxMessage {
			t.Helper()
			r, err := v.Store.ListOutbox(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		byID := func(id string) *verify.OutboxMessage {
			t.Helper()
			for _, m := range rows() {
				if m.ID == id {
					return m
				}
			}
			t.Fatalf("no outbox row %s", id)
			return nil
		}
		challenge := func(service verify.Sid, f *verify.Factor, exp *time.Time) *verify.Challenge {
			t.Helper()
			fs := string(f.Sid)
			c, err := v.CreateChallenge(ctx, benchAccount, service, f.Identity, verify.ChallengeParams{FactorSid: &fs,
				DetailsMessage: sp("Log in?"), ExpirationDate: exp})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		f := factor(withCred.Sid, "alice-0001", "apn")
		c := challenge(withCred.Sid, f, nil)
		r := rows()
		if len(r) != 1 || r[0].Kind != verify.OutboxPush || r[0].ID != string(c.Sid) || r[0].Ref != string(c.Sid) {
			t.Fatalf("rows after a push challenge: %+v", r)
		}
		var p verify.PushPayload
		if err := json.Unmarshal(r[0].Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.ChallengeSid != c.Sid || p.FactorSid != f.Sid || p.Platform != "apn" || p.Token != token || p.AppID != "com.example.app" ||
			p.CredentialSid != cred.Sid || p.Message != "Log in?" || p.TTL != 300 || !p.Expiration.Equal(c.ExpirationDate) || p.Identity != "alice-0001" {
			t.Fatalf("payload: %+v", p)
		}
		if !r[0].Deadline.Equal(p.Created.Add(300*time.Second)) || r[0].Deadline.After(c.ExpirationDate) {
			t.Fatalf("deadline %v, created %v, expiration %v", r[0].Deadline, p.Created, c.ExpirationDate)
		}

		// A challenge expiring in 100 s gets a 100 s TTL.
		soon := time.Now().Add(100 * time.Second)
		m := byID(string(challenge(withCred.Sid, f, &soon).Sid))
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.TTL < 98 || p.TTL > 100 || m.Deadline.After(soon) {
			t.Fatalf("short challenge: ttl %d, deadline %v, expiration %v (%v)", p.TTL, m.Deadline, soon, err)
		}

		// The re-send: its row carries the requested TTL and the NT SID.
		ttl := 30
		n, err := v.CreateNotification(ctx, benchAccount, withCred.Sid, f.Identity, c.Sid, &ttl)
		if err != nil {
			t.Fatal(err)
		}
		m = byID(string(n.Sid))
		if err := json.Unmarshal(m.Payload, &p); err != nil || m.Ref != string(c.Sid) || p.TTL != 30 || !m.Deadline.Equal(p.Created.Add(30*time.Second)) {
			t.Fatalf("re-send row %+v, payload %+v (%v)", m, p, err)
		}

		// A dead token gets nothing, until the device sends a new one.
		if ok, err := v.Store.KillPushToken(ctx, f.Sid, token); !ok || err != nil {
			t.Fatalf("kill: %v, %v", ok, err)
		}
		before := len(rows())
		challenge(withCred.Sid, f, nil)
		if n := len(rows()); n != before {
			t.Fatalf("a dead token got a push row: %d rows, want %d", n, before)
		}
		fresh := "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
		if _, err := v.UpdateFactor(ctx, benchAccount, withCred.Sid, f.Identity, f.Sid, verify.FactorUpdate{Config: verify.FactorConfig{NotificationToken: &fresh}}); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(byID(string(challenge(withCred.Sid, f, nil).Sid)).Payload, &p); err != nil || p.Token != fresh {
			t.Fatalf("after a new token: %+v (%v)", p, err)
		}

		// Platform none: the challenge, no row.
		challenge(withCred.Sid, factor(withCred.Sid, "bob-00000001", "none"), nil)
		if r := rows(); len(r) != before+1 {
			t.Fatalf("platform none wrote a row: %d rows", len(r))
		}

		// No credential for the platform: the challenge, and a row the
		// sender will fail for want of a credential.
		c = challenge(bare.Sid, factor(bare.Sid, "carol-000001", "apn"), nil)
		if err := json.Unmarshal(byID(string(c.Sid)).Payload, &p); err != nil || p.CredentialSid != "" {
			t.Fatalf("payload without a credential: %+v (%v)", p, err)
		}
	})
}
