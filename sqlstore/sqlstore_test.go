package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// testKey is the fixed secret key of the test databases.
var testKey = bytes.Repeat([]byte{0x5a}, 32)

// t0 is the time the fixtures are created at.
var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// mustOpen opens a SQLite database in a real file under t.TempDir(), closed
// when the test ends.
func mustOpen(t *testing.T) *DB {
	t.Helper()
	return mustOpenFile(t, filepath.Join(t.TempDir(), "verify.db"), testKey)
}

// mustOpenFile opens the database at dsn (a SQLite path or a PostgreSQL
// URL), closed when the test ends, with key and any previous keys.
func mustOpenFile(t *testing.T, dsn string, key []byte, previous ...[]byte) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, key, previous...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestStore runs the conformance suite on every backend of the run
// (PostgreSQL when VERIFYD_TEST_POSTGRES is set), each subtest on a fresh
// database of its own.
func TestStore(t *testing.T) {
	for _, b := range verifytest.Backends() {
		t.Run(string(b), func(t *testing.T) {
			runStoreSuite(t, func(t *testing.T) *DB {
				return mustOpenFile(t, verifytest.DSN(t, b), testKey)
			})
		})
	}
}

// runStoreSuite checks that a DB behaves as verify.Store documents. open
// returns a new, empty, migrated database; each subtest gets its own.
func runStoreSuite(t *testing.T, open func(t *testing.T) *DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"Accounts", testAccounts},
		{"ListAccounts", testListAccounts},
		{"SecondaryToken", testSecondaryToken},
		{"PromoteRace", testPromoteRace},
		{"SealedTokens", testSealedTokens},
		{"SealTokenRace", testSealTokenRace},
		{"SealedTokenBinding", testSealedTokenBinding},
		{"LoginSeals", testLoginSeals},
		{"DeleteAccount", testDeleteAccount},
		{"Passkeys", testPasskeys},
		{"PasskeyLogins", testPasskeyLogins},
		{"APIKeys", testAPIKeys},
		{"PushCredentials", testPushCredentials},
		{"Services", testServices},
		{"Entities", testEntities},
		{"Paging", testPaging},
		{"CascadeService", testCascadeService},
		{"CascadeEntity", testCascadeEntity},
		{"Tx", testTx},
		{"Factors", testFactors},
		{"FactorUpdate", testFactorUpdate},
		{"PushTokenDead", testPushTokenDead},
		{"FactorCAS", testFactorCAS},
		{"Challenges", testChallenges},
		{"ChallengeQuota", testChallengeQuota},
		{"ChallengeQuotaRace", testChallengeQuotaRace},
		{"FactorQuota", testFactorQuota},
		{"ChallengeFilters", testChallengeFilters},
		{"RespondChallenge", testRespondChallenge},
		{"AccessTokens", testAccessTokens},
		{"Notifications", testNotifications},
		{"Concurrency", testConcurrency},
		{"EntityRace", testEntityRace},
		{"FactorCapRace", testFactorCapRace},
		{"NotificationRace", testNotificationRace},
		{"UpdateServiceRace", testUpdateServiceRace},
		{"Sweep", testSweep},
		{"SweepLimits", testSweepLimits},
		{"TryLock", testTryLock},
		{"Outbox", testOutbox},
		{"OutboxClaimRace", testOutboxClaimRace},
		{"OutboxHasten", testOutboxHasten},
		{"Deliveries", testDeliveries},
		{"Verifications", testVerifications},
		{"MessagingConfigurations", testMessagingConfigurations},
		{"RateLimits", testRateLimits},
		{"TakeRates", testTakeRates},
		{"CreateTotpChallenge", testCreateTotpChallenge},
		{"TotpBatch", testTotpBatch},
		{"RespondBatch", testRespondBatch},
		{"ReadBatch", testReadBatch},
		{"RespondChallengeAlone", testRespondChallengeAlone},
		{"SafeList", testSafeList},
		{"Attempts", testAttempts},
		{"AttemptFilters", testAttemptFilters},
		{"Ready", testReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// fixture is an account with one service and one entity in db.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *DB
	account *verify.Account
	service *verify.Service
	entity  *verify.Entity
}

func setup(t *testing.T, db *DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: db}
	f.account = &verify.Account{Sid: newSid(t, verify.PrefixAccount), TokenHash: []byte("hash"), DateCreated: t0}
	if err := db.PutAccount(f.ctx, f.account); err != nil {
		t.Fatal(err)
	}
	f.service = f.newService(t0)
	f.entity = f.newEntity(f.service, "user-0001", t0)
	return f
}

func newSid(t *testing.T, prefix string) verify.Sid {
	t.Helper()
	sid, err := verify.NewSid(rand.Reader, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

func (f *fixture) newService(created time.Time) *verify.Service {
	f.t.Helper()
	s := &verify.Service{
		Sid: newSid(f.t, verify.PrefixService), AccountSid: f.account.Sid,
		FriendlyName: "My App", CodeLength: 6,
		Totp:        verify.TotpSettings{Issuer: "Acme", TimeStep: 30, CodeLength: 6, Skew: 1},
		DateCreated: created, DateUpdated: created,
	}
	if err := f.db.CreateService(f.ctx, s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) newEntity(s *verify.Service, identity string, created time.Time) *verify.Entity {
	f.t.Helper()
	e := &verify.Entity{
		Sid: newSid(f.t, verify.PrefixEntity), AccountSid: s.AccountSid, ServiceSid: s.Sid,
		Identity: identity, DateCreated: created, DateUpdated: created,
	}
	if err := f.db.CreateEntity(f.ctx, e); err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) newTotp(e *verify.Entity, created time.Time) *verify.Factor {
	f.t.Helper()
	fa := &verify.Factor{
		Sid: newSid(f.t, verify.PrefixFactor), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
		EntitySid: e.Sid, Identity: e.Identity, FriendlyName: "phone",
		Type: verify.FactorTotp, Status: verify.FactorUnverified,
		Totp: &verify.TotpFactor{
			Secret: []byte("TOTP-SECRET-0123456789"), Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1,
		},
		DateCreated: created, DateUpdated: created,
	}
	if err := f.db.CreateFactor(f.ctx, fa); err != nil {
		f.t.Fatal(err)
	}
	return fa
}

func (f *fixture) newPush(e *verify.Entity, created time.Time) *verify.Factor {
	f.t.Helper()
	fa := &verify.Factor{
		Sid: newSid(f.t, verify.PrefixFactor), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
		EntitySid: e.Sid, Identity: e.Identity, FriendlyName: "iPhone",
		Type: verify.FactorPush, Status: verify.FactorUnverified,
		Metadata: map[string]string{"os": "iOS"},
		Push: &verify.PushFactor{
			PublicKey: []byte("public-key-" + string(newSid(f.t, "PK"))), Alg: "ES256",
			CredentialSid: newSid(f.t, verify.PrefixCredential), SdkVersion: "2.0.0",
			AppID: "com.example.app", NotificationPlatform: verify.PlatformAPN,
			NotificationToken: strings.Repeat("a", 64),
		},
		DateCreated: created, DateUpdated: created,
	}
	if err := f.db.CreateFactor(f.ctx, fa); err != nil {
		f.t.Fatal(err)
	}
	return fa
}

func (f *fixture) newChallenge(fa *verify.Factor, created, expires time.Time) *verify.Challenge {
	f.t.Helper()
	date := created
	c := &verify.Challenge{
		Sid: newSid(f.t, verify.PrefixChallenge), AccountSid: fa.AccountSid, ServiceSid: fa.ServiceSid,
		EntitySid: fa.EntitySid, Identity: fa.Identity, FactorSid: fa.Sid, FactorType: fa.Type,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		Details: verify.ChallengeDetails{
			Message: "Login request",
			Fields:  []verify.DetailField{{Label: "IP", Value: "10.0.0.1"}, {Label: "City", Value: "Lyon"}},
			Date:    &date,
		},
		HiddenDetails:  map[string]string{"ip": "10.0.0.1"},
		ExpirationDate: expires, DateCreated: created, DateUpdated: created,
	}
	if err := f.db.CreateChallenge(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// wantCode fails the test unless err carries the Twilio code.
func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if got := verify.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %d), want code %d", err, got, code)
	}
}

// wantEqual fails the test with a diff unless got equals want.
func wantEqual(t *testing.T, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("mismatch (-want +got):\n%s", d)
	}
}

// countRows counts the rows of table matching where, bypassing the Store
// to see what is really left in the database.
func countRows(t *testing.T, db *DB, table, where string, args ...any) int {
	t.Helper()
	var n int
	q := db.d.rebind("SELECT COUNT(*) FROM " + table + " WHERE " + where)
	if err := db.rdb.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenKeyLength(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), make([]byte, 16))
	if err == nil {
		t.Fatal("Open with a 16-byte key succeeded")
	}
}

// TestReopen checks on every backend that data survives Close, and that
// Migrate is idempotent.
func TestReopen(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := mustOpenFile(t, dsn, testKey)
		f := setup(t, db)
		fa := f.newTotp(f.entity, t0)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = mustOpenFile(t, dsn, testKey)
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		ms, err := loadMigrations(db.d)
		if err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "schema_migrations", "1 = 1"); n != len(ms) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
		}
		got, err := db.FindFactor(f.ctx, f.entity.Sid, fa.Sid)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fa, got)
		gotSvc, err := db.FindService(f.ctx, f.account.Sid, f.service.Sid)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, f.service, gotSvc)
	})
}

// TestSecretAtRest checks on every backend that a TOTP secret and a sealed
// auth token are not stored in clear (on SQLite: in none of the files) and
// do not open under another key, and that a TOTP secret does not open in
// another row (testSealedTokenBinding checks that for tokens).
func TestSecretAtRest(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := mustOpenFile(t, dsn, testKey)
		f := setup(t, db)
		fa := f.newTotp(f.entity, t0)
		other := f.newTotp(f.entity, t0)
		const authToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
		if err := db.PutAccount(f.ctx, &verify.Account{Sid: f.account.Sid, TokenHash: verify.HashToken(authToken)}); err != nil {
			t.Fatal(err)
		}
		mustSealToken(t, db, f.account.Sid, verify.TokenPrimary, authToken, true)
		var raw []byte
		if err := db.rdb.QueryRow(db.d.rebind(`SELECT totp_secret FROM factors WHERE sid = ?`),
			string(fa.Sid)).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, fa.Totp.Secret) {
			t.Fatalf("stored secret %x holds the secret in clear", raw)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		if !IsPostgres(dsn) {
			files, err := filepath.Glob(dsn + "*")
			if err != nil || len(files) == 0 {
				t.Fatalf("no database files: %v", err)
			}
			for _, name := range files {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, fa.Totp.Secret) {
					t.Fatalf("%s holds the secret in clear", name)
				}
				if bytes.Contains(b, []byte(authToken)) {
					t.Fatalf("%s holds the auth token in clear", name)
				}
			}
		}

		wrongKey := bytes.Repeat([]byte{0x11}, 32)
		db2 := mustOpenFile(t, dsn, wrongKey)
		_, err := db2.FindFactor(f.ctx, f.entity.Sid, fa.Sid)
		if err == nil || verify.ErrorCode(err) != verify.EInternal {
			t.Fatalf("FindFactor with the wrong key: err = %v, want an internal error", err)
		}
		if tok, err := db2.SigningToken(f.ctx, f.account.Sid); err == nil || errors.Is(err, verify.ErrNoSigningToken) {
			t.Fatalf("SigningToken with the wrong key = %q, %v; want it not to open", tok, err)
		}
		if err := db2.Close(); err != nil {
			t.Fatal(err)
		}

		// A sealed secret copied into another row must not open there.
		db = mustOpenFile(t, dsn, testKey)
		if _, err := db.wdb.Exec(db.d.rebind(`UPDATE factors SET totp_secret =
(SELECT totp_secret FROM factors WHERE sid = ?) WHERE sid = ?`), string(fa.Sid), string(other.Sid)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindFactor(f.ctx, f.entity.Sid, other.Sid); err == nil {
			t.Fatal("a secret copied to another factor opened")
		}
		if _, err := db.FindFactor(f.ctx, f.entity.Sid, fa.Sid); err != nil {
			t.Fatalf("original factor: %v", err)
		}
	})
}

// TestMigrateConcurrently opens one fresh database from several goroutines
// at once, as nodes starting together do: every open succeeds, and each
// migration is recorded once.
func TestMigrateConcurrently(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		const n = 4
		dbs := make([]*DB, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), dsn, testKey) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Open %d: %v", i, errs[i])
				continue
			}
			t.Cleanup(func() { _ = dbs[i].Close() })
		}
		if t.Failed() {
			return
		}
		ms, err := loadMigrations(dbs[0].d)
		if err != nil {
			t.Fatal(err)
		}
		if got := countRows(t, dbs[0], "schema_migrations", "1 = 1"); got != len(ms) {
			t.Fatalf("schema_migrations has %d rows, want %d", got, len(ms))
		}
	})
}

// TestSQLiteReaderIsReadOnly checks that the read pool refuses writes, so a
// write sent to the wrong pool fails loudly instead of racing the writer.
func TestSQLiteReaderIsReadOnly(t *testing.T) {
	db := mustOpen(t)
	_, err := db.rdb.Exec(`DELETE FROM accounts`)
	if err == nil {
		t.Fatal("write through the read pool succeeded")
	}
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}
