package sqlstore

import (
	"context"
	"fmt"

	"github.com/verifyd/verify"
)

// A TOTP check or a push answer on PostgreSQL reads its factor or its
// challenge before it writes: the factor cache's entries live a second on
// a shared database, so most checks read. Those point reads are batched
// like the writes (batch.go): per read, the round trip and its system calls
// cost verifyd more than the row costs PostgreSQL.

// ownedRead is a read of the row sid, which must belong to entity.
type ownedRead struct{ entity, sid verify.Sid }

type readResult[T any] struct {
	v   *T
	err error
}

// ownedRows describes one table's batched point read: the query (in
// PostgreSQL's placeholders) that reads many rows by an array of SIDs, how to scan a row and name its SID and
// entity, the lone read, and the lone read's not-found error.
type ownedRows[T any] struct {
	what     string
	query    string
	scan     func(scanner) (*T, error)
	owner    func(*T) (sid, entity verify.Sid)
	one      func(ctx context.Context, entity, sid verify.Sid) (*T, error)
	notFound func(sid verify.Sid) error
}

func newReadBatcher[T any](s *store, o ownedRows[T]) *batcher[ownedRead, readResult[T]] {
	return newBatcher(func(r ownedRead) verify.Sid { return r.sid },
		func(ctx context.Context, reads []ownedRead) ([]readResult[T], error) {
			return readOwned(ctx, s, o, reads)
		},
		func(ctx context.Context, r ownedRead) readResult[T] {
			v, err := o.one(ctx, r.entity, r.sid)
			return readResult[T]{v, err}
		})
}

// readOwned reads the rows of reads, whose SIDs are all different, in one
// statement, and answers each as the lone read would: the row, or not
// found when it is missing or another entity's.
func readOwned[T any](ctx context.Context, s *store, o ownedRows[T], reads []ownedRead) ([]readResult[T], error) {
	sids := make([]string, len(reads))
	for k, r := range reads {
		sids[k] = string(r.sid)
	}
	type owned struct {
		v      *T
		entity verify.Sid
	}
	found, err := rowsBySid(ctx, s.r, o.query, []any{sids}, func(sc scanner) (verify.Sid, owned, error) {
		v, err := o.scan(sc)
		if err != nil {
			return "", owned{}, err
		}
		sid, entity := o.owner(v)
		return sid, owned{v, entity}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find %d %s: %w", len(reads), o.what, err)
	}
	out := make([]readResult[T], len(reads))
	for k, r := range reads {
		if f, ok := found[r.sid]; ok && f.entity == r.entity {
			out[k].v = f.v
		} else {
			out[k].err = o.notFound(r.sid)
		}
	}
	return out, nil
}

type factorReads = batcher[ownedRead, readResult[verify.Factor]]
type challengeReads = batcher[ownedRead, readResult[verify.Challenge]]

func newFactorReads(s *store) *factorReads { return newReadBatcher(s, factorRows(s)) }

func newChallengeReads(s *store) *challengeReads { return newReadBatcher(s, challengeRows(s)) }

func factorRows(s *store) ownedRows[verify.Factor] {
	return ownedRows[verify.Factor]{
		what:     "factors",
		query:    `SELECT ` + factorColumns + ` FROM factors WHERE sid = ANY($1::text[])`,
		scan:     s.scanFactor,
		owner:    func(f *verify.Factor) (verify.Sid, verify.Sid) { return f.Sid, f.EntitySid },
		one:      s.findFactorAlone,
		notFound: factorNotFound,
	}
}

func challengeRows(s *store) ownedRows[verify.Challenge] {
	return ownedRows[verify.Challenge]{
		what:  "challenges",
		query: `SELECT ` + challengeColumns + ` FROM challenges WHERE sid = ANY($1::text[])`,
		scan:  scanChallenge,
		owner: func(c *verify.Challenge) (verify.Sid, verify.Sid) { return c.Sid, c.EntitySid },
		one: func(ctx context.Context, entity, sid verify.Sid) (*verify.Challenge, error) {
			return s.findChallenge(ctx, sid, "entity_sid", entity)
		},
		notFound: challengeNotFound,
	}
}

// readAlone reads r through b when there is one (PostgreSQL, outside a
// transaction), or with the lone read.
func readAlone[T any](ctx context.Context, b *batcher[ownedRead, readResult[T]], s *store, r ownedRead, one func(context.Context, verify.Sid, verify.Sid) (*T, error)) (*T, error) {
	if b == nil || s.inTx() {
		return one(ctx, r.entity, r.sid)
	}
	res := b.submit(ctx, r, func(err error) readResult[T] { return readResult[T]{err: err} })
	return res.v, res.err
}
