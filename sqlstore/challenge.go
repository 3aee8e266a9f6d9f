package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// challengeDetails is the JSON document in challenges.details. Date is Unix
// seconds, like every stored time.
type challengeDetails struct {
	Message string        `json:"message"`
	Fields  []detailField `json:"fields"`
	Date    *int64        `json:"date,omitempty"`
}

type detailField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

func marshalDetails(d verify.ChallengeDetails) (string, error) {
	cd := challengeDetails{Message: d.Message}
	if d.Fields != nil {
		cd.Fields = make([]detailField, len(d.Fields))
		for i, f := range d.Fields {
			cd.Fields[i] = detailField(f)
		}
	}
	if d.Date != nil {
		x := d.Date.Unix()
		cd.Date = &x
	}
	b, err := json.Marshal(cd)
	return string(b), err
}

func unmarshalDetails(s string) (verify.ChallengeDetails, error) {
	var cd challengeDetails
	if err := json.Unmarshal([]byte(s), &cd); err != nil {
		return verify.ChallengeDetails{}, err
	}
	d := verify.ChallengeDetails{Message: cd.Message}
	if cd.Fields != nil {
		d.Fields = make([]verify.DetailField, len(cd.Fields))
		for i, f := range cd.Fields {
			d.Fields[i] = verify.DetailField(f)
		}
	}
	if cd.Date != nil {
		t := fromUnix(*cd.Date)
		d.Date = &t
	}
	return d, nil
}

const challengeColumns = `sid, account_sid, service_sid, entity_sid, identity, factor_sid,
factor_type, status, responded_reason, details, hidden_details, metadata, expiration_date,
date_created, date_updated, date_responded, failed_attempts`

func scanChallenge(sc scanner) (*verify.Challenge, error) {
	c := &verify.Challenge{}
	var (
		sid, account, service, entity, factor, typ, status, details string
		hidden, metadata                                            sql.NullString
		expires, created, updated                                   int64
		responded                                                   sql.NullInt64
	)
	if err := sc.Scan(&sid, &account, &service, &entity, &c.Identity, &factor,
		&typ, &status, &c.RespondedReason, &details, &hidden, &metadata, &expires,
		&created, &updated, &responded, &c.FailedAttempts); err != nil {
		return nil, err
	}
	c.Sid, c.AccountSid, c.ServiceSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service)
	c.EntitySid, c.FactorSid = verify.Sid(entity), verify.Sid(factor)
	c.FactorType, c.Status = verify.FactorType(typ), verify.ChallengeStatus(status)
	c.ExpirationDate, c.DateCreated, c.DateUpdated = fromUnix(expires), fromUnix(created), fromUnix(updated)
	c.DateResponded = fromUnixPtr(responded)
	var err error
	if c.Details, err = unmarshalDetails(details); err != nil {
		return nil, fmt.Errorf("challenge %s details: %w", sid, err)
	}
	if c.HiddenDetails, err = unmarshalMap(hidden); err != nil {
		return nil, fmt.Errorf("challenge %s hidden details: %w", sid, err)
	}
	if c.Metadata, err = unmarshalMap(metadata); err != nil {
		return nil, fmt.Errorf("challenge %s metadata: %w", sid, err)
	}
	return c, nil
}

// CreateChallenge inserts the challenge; the caller has set every field.
func (s *store) CreateChallenge(ctx context.Context, c *verify.Challenge) error {
	details, hidden, metadata, err := challengeJSON(c)
	if err != nil {
		return err
	}
	// Only while the factor exists: on SQLite no foreign key checks it
	// (migration 0003), and a factor deleted since the caller read it must
	// not leave a challenge behind. PostgreSQL's foreign key also holds.
	ok, err := s.execOne(ctx, `INSERT INTO challenges (`+challengeColumns+`)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
WHERE EXISTS (SELECT 1 FROM factors WHERE sid = ? AND entity_sid = ?)`,
		string(c.Sid), string(c.AccountSid), string(c.ServiceSid), string(c.EntitySid),
		c.Identity, string(c.FactorSid), string(c.FactorType), string(c.Status),
		c.RespondedReason, details, hidden, metadata, unix(c.ExpirationDate),
		unix(c.DateCreated), unix(c.DateUpdated), unixPtr(c.DateResponded), c.FailedAttempts,
		string(c.FactorSid), string(c.EntitySid))
	if err != nil {
		return fmt.Errorf("sqlstore: create challenge %s: %w", c.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "The resource this request refers to was deleted")
	}
	return nil
}

// challengeJSON encodes the JSON columns of c.
func challengeJSON(c *verify.Challenge) (details string, hidden, metadata any, err error) {
	if details, err = marshalDetails(c.Details); err == nil {
		if hidden, err = marshalMap(c.HiddenDetails); err == nil {
			metadata, err = marshalMap(c.Metadata)
		}
	}
	if err != nil {
		err = fmt.Errorf("sqlstore: create challenge %s: %w", c.Sid, err)
	}
	return details, hidden, metadata, err
}

// FindChallenge returns the entity's challenge with its stored status, or
// ENotFound, also when it belongs to another entity.
// On PostgreSQL the reads that come at the same time share a statement
// (read_batch.go).
func (s *store) FindChallenge(ctx context.Context, entity, sid verify.Sid) (*verify.Challenge, error) {
	return readPoint(ctx, s.challengeReads, s, ownedRead{entity, sid}, s.findChallengeAlone)
}

// findChallengeAlone is FindChallenge in a statement of its own.
func (s *store) findChallengeAlone(ctx context.Context, k ownedRead) (*verify.Challenge, error) {
	return s.findChallenge(ctx, k.sid, "entity_sid", k.entity)
}

// challengeNotFound is FindChallenge's answer for a challenge that is not
// the entity's.
func challengeNotFound(sid verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "Challenge %s was not found", sid)
}

// findChallenge returns the challenge sid if its column owner (its entity,
// or its service) is owned; ENotFound otherwise.
func (s *store) findChallenge(ctx context.Context, sid verify.Sid, owner string, owned verify.Sid) (*verify.Challenge, error) {
	c, err := scanChallenge(s.queryRow(ctx, `SELECT `+challengeColumns+` FROM challenges
WHERE sid = ? AND `+owner+` = ?`, string(sid), string(owned)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, challengeNotFound(sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find challenge %s: %w", sid, err)
	}
	return c, nil
}

// ListChallenges pages through the entity's challenges, optionally of one
// factor and one status. The status filter reads the status at f.Now:
// "expired" selects the challenges the sweep marked expired and the pending
// ones at or past their expiration date, and "pending" only those before it.
// The challenges come back with their stored status; the domain resolves
// "expired".
func (s *store) ListChallenges(ctx context.Context, entity verify.Sid, f verify.ChallengeFilter,
	p verify.Page) ([]*verify.Challenge, bool, error) {
	where := []string{"entity_sid = ?"}
	args := []any{string(entity)}
	if f.FactorSid != "" {
		where = append(where, "factor_sid = ?")
		args = append(args, string(f.FactorSid))
	}
	switch f.Status {
	case "":
	case verify.ChallengeExpired:
		where = append(where, "(status = ? OR (status = ? AND expiration_date <= ?))")
		args = append(args, string(verify.ChallengeExpired), string(verify.ChallengePending), unix(f.Now))
	case verify.ChallengePending:
		where = append(where, "status = ?", "expiration_date > ?")
		args = append(args, string(verify.ChallengePending), unix(f.Now))
	default:
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	items, more, err := list(ctx, s, `SELECT `+challengeColumns+` FROM challenges`,
		where, args, p, scanChallenge)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list challenges of %s: %w", entity, err)
	}
	return items, more, nil
}

// RespondChallenge moves a pending challenge that has not expired at now to
// status in one compare-and-swap, so that of two concurrent responses
// exactly one wins. Metadata replaces the stored metadata only if not nil.
// The loser learns why: ENotFound, EChallengeExpire (marked expired by the
// sweep, or still pending but expired at now) or EChallengeDone (approved or
// denied).
func (s *store) RespondChallenge(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus,
	reason string, metadata map[string]string, now time.Time) error {
	return s.respond(ctx, sid, status, reason, metadata, now, 0)
}

// RespondChallengeAlone is RespondChallenge in one autocommit statement on
// PostgreSQL when the service has no webhook, whose event would have to be
// written with the answer; see verify.Store.
func (s *store) RespondChallengeAlone(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus,
	reason string, metadata map[string]string, now time.Time) (bool, error) {
	if !s.d.roundTrips() || s.inTx() {
		return false, nil
	}
	if s.answers == nil {
		return s.tryRespond(ctx, sid, status, reason, metadata, now, 0, noWebhookGuard)
	}
	// Shared with the answers that come at the same time (respond_batch.go).
	r := s.answers.submit(ctx, &respondJob{sid, status, reason, metadata, now},
		func(err error) respondResult { return respondResult{err: err} })
	return r.ok, r.err
}

// ApproveChallenge approves the challenge as RespondChallenge does and
// gives back the attempt TakeChallengeAttempt reserved for the right code,
// in the same statement.
func (s *store) ApproveChallenge(ctx context.Context, sid verify.Sid, metadata map[string]string, now time.Time) error {
	return s.respond(ctx, sid, verify.ChallengeApproved, verify.ReasonNone, metadata, now, 1)
}

// respond answers a pending challenge, or says why it cannot.
func (s *store) respond(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus,
	reason string, metadata map[string]string, now time.Time, giveBack int) error {
	ok, err := s.tryRespond(ctx, sid, status, reason, metadata, now, giveBack, "")
	if err != nil || ok {
		return err
	}
	_, err = s.notPending(ctx, sid, now)
	if err == nil {
		err = fmt.Errorf("sqlstore: respond to challenge %s: the row did not change", sid)
	}
	return err
}

// tryRespond is the compare-and-swap of an answer: it changes the
// challenge only while it is pending and unexpired and guard (an extra
// condition, or "") holds, and reports whether it did.
func (s *store) tryRespond(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus,
	reason string, metadata map[string]string, now time.Time, giveBack int, guard string) (bool, error) {
	meta, err := marshalMap(metadata)
	if err != nil {
		return false, fmt.Errorf("sqlstore: respond to challenge %s: %w", sid, err)
	}
	ok, err := s.execOne(ctx, `UPDATE challenges SET status = ?, responded_reason = ?,
date_responded = ?, date_updated = ?, metadata = COALESCE(?, metadata),
failed_attempts = failed_attempts - ?
WHERE sid = ? AND status = ? AND expiration_date > ?`+guard,
		string(status), reason, unix(now), unix(now), meta, giveBack,
		string(sid), string(verify.ChallengePending), unix(now))
	if err != nil {
		return false, fmt.Errorf("sqlstore: respond to challenge %s: %w", sid, err)
	}
	return ok, nil
}

// TakeChallengeAttempt reserves an attempt with one conditional UPDATE: on
// PostgreSQL a concurrent one waits for the row lock and then re-checks
// the condition against the committed row, on SQLite writes are serial,
// so at most limit reservations ever succeed. It runs in a transaction of
// its own when called outside one, so that the count it reads back is the
// one it wrote.
func (s *store) TakeChallengeAttempt(ctx context.Context, challenge verify.Sid, limit int, now time.Time) (int, error) {
	var n int
	err := s.atomic(ctx, func(t *store) error {
		err := t.queryRowW(ctx, `UPDATE challenges SET failed_attempts = failed_attempts + 1
WHERE sid = ? AND status = ? AND expiration_date > ? AND failed_attempts < ?
RETURNING failed_attempts`, string(challenge), string(verify.ChallengePending), unix(now), limit).Scan(&n)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		failed, err := t.notPending(ctx, challenge, now)
		if err != nil {
			return err
		}
		if failed >= limit {
			return verify.Errorf(verify.EChallengeTries, "Max attempts reached for this challenge")
		}
		return fmt.Errorf("challenge %s is pending with %d of %d attempts, yet none was taken", challenge, failed, limit)
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: take an attempt of challenge %s: %w", challenge, err)
	}
	return n, err
}

// notPending tells why a compare-and-swap on a pending challenge changed
// nothing: ENotFound, EChallengeExpire (marked expired by the sweep, or
// still pending but expired at now) or EChallengeDone (approved or
// denied). For a challenge still pending at now it returns nil and the
// stored count of failed attempts.
func (s *store) notPending(ctx context.Context, sid verify.Sid, now time.Time) (int, error) {
	var stored string
	var expires int64
	var failed int
	err := s.queryRowW(ctx, `SELECT status, expiration_date, failed_attempts FROM challenges WHERE sid = ?`,
		string(sid)).Scan(&stored, &expires, &failed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, verify.Errorf(verify.ENotFound, "Challenge %s was not found", sid)
	case err != nil:
		return 0, fmt.Errorf("sqlstore: read challenge %s: %w", sid, err)
	case verify.ChallengeStatus(stored) == verify.ChallengeExpired,
		verify.ChallengeStatus(stored) == verify.ChallengePending && unix(now) >= expires:
		return 0, verify.Errorf(verify.EChallengeExpire, "Challenge %s has expired", sid)
	case verify.ChallengeStatus(stored) != verify.ChallengePending:
		return 0, verify.Errorf(verify.EChallengeDone, "Challenge %s was already responded to", sid)
	}
	return failed, nil
}
