package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// Master keys of the rotation tests on PostgreSQL, where there is no key
// file: A before, B after.
const (
	rotKeyA = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	rotKeyB = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
)

// totpParams are the factors' settings: a skew of 2 lets each factor take
// the two codes the tests use within one time step (verify, challenge).
var totpParams = otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 2}

// totpUser is a TOTP factor the load drives, with its codes.
type totpUser struct {
	identity, sid string
	codes         *codes
}

// load drives TOTP traffic at servers until stopped and counts failures:
// every request must succeed, whatever the rotation is doing.
type load struct {
	t       *testing.T
	svc     string
	readers []*openapi.ApiService // fetch factors and answer challenges
	creator *openapi.ApiService   // creates and verifies new factors

	mu       sync.Mutex
	users    []*totpUser // every factor, for fetching
	verified []*totpUser // verified factors not yet challenged

	ok, failed atomic.Int64
	firstErr   atomic.Value
}

func (l *load) fail(err error) {
	l.failed.Add(1)
	l.firstErr.CompareAndSwap(nil, err.Error())
}

// newTotp creates a factor for a new identity through c and verifies it
// with its code when verify is true.
func (l *load) newTotp(c *openapi.ApiService, n int, verify bool) (*totpUser, error) {
	id := fmt.Sprintf("rot-%06d-%04d", rand.IntN(1e6), n)
	nf, err := c.CreateNewFactor(l.svc, id, new(openapi.CreateNewFactorParams).SetFriendlyName("phone").SetFactorType("totp"))
	if err != nil {
		return nil, fmt.Errorf("create factor: %w", err)
	}
	secret, _ := (*nf.Binding).(map[string]any)["secret"].(string)
	u := &totpUser{identity: id, sid: *nf.Sid, codes: newCodes(l.t, secret, totpParams)}
	if verify {
		f, err := c.UpdateFactor(l.svc, id, u.sid, new(openapi.UpdateFactorParams).SetAuthPayload(u.codes.next(l.t)))
		if err != nil || *f.Status != "verified" {
			return nil, fmt.Errorf("verify factor %s: %+v, %v", u.sid, f, err)
		}
	}
	return u, nil
}

// run runs workers until stop is closed.
func (l *load) run(workers int, stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := l.readers[(w+i)%len(l.readers)]
				var err error
				switch i % 4 {
				case 0, 1:
					err = l.fetch(c)
				case 2:
					err = l.challenge(c)
				case 3:
					var u *totpUser
					if u, err = l.newTotp(l.creator, w*100000+i, true); err == nil {
						l.mu.Lock()
						l.users = append(l.users, u)
						l.verified = append(l.verified, u)
						l.mu.Unlock()
					}
				}
				if err != nil {
					l.fail(err)
				} else {
					l.ok.Add(1)
				}
			}
		})
	}
	return wg.Wait
}

// fetch reads a random factor: the server opens its secret unless cached.
func (l *load) fetch(c *openapi.ApiService) error {
	l.mu.Lock()
	u := l.users[rand.IntN(len(l.users))]
	l.mu.Unlock()
	f, err := c.FetchFactor(l.svc, u.identity, u.sid)
	if err != nil || *f.Sid != u.sid {
		return fmt.Errorf("fetch factor %s: %v", u.sid, err)
	}
	return nil
}

// challenge answers a pending TOTP challenge of a verified factor with its
// next code, which only the right secret approves; with no factor left to
// challenge it fetches one.
func (l *load) challenge(c *openapi.ApiService) error {
	l.mu.Lock()
	if len(l.verified) == 0 {
		l.mu.Unlock()
		return l.fetch(c)
	}
	u := l.verified[len(l.verified)-1]
	l.verified = l.verified[:len(l.verified)-1]
	l.mu.Unlock()
	ch, err := c.CreateChallenge(l.svc, u.identity, new(openapi.CreateChallengeParams).SetFactorSid(u.sid))
	if err != nil {
		return fmt.Errorf("create challenge of %s: %w", u.sid, err)
	}
	ans, err := c.UpdateChallenge(l.svc, u.identity, *ch.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(u.codes.next(l.t)))
	if err != nil || *ans.Status != "approved" {
		return fmt.Errorf("answer challenge of %s: %+v, %v", u.sid, ans, err)
	}
	return nil
}

// await waits until n more requests than now have succeeded, so that a
// phase of the test has traffic in it however slow the machine is (a fixed
// sleep ran 49 requests instead of 50 on a loaded CI machine). It fails the
// test if a request fails first or the traffic stalls for a minute.
func (l *load) await(n int64) {
	l.t.Helper()
	want := l.ok.Load() + n
	deadline := time.Now().Add(time.Minute)
	for l.ok.Load() < want {
		if l.failed.Load() > 0 || time.Now().After(deadline) {
			l.check(want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// check fails the test if any request failed, or if too few ran to mean
// anything.
func (l *load) check(min int64) {
	l.t.Helper()
	if n := l.failed.Load(); n > 0 {
		l.t.Fatalf("%d of %d requests failed during the rotation; first: %v", n, n+l.ok.Load(), l.firstErr.Load())
	}
	if l.ok.Load() < min {
		l.t.Fatalf("only %d requests ran, want at least %d", l.ok.Load(), min)
	}
	l.t.Logf("%d requests, all succeeded", l.ok.Load())
}

// sealedHeaders reads the first five bytes of every sealed value: TOTP
// secrets by factor SID, auth tokens by account SID and column, push
// credential secrets by credential SID.
func sealedHeaders(t *testing.T, db string) map[string][]byte {
	t.Helper()
	driver := "sqlite"
	if sqlstore.IsPostgres(db) {
		driver = "pgx"
	}
	conn, err := sql.Open(driver, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT sid, totp_secret FROM factors WHERE totp_secret IS NOT NULL
UNION ALL SELECT sid || ' primary', sealed_token FROM accounts WHERE sealed_token IS NOT NULL
UNION ALL SELECT sid || ' secondary', sealed_secondary_token FROM accounts WHERE sealed_secondary_token IS NOT NULL
UNION ALL SELECT sid, secret FROM push_credentials`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var sid string
		var b []byte
		if err := rows.Scan(&sid, &b); err != nil {
			t.Fatal(err)
		}
		out[sid] = b[:5]
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sealedBy is the header of values sealed under the master key hexKey.
func sealedBy(t *testing.T, hexKey string) []byte {
	t.Helper()
	k, err := decodeKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	id := sqlstore.KeyID(subkey(k, "secrets at rest"))
	return append([]byte{1}, id[:]...)
}

// notUnder counts the sealed values not under header, and all of them.
func notUnder(t *testing.T, db string, header []byte) (left, total int) {
	t.Helper()
	hs := sealedHeaders(t, db)
	for _, h := range hs {
		if !bytes.Equal(h, header) {
			left++
		}
	}
	return left, len(hs)
}

// provision makes a service and n TOTP factors, every other one verified.
func provision(t *testing.T, c *openapi.ApiService, n int) *load {
	t.Helper()
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Rotation").SetTotpSkew(2))
	if err != nil {
		t.Fatal(err)
	}
	l := &load{t: t, svc: *svc.Sid}
	for i := range n {
		u, err := l.newTotp(c, i, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		l.users = append(l.users, u)
		if i%2 == 0 {
			l.verified = append(l.verified, u)
		}
	}
	return l
}

// serveOnlyKey starts a server with key alone and checks that it opens
// every factor: each fetch opens the secret (a fresh server has nothing
// cached), and a challenge per verified factor left is approved by its
// code, which only the right secret computes.
func serveOnlyKey(t *testing.T, db, key string, l *load) {
	t.Helper()
	s := startServer(t, db, map[string]string{"VERIFYD_SECRET_KEY": key,
		"VERIFYD_ACCOUNT_SID": testAccount, "VERIFYD_AUTH_TOKEN": testToken})
	c := twilioClient(t, s, testAccount, testToken)
	for _, u := range l.users {
		if f, err := c.FetchFactor(l.svc, u.identity, u.sid); err != nil || *f.Sid != u.sid {
			t.Fatalf("with the new key alone, fetch factor %s: %v", u.sid, err)
		}
	}
	l.readers = []*openapi.ApiService{c}
	for len(l.verified) > 0 {
		if err := l.challenge(c); err != nil {
			t.Fatalf("with the new key alone: %v", err)
		}
	}
	s.stop()
}

// TestRotateKeyOnline rotates the master key of a database with factors
// while servers serve TOTP traffic, on every backend of the run.
func TestRotateKeyOnline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		if sqlstore.IsPostgres(db) {
			testRotateKeyPostgresOnline(t, db)
		} else {
			testRotateKeySQLiteOnline(t, db)
		}
	})
}

// testRotateKeySQLiteOnline rotates the key file of a SQLite database while
// its server serves TOTP traffic: "rotate-key --new-key" writes the key,
// the running server loads it and re-seals in the background, and no
// request fails. Afterwards every value carries the new key's id and a
// server with the new key alone serves every factor.
func testRotateKeySQLiteOnline(t *testing.T, db string) {
	s := startServer(t, db, accountEnv(testAccount, testToken), "--key-check-interval", "100ms")
	c := twilioClient(t, s, testAccount, testToken)
	l := provision(t, c, 40)
	oldKey := firstKey(t, db)
	// 41 values: the 40 TOTP secrets and the account's sealed token.
	if left, total := notUnder(t, db, sealedBy(t, oldKey)); left != 0 || total != 41 {
		t.Fatalf("before: %d of %d values not under the first key", left, total)
	}
	l.readers, l.creator = []*openapi.ApiService{c}, c

	stop := make(chan struct{})
	wait := l.run(4, stop)
	l.await(25)
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"rotate-key", "--db", db, "--new-key"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("rotate-key --new-key: %v\n%s%s", err, &out, &errOut)
	}
	if !strings.Contains(out.String(), "A server is serving") {
		t.Fatalf("rotate-key did not see the running server:\n%s", &out)
	}
	newKey := firstKey(t, db)
	if newKey == oldKey {
		t.Fatal("the key file's primary key did not change")
	}
	waitUnder(t, db, sealedBy(t, newKey), 20*time.Second)
	l.await(25) // more traffic under the new key
	close(stop)
	wait()
	l.check(50)
	// Factors created after the switch are sealed under the new key too.
	if left, total := notUnder(t, db, sealedBy(t, newKey)); left != 0 || total <= 41 {
		t.Fatalf("after: %d of %d values not under the new key", left, total)
	}
	s.stop()
	serveOnlyKey(t, db, newKey, l)
}

// testRotateKeyPostgresOnline rotates a PostgreSQL database from key A to
// key B with "verifyd rotate-key" while two nodes serve TOTP traffic: one
// in the first step of the roll-out (A seals, B only opens) and one in the
// second (B seals, A opens). No request fails; afterwards every value
// carries B's id, and a node with B alone serves every factor.
func testRotateKeyPostgresOnline(t *testing.T, db string) {
	env := func(key, previous string) map[string]string {
		e := accountEnv(testAccount, testToken)
		e["VERIFYD_SECRET_KEY"], e["VERIFYD_PREVIOUS_SECRET_KEYS"] = key, previous
		return e
	}
	s0 := startServer(t, db, env(rotKeyA, ""))
	l := provision(t, twilioClient(t, s0, testAccount, testToken), 40)
	s0.stop()
	if left, _ := notUnder(t, db, sealedBy(t, rotKeyA)); left != 0 {
		t.Fatalf("before: %d values not under A", left)
	}

	s1 := startServer(t, db, env(rotKeyA, rotKeyB)) // step 1: learns B
	s2 := startServer(t, db, env(rotKeyB, rotKeyA)) // step 2: B seals
	c1, c2 := twilioClient(t, s1, testAccount, testToken), twilioClient(t, s2, testAccount, testToken)
	// New factors go to the node in step 2 only: a node in step 1 still
	// seals under A, which is why rotate-key runs once every node is in
	// step 2. Reads and challenges go to both.
	l.readers, l.creator = []*openapi.ApiService{c1, c2}, c2

	stop := make(chan struct{})
	wait := l.run(4, stop)
	l.await(25)
	var out strings.Builder
	renv := env(rotKeyB, rotKeyA)
	err := run(context.Background(), []string{"rotate-key", "--db", db, "--batch", "3"}, func(k string) string { return renv[k] }, &out, &out)
	// Batches of 3 rows: the account's token first, alone in its batch.
	if err != nil || !strings.Contains(out.String(), "done:") || !strings.Contains(out.String(), "re-sealed 1,") || !strings.Contains(out.String(), "re-sealed 4,") {
		t.Fatalf("rotate-key: %v\n%s", err, &out)
	}
	l.await(25) // more traffic after the rotation
	close(stop)
	wait()
	l.check(50)
	if left, total := notUnder(t, db, sealedBy(t, rotKeyB)); left != 0 || total <= 41 {
		t.Fatalf("after: %d of %d values not under B", left, total)
	}
	s1.stop()
	s2.stop()
	serveOnlyKey(t, db, rotKeyB, l)
}

// firstKey is the primary key of a SQLite database's key file.
func firstKey(t *testing.T, db string) string {
	t.Helper()
	b, err := os.ReadFile(keyFilePath(db))
	if err != nil {
		t.Fatal(err)
	}
	k, err := parseKeyFile(keyFilePath(db), b)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(k.primary)
}

// waitUnder waits until every sealed value of db carries header.
func waitUnder(t *testing.T, db string, header []byte, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		left, total := notUnder(t, db, header)
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d values still not under the new key after %v", left, total, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
