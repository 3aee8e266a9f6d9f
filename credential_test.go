package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// testCert returns a self-signed certificate valid from nb to na and its
// EC key in SEC 1 PEM ("EC PRIVATE KEY"), one of the forms accepted.
func testCert(t *testing.T, nb, na time.Time) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "push"}, NotBefore: nb, NotAfter: na}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
}

func testP8(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func sp(s string) *string { return &s }

// TestPushCredentialUpdate: a rename does not check the stored keys again
// (a credential whose certificate expired can still be renamed), keys sent
// are checked at the Verifier's clock, and a certificate credential becomes
// a token-mode one by sending Certificate empty with a .p8 key, KeyId and
// TeamId; what the delivery worker opens is then the new key alone.
func TestPushCredentialUpdate(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		v := burstNodes(t, dsn)[0]
		now := time.Now()
		cert, key := testCert(t, now.Add(-time.Hour), now.Add(time.Hour))
		c, err := v.CreatePushCredential(ctx, benchAccount, verify.CredentialParams{Type: sp("apn"), Certificate: &cert, PrivateKey: &key})
		if err != nil {
			t.Fatal(err)
		}
		if c.Secret != nil {
			t.Fatal("create returned the secret")
		}
		v.Now = func() time.Time { return now.Add(2 * time.Hour) } // the certificate has expired
		if _, err := v.UpdatePushCredential(ctx, benchAccount, c.Sid, verify.CredentialParams{FriendlyName: sp("old cert")}); err != nil {
			t.Fatalf("rename with an expired certificate: %v", err)
		}
		_, err = v.UpdatePushCredential(ctx, benchAccount, c.Sid, verify.CredentialParams{PrivateKey: &key})
		if verify.ErrorCode(err) != verify.EParam {
			t.Fatalf("re-sending the key of an expired certificate: %v, want 20001", err)
		}
		p8 := testP8(t)
		got, err := v.UpdatePushCredential(ctx, benchAccount, c.Sid, verify.CredentialParams{
			Certificate: sp(""), PrivateKey: &p8, KeyID: sp("KEY1234567"), TeamID: sp("TEAM123456")})
		if err != nil || got.KeyID != "KEY1234567" || got.Secret != nil || got.FriendlyName != "old cert" {
			t.Fatalf("to token mode: %+v, %v", got, err)
		}
		opened, err := v.Store.OpenPushCredential(ctx, c.Sid)
		if err != nil || !opened.TokenMode() || opened.Secret.Certificate != "" || opened.Secret.PrivateKey != p8 || opened.TeamID != "TEAM123456" {
			t.Fatalf("opened after the switch: %+v, %v", opened, err)
		}
		_, err = v.UpdatePushCredential(ctx, benchAccount, c.Sid, verify.CredentialParams{Type: sp("fcm")})
		if verify.ErrorCode(err) != verify.EParam {
			t.Fatalf("changing the type: %v, want 20001", err)
		}
	})
}

// TestCredentialDeleteRace races deleting a credential against a service
// update naming it, many times, on every backend (two nodes on
// PostgreSQL): exactly one of the two may win each time, so a service is
// never left naming a deleted credential.
func TestCredentialDeleteRace(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		nodes := burstNodes(t, dsn)
		svc, err := nodes[0].CreateService(ctx, benchAccount, verify.ServiceParams{FriendlyName: sp("Race")})
		if err != nil {
			t.Fatal(err)
		}
		p8 := testP8(t)
		deleted, named := 0, 0
		for round := range 20 {
			c, err := nodes[0].CreatePushCredential(ctx, benchAccount, verify.CredentialParams{Type: sp("apn"),
				PrivateKey: &p8, KeyID: sp("KEY1234567"), TeamID: sp("TEAM123456")})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var delErr, updErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				delErr = nodes[round%len(nodes)].DeletePushCredential(ctx, benchAccount, c.Sid)
			}()
			go func() {
				defer wg.Done()
				_, updErr = nodes[(round+1)%len(nodes)].UpdateService(ctx, benchAccount, svc.Sid,
					verify.ServiceParams{PushApnCredentialSid: sp(string(c.Sid))})
			}()
			wg.Wait()
			if (delErr == nil) == (updErr == nil) {
				t.Fatalf("round %d: delete %v, service update %v: want exactly one to succeed", round, delErr, updErr)
			}
			if delErr == nil {
				deleted++
				if verify.ErrorCode(updErr) != verify.EInvalidParam {
					t.Fatalf("round %d: the update lost with %v, want 60200", round, updErr)
				}
				continue
			}
			named++
			if verify.ErrorCode(delErr) != verify.EParam {
				t.Fatalf("round %d: the delete lost with %v, want 20001", round, delErr)
			}
			// Let go of it, for the next round.
			if _, err := nodes[0].UpdateService(ctx, benchAccount, svc.Sid, verify.ServiceParams{PushApnCredentialSid: sp("")}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d rounds won by the delete, %d by the service update", deleted, named)
	})
}

// TestParseServiceAccount: token_uri defaults to Google's and must be
// https when given; type, when given, must be service_account; the key
// must be RSA.
func TestParseServiceAccount(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	doc := func(extra map[string]string) string {
		m := map[string]string{"project_id": "p", "client_email": "e@p.iam.gserviceaccount.com", "private_key": rsaPEM}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	sa, err := verify.ParseServiceAccount(doc(nil))
	if err != nil || sa.TokenURI != verify.DefaultTokenURI || sa.ProjectID != "p" || !sa.PrivateKey.Equal(k) {
		t.Fatalf("ParseServiceAccount = %+v, %v", sa, err)
	}
	if sa, err := verify.ParseServiceAccount(doc(map[string]string{"token_uri": "https://oauth.example/token"})); err != nil || sa.TokenURI != "https://oauth.example/token" {
		t.Fatalf("with a token_uri: %+v, %v", sa, err)
	}
	for name, bad := range map[string]string{
		"http token_uri":  doc(map[string]string{"token_uri": "http://oauth.example/token"}),
		"type":            doc(map[string]string{"type": "authorized_user"}),
		"EC key":          doc(map[string]string{"private_key": testP8(t)}),
		"two PEM blocks":  doc(map[string]string{"private_key": rsaPEM + rsaPEM}),
		"not JSON":        "AAAA:legacy",
		"JSON not object": `"x"`,
	} {
		if _, err := verify.ParseServiceAccount(bad); verify.ErrorCode(err) != verify.EParam {
			t.Errorf("%s: %v, want 20001", name, err)
		}
	}
}
