package verify_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/cache"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// burst is how many codes are fired at one challenge or factor at once:
// burst-1 wrong ones and the right one, sent last.
const burst = 60

// TestAttemptLimitUnderBurst fires 59 wrong codes and the right one at a
// TOTP challenge, and then at an unverified TOTP factor, all at once, many
// times over: on SQLite through one Verifier, on PostgreSQL through two
// Verifiers with stores and caches of their own (two nodes) that split the
// burst. A code is compared only once one of the five attempts is reserved
// for it, so at most five requests get an answer that reflects a
// comparison, the right code never wins once five wrong ones are counted,
// and the stored count is exactly the number of wrong codes compared.
func TestAttemptLimitUnderBurst(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		nodes := burstNodes(t, dsn)
		v := nodes[0]
		name := "Burst"
		svc, err := v.CreateService(ctx, benchAccount, verify.ServiceParams{FriendlyName: &name})
		if err != nil {
			t.Fatal(err)
		}
		rounds := 12
		if testing.Short() {
			rounds = 3
		}
		approvedRounds, verifiedRounds := 0, 0
		for round := range rounds {
			identity := fmt.Sprintf("burst-user-%04d", round)
			f, secret := burstFactor(t, v, svc.Sid, identity, true)
			sid := string(f.Sid)
			ch, err := v.CreateChallenge(ctx, benchAccount, svc.Sid, identity, verify.ChallengeParams{FactorSid: &sid})
			if err != nil {
				t.Fatal(err)
			}
			codes := burstCodes(t, secret)
			type answer struct {
				c   *verify.Challenge
				err error
			}
			answers := fire(nodes, codes, func(v *verify.Verifier, code string) answer {
				c, err := v.UpdateChallenge(ctx, benchAccount, svc.Sid, identity, ch.Sid, verify.ChallengeUpdate{AuthPayload: &code})
				return answer{c, err}
			})
			pending, approved := 0, 0
			for i, a := range answers {
				switch {
				case a.err == nil && a.c.Status == verify.ChallengePending && i < burst-1:
					pending++
				case a.err == nil && a.c.Status == verify.ChallengeApproved && i == burst-1:
					approved++
				case verify.IsCode(a.err, verify.EChallengeTries), verify.IsCode(a.err, verify.EChallengeDone):
				default:
					t.Fatalf("round %d: answer %d (right: %v): %+v %v", round, i, i == burst-1, a.c, a.err)
				}
			}
			if pending+approved > verify.MaxChallengeAttempts {
				t.Fatalf("round %d: %d codes compared on one challenge", round, pending+approved)
			}
			if approved == 1 && pending >= verify.MaxChallengeAttempts {
				t.Fatalf("round %d: approved after %d wrong codes", round, pending)
			}
			got, err := v.FetchChallenge(ctx, benchAccount, svc.Sid, identity, ch.Sid)
			if err != nil {
				t.Fatal(err)
			}
			if got.FailedAttempts != pending || (got.Status == verify.ChallengeApproved) != (approved == 1) {
				t.Fatalf("round %d: stored %s with %d failed attempts; answers: %d pending, %d approved",
					round, got.Status, got.FailedAttempts, pending, approved)
			}
			approvedRounds += approved

			// The same for the verification of a new factor.
			f, secret = burstFactor(t, v, svc.Sid, identity, false)
			codes = burstCodes(t, secret)
			type factorAnswer struct {
				f   *verify.Factor
				err error
			}
			fanswers := fire(nodes, codes, func(v *verify.Verifier, code string) factorAnswer {
				f, err := v.UpdateFactor(ctx, benchAccount, svc.Sid, identity, f.Sid, verify.FactorUpdate{AuthPayload: &code})
				return factorAnswer{f, err}
			})
			wrong := 0
			for i, a := range fanswers {
				switch {
				case a.err == nil && a.f.Status == verify.FactorUnverified && i < burst-1:
					wrong++
				case a.err == nil && a.f.Status == verify.FactorVerified:
					// the right code, or a wrong one that found the factor
					// verified already and was not compared
				case verify.IsCode(a.err, verify.EFactorTries):
				default:
					t.Fatalf("round %d: factor answer %d (right: %v): %+v %v", round, i, i == burst-1, a.f, a.err)
				}
			}
			stored, err := v.FetchFactor(ctx, benchAccount, svc.Sid, identity, f.Sid)
			if err != nil {
				t.Fatal(err)
			}
			if wrong > verify.MaxFactorAttempts {
				t.Fatalf("round %d: %d wrong codes compared on one factor", round, wrong)
			}
			if stored.Status == verify.FactorVerified {
				verifiedRounds++
				if wrong >= verify.MaxFactorAttempts || stored.FailedAttempts != 0 {
					t.Fatalf("round %d: verified after %d wrong codes (%d stored)", round, wrong, stored.FailedAttempts)
				}
			} else if stored.FailedAttempts != wrong || fanswers[burst-1].err == nil {
				t.Fatalf("round %d: unverified with %d failed attempts stored, %d answered; right code: %+v %v",
					round, stored.FailedAttempts, wrong, fanswers[burst-1].f, fanswers[burst-1].err)
			}
		}
		t.Logf("right code won %d of %d challenge bursts and %d of %d factor bursts", approvedRounds, rounds, verifiedRounds, rounds)
	})
}

// burstNodes returns the Verifiers that share the database: one on SQLite
// (one server per file), two on PostgreSQL, each with a store and a cache
// of its own, as two servers have.
func burstNodes(t *testing.T, dsn string) []*verify.Verifier {
	t.Helper()
	n := 1
	if sqlstore.IsPostgres(dsn) {
		n = 2
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	var nodes []*verify.Verifier
	for i := range n {
		db, err := sqlstore.Open(context.Background(), dsn, key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 {
			if err := db.PutAccount(context.Background(), &verify.Account{Sid: benchAccount, TokenHash: verify.HashToken("t"), DateCreated: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, &verify.Verifier{Store: cache.New(db, db.Shared(), time.Now), Now: time.Now, Rand: rand.Reader, TokenKey: key})
	}
	return nodes
}

// burstFactor creates a TOTP factor (30 s, skew 1), verified with the
// current code if verified is set, and returns it with its secret.
func burstFactor(t *testing.T, v *verify.Verifier, service verify.Sid, identity string, verified bool) (*verify.Factor, []byte) {
	t.Helper()
	ctx := context.Background()
	name, typ := "phone", "totp"
	nf, err := v.CreateFactor(ctx, benchAccount, service, identity, verify.FactorParams{FriendlyName: &name, FactorType: &typ})
	if err != nil {
		t.Fatal(err)
	}
	if !verified {
		return nf.Factor, nf.Totp.Secret
	}
	code, err := otp.Code(nf.Totp.Secret, time.Now(), burstParams)
	if err != nil {
		t.Fatal(err)
	}
	f, err := v.UpdateFactor(ctx, benchAccount, service, identity, nf.Sid, verify.FactorUpdate{AuthPayload: &code})
	if err != nil || f.Status != verify.FactorVerified {
		t.Fatalf("verify: %+v %v", f, err)
	}
	return f, nf.Totp.Secret
}

var burstParams = otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1}

// burstCodes returns burst-1 distinct wrong codes and, last, the code of
// the next time step (accepted within the skew, and not used by the
// factor's verification). No wrong code is a code of any step near now.
func burstCodes(t *testing.T, secret []byte) []string {
	t.Helper()
	now := time.Now()
	near := map[string]bool{}
	for d := -2; d <= 3; d++ {
		c, err := otp.Code(secret, now.Add(time.Duration(d)*30*time.Second), burstParams)
		if err != nil {
			t.Fatal(err)
		}
		near[c] = true
	}
	right, err := otp.Code(secret, now.Add(30*time.Second), burstParams)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for len(codes) < burst-1 {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			t.Fatal(err)
		}
		c := fmt.Sprintf("%06d", n)
		if !near[c] {
			near[c] = true
			codes = append(codes, c)
		}
	}
	return append(codes, right)
}

// fire sends every code at once, spread over the nodes, the last one a
// moment after the others, and returns the answers in the codes' order.
func fire[A any](nodes []*verify.Verifier, codes []string, send func(*verify.Verifier, string) A) []A {
	out := make([]A, len(codes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() {
			<-start
			if i == len(codes)-1 {
				runtime.Gosched()
			}
			out[i] = send(nodes[i%len(nodes)], code)
		})
	}
	close(start)
	wg.Wait()
	return out
}
