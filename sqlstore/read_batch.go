package sqlstore

import (
	"context"
	"fmt"

	"github.com/verifyd/verify"
)

// A TOTP check or a push answer on PostgreSQL reads rows before it writes:
// its factor or its challenge, and a push answer the device's factor (by
// the credential its JWT names) and its entity. The cache's entries live a
// second on a shared database, and a write made while a row is read keeps
// that row out of the cache, so under load most of these reads reach
// PostgreSQL. They are batched like the writes (batch.go): per read, the
// round trip and its system calls cost verifyd more than the row costs
// PostgreSQL, and each statement costs PostgreSQL more than its rows.

// pointRows describes one table's batched point read by a key K that names
// at most one row: the query (in PostgreSQL's placeholders) that reads the
// rows of many keys, its arguments for those keys, how to scan a row and
// name the key it answers, the lone read, and the lone read's not-found
// error. The query returns a row per key given, the key's ordinal (from 1)
// first: keys may repeat, and each read of a repeated key gets a row of its
// own, so that no two callers share one mutable row.
type pointRows[K comparable, T any] struct {
	what     string
	query    string
	args     func(keys []K) []any
	scan     func(scanner) (*T, error)
	key      func(*T) K
	one      func(ctx context.Context, k K) (*T, error)
	notFound func(k K) error
}

type readResult[T any] struct {
	v   *T
	err error
}

type pointReads[K comparable, T any] = batcher[K, K, readResult[T]]

// newPointReads batches p's reads. They have no key: reads of one row go
// into one statement too, each with a row of its own (pointRows).
func newPointReads[K comparable, T any](s *store, p pointRows[K, T]) *pointReads[K, T] {
	return newBatcher[K, K, readResult[T]](nil,
		func(ctx context.Context, keys []K) ([]readResult[T], error) {
			return readPoints(ctx, s, p, keys)
		},
		func(ctx context.Context, k K) readResult[T] {
			v, err := p.one(ctx, k)
			return readResult[T]{v, err}
		})
}

// readPoints reads the rows of keys in one statement, and answers each as
// the lone read would: its row, or not found.
func readPoints[K comparable, T any](ctx context.Context, s *store, p pointRows[K, T], keys []K) ([]readResult[T], error) {
	found, err := rowsByKey(ctx, s.r.QueryContext, p.query, p.args(keys), func(sc scanner) (int64, *T, error) {
		var n int64
		v, err := p.scan(ordinalScanner{sc, &n})
		return n, v, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find %d %s: %w", len(keys), p.what, err)
	}
	out := make([]readResult[T], len(keys))
	for i, k := range keys {
		if v, ok := found[int64(i+1)]; ok && p.key(v) == k {
			out[i].v = v
		} else {
			out[i].err = p.notFound(k)
		}
	}
	return out, nil
}

// ordinalScanner scans a batch row's first column, the ordinal of its key,
// into n, and the rest into what the table's scan asks for.
type ordinalScanner struct {
	sc scanner
	n  *int64
}

func (o ordinalScanner) Scan(dest ...any) error {
	return o.sc.Scan(append([]any{o.n}, dest...)...)
}

// readPoint reads k through b when there is one (PostgreSQL, outside a
// transaction, where a read may also lock its row), or with the lone read.
func readPoint[K comparable, T any](ctx context.Context, b *pointReads[K, T], s *store, k K, one func(context.Context, K) (*T, error)) (*T, error) {
	if b == nil || s.inTx() {
		return one(ctx, k)
	}
	res := b.submit(ctx, k, func(err error) readResult[T] { return readResult[T]{err: err} })
	return res.v, res.err
}

// ownedRead is a read of the row sid, which must belong to entity. A row
// answers the key of its own entity, so a read that names another entity
// finds nothing, as the lone read, filtered by entity, does.
type ownedRead struct{ entity, sid verify.Sid }

// entityKey names an entity as the API does: its service and identity.
type entityKey struct {
	service  verify.Sid
	identity string
}

type (
	factorReads     = pointReads[ownedRead, verify.Factor]
	challengeReads  = pointReads[ownedRead, verify.Challenge]
	entityReads     = pointReads[entityKey, verify.Entity]
	credentialReads = pointReads[verify.Sid, verify.Factor]
)

// byColumn is the query of a batched read of table's rows by one text
// column: a row per key in the array $1, its ordinal first.
func byColumn(columns, table, column string) string {
	return `SELECT k.n, ` + columns + ` FROM unnest($1::text[]) WITH ORDINALITY AS k(wanted, n)
JOIN ` + table + ` ON ` + table + `.` + column + ` = k.wanted`
}

// ownedSids is the array argument of a read of owned rows by SID.
func ownedSids(keys []ownedRead) []any {
	sids := make([]string, len(keys))
	for i, k := range keys {
		sids[i] = string(k.sid)
	}
	return []any{sids}
}

func factorRows(s *store) pointRows[ownedRead, verify.Factor] {
	return pointRows[ownedRead, verify.Factor]{
		what:     "factors",
		query:    byColumn(factorColumns, "factors", "sid"),
		args:     ownedSids,
		scan:     s.scanFactor,
		key:      func(f *verify.Factor) ownedRead { return ownedRead{f.EntitySid, f.Sid} },
		one:      s.findFactorAlone,
		notFound: func(k ownedRead) error { return factorNotFound(k.sid) },
	}
}

func challengeRows(s *store) pointRows[ownedRead, verify.Challenge] {
	return pointRows[ownedRead, verify.Challenge]{
		what:     "challenges",
		query:    byColumn(challengeColumns, "challenges", "sid"),
		args:     ownedSids,
		scan:     scanChallenge,
		key:      func(c *verify.Challenge) ownedRead { return ownedRead{c.EntitySid, c.Sid} },
		one:      s.findChallengeAlone,
		notFound: func(k ownedRead) error { return challengeNotFound(k.sid) },
	}
}

// entityRows reads entities by (service, identity) pairs, which the
// entities' unique index answers.
func entityRows(s *store) pointRows[entityKey, verify.Entity] {
	return pointRows[entityKey, verify.Entity]{
		what: "entities",
		query: `SELECT k.n, ` + entityColumns + ` FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(key_service, key_identity, n)
JOIN entities ON entities.service_sid = k.key_service AND entities.identity = k.key_identity`,
		args: func(keys []entityKey) []any {
			svc, ids := make([]string, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				svc[i], ids[i] = string(k.service), k.identity
			}
			return []any{svc, ids}
		},
		scan:     scanEntity,
		key:      func(e *verify.Entity) entityKey { return entityKey{e.ServiceSid, e.Identity} },
		one:      s.findEntityAlone,
		notFound: func(k entityKey) error { return entityNotFound(k.identity) },
	}
}

// credentialRows reads push factors by the credential SIDs their devices'
// JWTs name.
func credentialRows(s *store) pointRows[verify.Sid, verify.Factor] {
	return pointRows[verify.Sid, verify.Factor]{
		what:  "factors by credential",
		query: byColumn(factorColumns, "factors", "push_credential_sid"),
		args: func(keys []verify.Sid) []any {
			creds := make([]string, len(keys))
			for i, k := range keys {
				creds[i] = string(k)
			}
			return []any{creds}
		},
		scan: s.scanFactor,
		key: func(f *verify.Factor) verify.Sid {
			if f.Push == nil {
				return ""
			}
			return f.Push.CredentialSid
		},
		one:      s.findFactorByCredentialAlone,
		notFound: deviceNotFound,
	}
}
