package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

const entityColumns = `sid, account_sid, service_sid, identity, date_created, date_updated`

func scanEntity(sc scanner) (*verify.Entity, error) {
	e := &verify.Entity{}
	var sid, account, service string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &service, &e.Identity, &created, &updated); err != nil {
		return nil, err
	}
	e.Sid, e.AccountSid, e.ServiceSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service)
	e.DateCreated, e.DateUpdated = fromUnix(created), fromUnix(updated)
	return e, nil
}

// CreateEntity inserts the entity. The UNIQUE (service_sid, identity)
// constraint, not a prior lookup, decides a race between two creates of the
// same identity: the loser gets EEntityExists. ON CONFLICT DO NOTHING makes
// the loser learn it from the rows affected rather than from an error,
// because on PostgreSQL an error aborts the surrounding transaction, and a
// caller inside Tx (create factor finds or creates its entity) must be able
// to read the winner's entity instead.
func (s *store) CreateEntity(ctx context.Context, e *verify.Entity) error {
	ok, err := s.execOne(ctx, `INSERT INTO entities (`+entityColumns+`) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (service_sid, identity) DO NOTHING`,
		string(e.Sid), string(e.AccountSid), string(e.ServiceSid), e.Identity,
		unix(e.DateCreated), unix(e.DateUpdated))
	if err == nil && !ok || s.d.isUnique(err) {
		return &verify.Error{Code: verify.EEntityExists, Message: "Entity already exists", Err: err}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create entity %s: %w", e.Sid, err)
	}
	return nil
}

// FindEntity returns the service's entity with the identity, or ENotFound.
// Inside a transaction it also locks the entity until the transaction ends,
// so that what the transaction then decides about the entity's factors
// (binding taken? cap reached?) is decided by one node at a time.
// On PostgreSQL the reads that come at the same time, outside a
// transaction, share a statement (read_batch.go).
func (s *store) FindEntity(ctx context.Context, service verify.Sid, identity string) (*verify.Entity, error) {
	return readPoint(ctx, s.entityReads, s, entityKey{service, identity}, s.findEntityAlone)
}

// entityNotFound is the answer for an identity the service does not have.
func entityNotFound(identity string) error {
	return verify.Errorf(verify.ENotFound, "Entity %s was not found", identity)
}

// findEntityAlone is FindEntity in a statement of its own.
func (s *store) findEntityAlone(ctx context.Context, k entityKey) (*verify.Entity, error) {
	service, identity := k.service, k.identity
	e, err := scanEntity(s.queryRow(ctx, `SELECT `+entityColumns+` FROM entities
WHERE service_sid = ? AND identity = ?`+s.lockRow(), string(service), identity))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, entityNotFound(identity)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find entity %s: %w", identity, err)
	}
	return e, nil
}

// DeleteEntity deletes the entity; the foreign keys cascade to its factors,
// challenges and notifications. ENotFound if there is no such entity.
func (s *store) DeleteEntity(ctx context.Context, service verify.Sid, identity string) error {
	ok, err := s.execOne(ctx, `DELETE FROM entities WHERE service_sid = ? AND identity = ?`,
		string(service), identity)
	if err != nil {
		return fmt.Errorf("sqlstore: delete entity %s: %w", identity, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Entity %s was not found", identity)
	}
	return nil
}

// ListEntities pages through the service's entities.
func (s *store) ListEntities(ctx context.Context, service verify.Sid, p verify.Page) ([]*verify.Entity, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+entityColumns+` FROM entities`,
		[]string{"service_sid = ?"}, []any{string(service)}, p, scanEntity)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list entities of %s: %w", service, err)
	}
	return items, more, nil
}
