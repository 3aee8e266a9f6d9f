package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// factorColumns are the columns a factor read scans. They leave out
// passkey_credential_id: it only keys factors_passkey_credential, which
// FindPasskeyFactor looks factors up in, and is the credential ID that the
// passkey document holds anyway, so a read has no use for it.
const factorColumns = `sid, account_sid, service_sid, entity_sid, identity, friendly_name,
factor_type, status, metadata, failed_attempts,
totp_secret, totp_alg, totp_code_length, totp_time_step, totp_skew, totp_last_used_end,
push_public_key, push_alg, push_credential_sid, push_sdk_version, push_app_id, push_platform,
push_token, date_created, date_updated, push_token_dead, passkey`

// scanFactor reads a row of factorColumns and opens the TOTP secret. The
// Totp or Push part is set according to the factor type, as the domain
// expects.
func (s *store) scanFactor(sc scanner) (*verify.Factor, error) { return s.scanFactorRow(sc, true) }

// scanFactorRow reads a row; with open false the TOTP secret stays nil.
func (s *store) scanFactorRow(sc scanner, open bool) (*verify.Factor, error) {
	f := &verify.Factor{}
	var (
		sid, account, service, entity, typ, status string
		metadata                                   sql.NullString
		secret, publicKey                          []byte
		totpAlg                                    sql.NullString
		codeLength, timeStep, skew                 sql.NullInt64
		lastUsedEnd                                int64
		pushAlg, credential, sdk, app, platform    sql.NullString
		token                                      sql.NullString
		created, updated                           int64
		dead                                       int64
		passkeyDoc                                 sql.NullString
	)
	if err := sc.Scan(&sid, &account, &service, &entity, &f.Identity, &f.FriendlyName,
		&typ, &status, &metadata, &f.FailedAttempts,
		&secret, &totpAlg, &codeLength, &timeStep, &skew, &lastUsedEnd,
		&publicKey, &pushAlg, &credential, &sdk, &app, &platform,
		&token, &created, &updated, &dead, &passkeyDoc); err != nil {
		return nil, err
	}
	f.Sid, f.AccountSid, f.ServiceSid, f.EntitySid = verify.Sid(sid), verify.Sid(account),
		verify.Sid(service), verify.Sid(entity)
	f.Type, f.Status = verify.FactorType(typ), verify.FactorStatus(status)
	f.DateCreated, f.DateUpdated = fromUnix(created), fromUnix(updated)
	var err error
	if f.Metadata, err = unmarshalMap(metadata); err != nil {
		return nil, fmt.Errorf("factor %s metadata: %w", sid, err)
	}
	switch f.Type {
	case verify.FactorTotp:
		var plain []byte
		if open {
			if plain, err = s.unseal(f.Sid, secret); err != nil {
				return nil, fmt.Errorf("open secret of factor %s: %w", sid, err)
			}
		}
		f.Totp = &verify.TotpFactor{
			Secret:      plain,
			Alg:         totpAlg.String,
			CodeLength:  int(codeLength.Int64),
			TimeStep:    int(timeStep.Int64),
			Skew:        int(skew.Int64),
			LastUsedEnd: lastUsedEnd,
		}
	case verify.FactorPush:
		f.Push = &verify.PushFactor{
			PublicKey:            publicKey,
			Alg:                  pushAlg.String,
			CredentialSid:        verify.Sid(credential.String),
			SdkVersion:           sdk.String,
			AppID:                app.String,
			NotificationPlatform: platform.String,
			NotificationToken:    token.String,
			TokenDead:            dead != 0,
		}
	case verify.FactorPasskeys:
		if f.Passkey, err = unmarshalPasskey(passkeyDoc.String); err != nil {
			return nil, fmt.Errorf("factor %s passkey: %w", sid, err)
		}
	}
	return f, nil
}

// CreateFactor inserts the factor with its Totp or Push part, sealing the
// TOTP secret. Status and FailedAttempts are stored as given.
func (s *store) CreateFactor(ctx context.Context, f *verify.Factor) error {
	metadata, err := marshalMap(f.Metadata)
	if err != nil {
		return fmt.Errorf("sqlstore: create factor %s: %w", f.Sid, err)
	}
	var (
		secret                                             []byte
		totpAlg, codeLength, timeStep, skew                any
		lastUsedEnd                                        int64
		publicKey                                          []byte
		pushAlg, credential, sdk, app, platform, pushToken any
		dead                                               int
		passkeyDoc, passkeyID                              any
	)
	if t := f.Totp; t != nil {
		if secret, err = s.seal(f.Sid, t.Secret); err != nil {
			return fmt.Errorf("sqlstore: create factor %s: seal secret: %w", f.Sid, err)
		}
		totpAlg, codeLength, timeStep, skew = t.Alg, t.CodeLength, t.TimeStep, t.Skew
		lastUsedEnd = t.LastUsedEnd
	}
	if p := f.Push; p != nil {
		publicKey, pushAlg, credential = p.PublicKey, p.Alg, nullString(string(p.CredentialSid))
		sdk, app, platform, pushToken = p.SdkVersion, p.AppID, p.NotificationPlatform, p.NotificationToken
		if p.TokenDead {
			dead = 1
		}
	}
	if p := f.Passkey; p != nil {
		if passkeyDoc, passkeyID, err = marshalPasskey(p); err != nil {
			return fmt.Errorf("sqlstore: create factor %s: %w", f.Sid, err)
		}
	}
	_, err = s.exec(ctx, `INSERT INTO factors (`+factorColumns+`, passkey_credential_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(f.Sid), string(f.AccountSid), string(f.ServiceSid), string(f.EntitySid),
		f.Identity, f.FriendlyName, string(f.Type), string(f.Status), metadata, f.FailedAttempts,
		secret, totpAlg, codeLength, timeStep, skew, lastUsedEnd,
		publicKey, pushAlg, credential, sdk, app, platform,
		pushToken, unix(f.DateCreated), unix(f.DateUpdated), dead, passkeyDoc, passkeyID)
	if err != nil {
		return fmt.Errorf("sqlstore: create factor %s: %w", f.Sid, err)
	}
	return nil
}

// findFactor returns the one factor matching where, or notFound's error,
// made only when it is needed.
func (s *store) findFactor(ctx context.Context, what string, notFound func() error, where string, args ...any) (*verify.Factor, error) {
	f, err := s.scanFactor(s.queryRow(ctx, `SELECT `+factorColumns+` FROM factors WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find factor %s: %w", what, err)
	}
	return f, nil
}

// FindFactor returns the entity's factor, or ENotFound, also when the factor
// belongs to another entity.
// On PostgreSQL the reads that come at the same time share a statement
// (read_batch.go).
func (s *store) FindFactor(ctx context.Context, entity, sid verify.Sid) (*verify.Factor, error) {
	return readPoint(ctx, s.factorReads, s, ownedRead{entity, sid}, s.findFactorAlone)
}

// findFactorAlone is FindFactor in a statement of its own.
func (s *store) findFactorAlone(ctx context.Context, k ownedRead) (*verify.Factor, error) {
	return s.findFactor(ctx, string(k.sid), func() error { return factorNotFound(k.sid) },
		`sid = ? AND entity_sid = ?`, string(k.sid), string(k.entity))
}

// factorNotFound is the answer for a factor that is not the entity's (or
// the service's).
func factorNotFound(sid verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "Factor %s was not found", sid)
}

// FindFactorByCredential returns the push factor whose credential SID (the
// kid of the device's JWTs) is credential, or ENotFound.
// On PostgreSQL the reads that come at the same time share a statement
// (read_batch.go).
func (s *store) FindFactorByCredential(ctx context.Context, credential verify.Sid) (*verify.Factor, error) {
	return readPoint(ctx, s.credentialReads, s, credential, s.findFactorByCredentialAlone)
}

// findFactorByCredentialAlone is FindFactorByCredential in a statement of
// its own.
func (s *store) findFactorByCredentialAlone(ctx context.Context, credential verify.Sid) (*verify.Factor, error) {
	return s.findFactor(ctx, "with credential "+string(credential),
		func() error { return deviceNotFound(credential) },
		`push_credential_sid = ?`, string(credential))
}

// deviceNotFound is the answer for a device credential no factor has.
func deviceNotFound(credential verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "Factor with credential %s was not found", credential)
}

// FindPushFactorByKey returns the entity's push factor bound to publicKey,
// or ENotFound; it lets the caller refuse to bind one key twice.
func (s *store) FindPushFactorByKey(ctx context.Context, entity verify.Sid, publicKey []byte) (*verify.Factor, error) {
	return s.findFactor(ctx, "by key of "+string(entity),
		func() error { return verify.Errorf(verify.ENotFound, "Factor with this public key was not found") },
		`entity_sid = ? AND factor_type = ? AND push_public_key = ?`,
		string(entity), string(verify.FactorPush), publicKey)
}

// CountFactors counts the entity's factors of type t, to enforce the
// per-type limits. Inside a transaction it first locks the entity row until
// the transaction ends: on PostgreSQL's READ COMMITTED two nodes could
// otherwise both count 19 and both insert the 20th factor. The lock makes
// the second count wait for the first transaction and then see its factor.
func (s *store) CountFactors(ctx context.Context, entity verify.Sid, t verify.FactorType) (int, error) {
	if lock := s.lockRow(); lock != "" {
		var sid string
		err := s.queryRow(ctx, `SELECT sid FROM entities WHERE sid = ?`+lock, string(entity)).Scan(&sid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("sqlstore: lock entity %s: %w", entity, err)
		}
	}
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM factors WHERE entity_sid = ? AND factor_type = ?`,
		string(entity), string(t)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count %s factors of %s: %w", t, entity, err)
	}
	return n, nil
}

// UpdateFactor stores FriendlyName, Metadata, DateUpdated and the
// configuration of the factor's Totp or Push part (not the TOTP secret and
// last used step, nor the push key, algorithm and credential, which never
// change). ENotFound if the entity has no such factor.
func (s *store) UpdateFactor(ctx context.Context, f *verify.Factor) error {
	metadata, err := marshalMap(f.Metadata)
	if err != nil {
		return fmt.Errorf("sqlstore: update factor %s: %w", f.Sid, err)
	}
	sets := []string{"friendly_name = ?", "metadata = ?", "date_updated = ?"}
	args := []any{f.FriendlyName, metadata, unix(f.DateUpdated)}
	if t := f.Totp; t != nil {
		sets = append(sets, "totp_alg = ?", "totp_code_length = ?", "totp_time_step = ?", "totp_skew = ?")
		args = append(args, t.Alg, t.CodeLength, t.TimeStep, t.Skew)
	}
	if p := f.Push; p != nil {
		// A different token is live again; the same one stays dead. The
		// CASE reads the row's old token: both dialects evaluate every SET
		// expression against the row as it was.
		sets = append(sets, "push_sdk_version = ?", "push_app_id = ?", "push_platform = ?", "push_token = ?",
			"push_token_dead = CASE WHEN push_token = ? THEN push_token_dead ELSE 0 END")
		args = append(args, p.SdkVersion, p.AppID, p.NotificationPlatform, p.NotificationToken, p.NotificationToken)
	}
	args = append(args, string(f.Sid), string(f.EntitySid))
	ok, err := s.execOne(ctx, `UPDATE factors SET `+strings.Join(sets, ", ")+
		` WHERE sid = ? AND entity_sid = ?`, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: update factor %s: %w", f.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Factor %s was not found", f.Sid)
	}
	return nil
}

// KillPushToken sets push_token_dead in one compare-and-swap on the token
// that was refused, so that a token the device replaced meanwhile is not
// marked dead.
func (s *store) KillPushToken(ctx context.Context, factor verify.Sid, token string) (bool, error) {
	ok, err := s.execOne(ctx, `UPDATE factors SET push_token_dead = 1
WHERE sid = ? AND push_token = ? AND push_token_dead = 0`, string(factor), token)
	if err != nil {
		return false, fmt.Errorf("sqlstore: kill push token of factor %s: %w", factor, err)
	}
	return ok, nil
}

// VerifyFactor moves the factor from unverified to verified in one
// compare-and-swap, so two concurrent verifications cannot both succeed.
// ENotFound if it does not exist, EFactorState if it is not unverified.
func (s *store) VerifyFactor(ctx context.Context, sid verify.Sid, now time.Time) error {
	ok, err := s.execOne(ctx, `UPDATE factors SET status = ?, date_updated = ?, failed_attempts = 0
WHERE sid = ? AND status = ?`,
		string(verify.FactorVerified), unix(now), string(sid), string(verify.FactorUnverified))
	if err != nil {
		return fmt.Errorf("sqlstore: verify factor %s: %w", sid, err)
	}
	if ok {
		return nil
	}
	if err := s.factorExists(ctx, sid); err != nil {
		return err
	}
	return verify.Errorf(verify.EFactorState, "Factor %s is not unverified", sid)
}

// factorExists returns nil if the factor exists and ENotFound otherwise; it
// tells why a compare-and-swap on the factor changed nothing.
func (s *store) factorExists(ctx context.Context, sid verify.Sid) error {
	return s.rowExists(ctx, "factors", "Factor", sid)
}

// rowExists returns nil if table has the row sid and ENotFound, naming it
// noun, otherwise. It reads through the writer, so inside a transaction it
// sees the transaction's own changes.
func (s *store) rowExists(ctx context.Context, table, noun string, sid verify.Sid) error {
	var n int
	err := s.queryRowW(ctx, `SELECT COUNT(*) FROM `+table+` WHERE sid = ?`, string(sid)).Scan(&n)
	if err != nil {
		return fmt.Errorf("sqlstore: find %s %s: %w", table, sid, err)
	}
	if n == 0 {
		return verify.Errorf(verify.ENotFound, "%s %s was not found", noun, sid)
	}
	return nil
}

// UseTotpStep records that the factor accepted the code of the time step
// [start, end), unless a code of a step ending after start was accepted
// before: then it returns false, and the code is a replay.
func (s *store) UseTotpStep(ctx context.Context, factor verify.Sid, start, end int64) (bool, error) {
	ok, err := s.execOne(ctx, `UPDATE factors SET totp_last_used_end = ?
WHERE sid = ? AND totp_last_used_end <= ?`, end, string(factor), start)
	if err != nil {
		return false, fmt.Errorf("sqlstore: use totp step of factor %s: %w", factor, err)
	}
	if ok {
		return true, nil
	}
	if err := s.factorExists(ctx, factor); err != nil {
		return false, err
	}
	return false, nil
}

// TakeFactorAttempt reserves an attempt with one conditional UPDATE, as
// TakeChallengeAttempt does for challenges.
func (s *store) TakeFactorAttempt(ctx context.Context, factor verify.Sid, limit int) (int, error) {
	var n int
	err := s.atomic(ctx, func(t *store) error {
		err := t.queryRowW(ctx, `UPDATE factors SET failed_attempts = failed_attempts + 1
WHERE sid = ? AND status = ? AND failed_attempts < ?
RETURNING failed_attempts`, string(factor), string(verify.FactorUnverified), limit).Scan(&n)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var status string
		var failed int
		err = t.queryRowW(ctx, `SELECT status, failed_attempts FROM factors WHERE sid = ?`,
			string(factor)).Scan(&status, &failed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return verify.Errorf(verify.ENotFound, "Factor %s was not found", factor)
		case err != nil:
			return err
		case verify.FactorStatus(status) != verify.FactorUnverified:
			return verify.Errorf(verify.EFactorState, "Factor %s is not unverified", factor)
		case failed >= limit:
			return verify.Errorf(verify.EFactorTries, "Max verification attempts reached for this factor")
		}
		return fmt.Errorf("factor %s is unverified with %d of %d attempts, yet none was taken", factor, failed, limit)
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: take an attempt of factor %s: %w", factor, err)
	}
	return n, err
}

// DeleteFactor deletes the entity's factor; its challenges and their
// notifications go with it. ENotFound if there is no such factor.
func (s *store) DeleteFactor(ctx context.Context, entity, sid verify.Sid) error {
	return s.atomic(ctx, func(t *store) error {
		// The factor's challenges first, found through the entity's index:
		// on SQLite no foreign key cascades to them (migration 0003). Their
		// notifications cascade from them.
		if _, err := t.exec(ctx, `DELETE FROM challenges WHERE entity_sid = ? AND factor_sid = ?`,
			string(entity), string(sid)); err != nil {
			return fmt.Errorf("sqlstore: delete challenges of factor %s: %w", sid, err)
		}
		ok, err := t.execOne(ctx, `DELETE FROM factors WHERE sid = ? AND entity_sid = ?`,
			string(sid), string(entity))
		if err != nil {
			return fmt.Errorf("sqlstore: delete factor %s: %w", sid, err)
		}
		if !ok {
			return verify.Errorf(verify.ENotFound, "Factor %s was not found", sid)
		}
		return nil
	})
}

// ListFactors pages through the entity's factors.
func (s *store) ListFactors(ctx context.Context, entity verify.Sid, p verify.Page) ([]*verify.Factor, bool, error) {
	r := newFactorListReader(entity, p.Size)
	items, more, err := list(ctx, s, `SELECT `+factorListColumns+` FROM factors`,
		[]string{"entity_sid = ?"}, []any{string(entity)}, p, r.scan)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list factors of %s: %w", entity, err)
	}
	return items, more, nil
}

// TotpLastUsed reads the ends of the last time steps the entity's TOTP
// factors accepted, which ListFactors leaves out; see verify.Store.
func (s *store) TotpLastUsed(ctx context.Context, entity verify.Sid) (map[verify.Sid]int64, error) {
	used, err := rowsByKey(ctx, s.query, `SELECT sid, totp_last_used_end FROM factors
WHERE entity_sid = ? AND factor_type = ? AND totp_last_used_end > 0`, []any{string(entity), string(verify.FactorTotp)},
		func(sc scanner) (verify.Sid, int64, error) {
			var sid string
			var end int64
			err := sc.Scan(&sid, &end)
			return verify.Sid(sid), end, err
		})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: last used steps of %s: %w", entity, err)
	}
	return used, nil
}

// factorListColumns are the columns a list reads: factorColumns without
// totp_secret and totp_last_used_end, which a list never shows (the listed
// factors' Totp.Secret is nil and Totp.LastUsedEnd 0), and without
// entity_sid, which the list filters on. On SQLite they are all in the
// index the list reads (migration 0021), which could not hold
// totp_last_used_end without every TOTP check rewriting its entry there.
// Every column of every row is also a few driver calls, a conversion and
// usually an allocation; a page of 50 spent more time there than in the
// query itself.
const factorListColumns = `sid, account_sid, service_sid, identity, friendly_name,
factor_type, status, metadata, failed_attempts,
totp_alg, totp_code_length, totp_time_step, totp_skew,
push_public_key, push_alg, push_credential_sid, push_sdk_version, push_app_id, push_platform,
push_token, date_created, date_updated, passkey`

const factorListWidth = 23 // the number of factorListColumns

// factorListReader reads the rows of one ListFactors call. It scans every
// column into an any, the one destination database/sql fills without
// reflection or a conversion of its own, and reuses those destinations
// from row to row; the factors and their TOTP parts come from one slab
// each. Scanning into typed locals cost about twenty allocations a row.
type factorListReader struct {
	entity verify.Sid
	vals   [factorListWidth]any
	dest   [factorListWidth]any // pointers to vals
	slab   []verify.Factor
	totp   []verify.TotpFactor
}

func newFactorListReader(entity verify.Sid, size int) *factorListReader {
	if size <= 0 {
		size = defaultPageSize
	}
	n := min(size+1, 128) // list reads one row more than the page
	r := &factorListReader{entity: entity, slab: make([]verify.Factor, 0, n), totp: make([]verify.TotpFactor, 0, n)}
	for i := range r.vals {
		r.dest[i] = &r.vals[i]
	}
	return r
}

// scan reads one row of factorListColumns into a factor equal to what
// scanFactorRow(sc, false) returns for a row of factorColumns, but for a
// push factor's TokenDead, which a list leaves false: only sending a push
// reads it, and that reads the factor itself (FindFactor), so a list
// reading one more column per row for it would pay for nothing. A TOTP
// factor's LastUsedEnd stays 0 too (factorListColumns); TotpLastUsed reads
// it for the entity's factors.
func (r *factorListReader) scan(sc scanner) (*verify.Factor, error) {
	if err := sc.Scan(r.dest[:]...); err != nil {
		return nil, err
	}
	f := r.newFactor()
	v, c := &r.vals, colReader{}
	f.Sid, f.AccountSid, f.ServiceSid, f.EntitySid = verify.Sid(c.str(v[0])), verify.Sid(c.str(v[1])),
		verify.Sid(c.str(v[2])), r.entity
	f.Identity, f.FriendlyName = c.str(v[3]), c.str(v[4])
	f.Type, f.Status = verify.FactorType(c.str(v[5])), verify.FactorStatus(c.str(v[6]))
	metadata := sql.NullString{String: c.str(v[7]), Valid: v[7] != nil}
	f.FailedAttempts = int(c.int(v[8]))
	f.DateCreated, f.DateUpdated = fromUnix(c.int(v[20])), fromUnix(c.int(v[21]))
	switch f.Type {
	case verify.FactorTotp:
		f.Totp = r.newTotp()
		*f.Totp = verify.TotpFactor{Alg: c.str(v[9]), CodeLength: int(c.int(v[10])), TimeStep: int(c.int(v[11])),
			Skew: int(c.int(v[12]))}
	case verify.FactorPush:
		f.Push = &verify.PushFactor{PublicKey: c.bytes(v[13]), Alg: c.str(v[14]), CredentialSid: verify.Sid(c.str(v[15])),
			SdkVersion: c.str(v[16]), AppID: c.str(v[17]), NotificationPlatform: c.str(v[18]), NotificationToken: c.str(v[19])}
	case verify.FactorPasskeys:
		p, err := unmarshalPasskey(c.str(v[22]))
		if err != nil {
			return nil, fmt.Errorf("factor %s passkey: %w", f.Sid, err)
		}
		f.Passkey = p
	}
	if c.err != nil {
		return nil, fmt.Errorf("factor %s: %w", f.Sid, c.err)
	}
	var err error
	if f.Metadata, err = unmarshalMap(metadata); err != nil {
		return nil, fmt.Errorf("factor %s metadata: %w", f.Sid, err)
	}
	return f, nil
}

// newFactor returns the next zero factor of the slab; a page asking for
// more than the slab holds gets the rest one by one.
func (r *factorListReader) newFactor() *verify.Factor {
	if len(r.slab) == cap(r.slab) {
		return new(verify.Factor)
	}
	r.slab = r.slab[:len(r.slab)+1]
	return &r.slab[len(r.slab)-1]
}

func (r *factorListReader) newTotp() *verify.TotpFactor {
	if len(r.totp) == cap(r.totp) {
		return new(verify.TotpFactor)
	}
	r.totp = r.totp[:len(r.totp)+1]
	return &r.totp[len(r.totp)-1]
}

// colReader converts the values database/sql puts into an any destination:
// string or []byte for text (drivers differ), int64 for integers, []byte
// for blobs, nil for NULL, which reads as the zero value as the Null*
// types' fields do. Any other type is an error, kept in err.
type colReader struct{ err error }

func (c *colReader) str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	c.fail("text", v)
	return ""
}

func (c *colReader) int(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case nil:
		return 0
	}
	c.fail("integer", v)
	return 0
}

// bytes returns a blob; database/sql has already copied it out of the
// driver's buffer for an any destination.
func (c *colReader) bytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	case nil:
		return nil
	}
	c.fail("blob", v)
	return nil
}

func (c *colReader) fail(want string, v any) {
	if c.err == nil {
		c.err = fmt.Errorf("column of type %T where %s was expected", v, want)
	}
}
