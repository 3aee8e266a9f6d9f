package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/jws"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// Benchmarks of the Verifier's hot use cases over a real SQLite file with
// the server's durable settings (every write transaction is fsynced), so
// that they show what the store costs next to the cryptography. Run with
// go test -run '^$' -bench . -benchmem .

const benchAccount = verify.Sid("AC0123456789abcdef0123456789abcdef")

// benchClock is a settable Verifier clock: each TOTP iteration moves it one
// step on, so that every code is fresh and none is refused as a replay.
type benchClock struct{ t time.Time }

func (c *benchClock) Now() time.Time { return c.t }

// benchEnv is a Verifier on a new SQLite file with one account and service;
// the device JWT tests and fuzz target use it too.
type benchEnv struct {
	ctx     context.Context
	v       *verify.Verifier
	clock   *benchClock
	service verify.Sid
}

func newBenchEnv(b testing.TB) *benchEnv {
	b.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	db, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.PutAccount(ctx, &verify.Account{Sid: benchAccount, TokenHash: verify.HashToken("benchToken0123456789abcdef012345"), DateCreated: time.Now()}); err != nil {
		b.Fatal(err)
	}
	c := &benchClock{t: time.Now().UTC().Truncate(time.Second)}
	e := &benchEnv{ctx: ctx, clock: c, v: &verify.Verifier{Store: db, Now: c.Now, Rand: rand.Reader, TokenKey: key}}
	name := "bench"
	svc, err := e.v.CreateService(ctx, benchAccount, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		b.Fatal(err)
	}
	e.service = svc.Sid
	return e
}

// totpFactor creates and verifies a TOTP factor (30 s step, skew 1).
func (e *benchEnv) totpFactor(b *testing.B, identity string) *verify.Factor {
	b.Helper()
	name, typ := "phone", "totp"
	nf, err := e.v.CreateFactor(e.ctx, benchAccount, e.service, identity, verify.FactorParams{FriendlyName: &name, FactorType: &typ})
	if err != nil {
		b.Fatal(err)
	}
	code := e.code(b, nf.Factor)
	f, err := e.v.UpdateFactor(e.ctx, benchAccount, e.service, identity, nf.Sid, verify.FactorUpdate{AuthPayload: &code})
	if err != nil || f.Status != verify.FactorVerified {
		b.Fatalf("verify: %v", err)
	}
	return nf.Factor
}

// code returns the factor's code at the current clock.
func (e *benchEnv) code(b *testing.B, f *verify.Factor) string {
	code, err := otp.Code(f.Totp.Secret, e.clock.t, otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	if err != nil {
		b.Fatal(err)
	}
	return code
}

// pushFactor enrolls and verifies a push factor with a new key.
func (e *benchEnv) pushFactor(b testing.TB, identity string) (*verify.Factor, *ecdsa.PrivateKey) {
	b.Helper()
	key, pub := verifytest.DeviceKey(b)
	name, typ, app, platform, sdk := "device", "push", "com.example", "none", "3.0.0"
	nf, err := e.v.CreateFactor(e.ctx, benchAccount, e.service, identity, verify.FactorParams{FriendlyName: &name, FactorType: &typ,
		BindingPublicKey: &pub, Config: verify.FactorConfig{AppID: &app, NotificationPlatform: &platform, SdkVersion: &sdk}})
	if err != nil {
		b.Fatal(err)
	}
	payload := verifytest.SignSid(b, key, string(nf.Sid))
	if _, err := e.v.UpdateFactor(e.ctx, benchAccount, e.service, identity, nf.Sid, verify.FactorUpdate{AuthPayload: &payload}); err != nil {
		b.Fatal(err)
	}
	return nf.Factor, key
}

func deviceJWT(b testing.TB, key *ecdsa.PrivateKey, f *verify.Factor, now time.Time) string {
	tok, err := jws.SignES256(key,
		map[string]string{"cty": verify.DeviceJWTType, "kid": string(f.Push.CredentialSid), "typ": "JWT", "alg": "ES256"},
		map[string]any{"sub": string(benchAccount), "nbf": now.Unix(), "exp": now.Unix() + 600})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// quotaStep is how far the clock moves between two challenges of one factor
// in the benchmarks: a fresh time step each time, and far enough apart that
// the factor never reaches its quota of 100 challenges a day (60312).
const quotaStep = 15 * time.Minute

// BenchmarkCreateChallengeTotp is the totp-fresh path below HTTP: find the
// service, entity and factor, check the code, and in one transaction use
// the time step and store the approved challenge.
func BenchmarkCreateChallengeTotp(b *testing.B) {
	benchTotpChallenge(b, false, rightCode, verify.ChallengeApproved)
}

// BenchmarkCreateChallengeTotpWrong stores a pending challenge with one
// failed attempt, as totp-wrong does.
func BenchmarkCreateChallengeTotpWrong(b *testing.B) {
	benchTotpChallenge(b, false, offByOne, verify.ChallengePending)
}

// BenchmarkAnswerTotpChallenge creates a pending TOTP challenge and
// answers it with the right code: the attempt is reserved, the code
// compared, the step used and the challenge approved in one transaction.
func BenchmarkAnswerTotpChallenge(b *testing.B) {
	benchTotpChallenge(b, true, rightCode, verify.ChallengeApproved)
}

// BenchmarkAnswerTotpChallengeWrong answers with a wrong code: the
// reserved attempt stands as the failure.
func BenchmarkAnswerTotpChallengeWrong(b *testing.B) {
	benchTotpChallenge(b, true, offByOne, verify.ChallengePending)
}

func rightCode(code string) string { return code }
func offByOne(code string) string  { return code[:5] + string('0'+(code[5]-'0'+1)%10) }

// benchTotpChallenge creates challenges on one TOTP factor with the code of
// the clock's time step as send makes it, each expected to end as want;
// with answer set, each challenge is created pending and the code sent in
// a second call, as an answer.
func benchTotpChallenge(b *testing.B, answer bool, send func(code string) string, want verify.ChallengeStatus) {
	e := newBenchEnv(b)
	f := e.totpFactor(b, "user-0001")
	sid := string(f.Sid)
	b.ReportAllocs()
	for b.Loop() {
		e.clock.t = e.clock.t.Add(quotaStep)
		code := send(e.code(b, f))
		p := verify.ChallengeParams{FactorSid: &sid, AuthPayload: &code}
		if answer {
			p.AuthPayload = nil
		}
		c, err := e.v.CreateChallenge(e.ctx, benchAccount, e.service, "user-0001", p)
		if err == nil && answer {
			c, err = e.v.UpdateChallenge(e.ctx, benchAccount, e.service, "user-0001", c.Sid, verify.ChallengeUpdate{AuthPayload: &code})
		}
		if err != nil || c.Status != want {
			b.Fatalf("%v %v", c, err)
		}
	}
}

// credStore answers FindFactorByCredential from memory, to separate the
// device JWT check from the store lookup.
type credStore struct {
	verify.Store
	f *verify.Factor
}

func (s credStore) FindFactorByCredential(context.Context, verify.Sid) (*verify.Factor, error) {
	return s.f, nil
}

// BenchmarkAuthenticateDevice checks a device JWT: parse, look up the
// factor by credential, parse its public key, verify ES256, check claims.
func BenchmarkAuthenticateDevice(b *testing.B) {
	e := newBenchEnv(b)
	f, key := e.pushFactor(b, "user-0001")
	tok := deviceJWT(b, key, f, e.clock.t)
	for name, v := range map[string]*verify.Verifier{
		"sqlite": e.v,
		"memory": {Store: credStore{f: f}, Now: e.clock.Now, Rand: rand.Reader},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.AuthenticateDevice(e.ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAnswerPush is a device's approval below HTTP: fetch the
// challenge and factor, verify the signed answer against the challenge as
// rendered, and compare-and-swap it to approved. The challenges and their
// answers are made before the timer starts; each is answered once.
func BenchmarkAnswerPush(b *testing.B) {
	e := newBenchEnv(b)
	msg := "Log in?"
	render := func(c *verify.Challenge) (map[string]any, error) {
		return map[string]any{
			"sid": string(c.Sid), "account_sid": string(c.AccountSid), "service_sid": string(c.ServiceSid),
			"entity_sid": string(c.EntitySid), "identity": c.Identity, "factor_sid": string(c.FactorSid),
			"date_created": c.DateCreated.Format(time.RFC3339), "expiration_date": c.ExpirationDate.Format(time.RFC3339),
			"details": map[string]any{"message": c.Details.Message}, "hidden_details": nil,
		}, nil
	}
	type pending struct {
		identity string
		sid      verify.Sid
		payload  string
	}
	// A new device every 50 challenges: one factor takes no more an hour.
	perFactor := verify.ChallengeQuotaFor(&verify.Factor{Type: verify.FactorPush}).Hour
	var key *ecdsa.PrivateKey
	var identity, sid string
	todo := make([]pending, b.N)
	for i := range todo {
		if i%perFactor == 0 {
			identity = fmt.Sprintf("user-%05d", i/perFactor)
			var f *verify.Factor
			f, key = e.pushFactor(b, identity)
			sid = string(f.Sid)
		}
		c, err := e.v.CreateChallenge(e.ctx, benchAccount, e.service, identity, verify.ChallengeParams{FactorSid: &sid, DetailsMessage: &msg})
		if err != nil {
			b.Fatal(err)
		}
		m, _ := render(c)
		m["status"] = "approved"
		p, err := jws.SignES256(key, map[string]string{"alg": "ES256", "typ": "JWT"}, m)
		if err != nil {
			b.Fatal(err)
		}
		todo[i] = pending{identity, c.Sid, p}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := e.v.UpdateChallenge(e.ctx, benchAccount, e.service, todo[i].identity, todo[i].sid,
			verify.ChallengeUpdate{AuthPayload: &todo[i].payload, Render: render})
		if err != nil || c.Status != verify.ChallengeApproved {
			b.Fatalf("%v %v", c, err)
		}
	}
}
