package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

// FuzzCheckPushCredential feeds arbitrary keys, certificates and
// service-account JSON to the credential checks: they never panic, every
// refusal is 20001, no message repeats a value that was sent (they are
// secrets), and what passes has the shape its type needs.
func FuzzCheckPushCredential(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	p8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add("apn", "", p8, "", "ABC123DEFG", "TEAM123456")
	f.Add("apn", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", p8, "", "", "")
	f.Add("fcm", "", "", `{"project_id":"p","client_email":"e","private_key":"`+strings.ReplaceAll(p8, "\n", `\n`)+`"}`, "", "")
	f.Add("fcm", "", "", `{"project_id":"p","client_email":"e","private_key":"x","token_uri":"ftp://x"}`, "", "")
	f.Add("gcm", "", "", "", "", "")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, typ, cert, key, sa, keyID, teamID string) {
		c := &PushCredential{Type: CredentialType(typ), KeyID: keyID, TeamID: teamID,
			Secret: &CredentialSecret{Certificate: cert, PrivateKey: key, ServiceAccount: sa}}
		err := checkPushCredential(c, now)
		if err != nil {
			if ErrorCode(err) != EParam {
				t.Fatalf("refused with %v, want 20001", err)
			}
			msg := ErrorMessage(err)
			for _, v := range []string{cert, key, sa} {
				if len(v) >= 16 && strings.Contains(msg, v) {
					t.Fatalf("the message repeats a secret: %s", msg)
				}
			}
			return
		}
		switch c.Type {
		case CredentialFCM:
			if _, err := ParseServiceAccount(sa); err != nil || cert != "" || key != "" {
				t.Fatalf("an fcm credential passed with %v", err)
			}
		case CredentialAPN:
			if key == "" || cert == "" && (!appleID(keyID) || !appleID(teamID)) {
				t.Fatalf("an apn credential passed without its key or ids")
			}
		default:
			t.Fatalf("type %q passed", typ)
		}
	})
}
