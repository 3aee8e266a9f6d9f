package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// defaultPageSize is used when a caller passes a Page without a Size; it is
// Twilio's default PageSize.
const defaultPageSize = 50

// keyset is the order a list pages in: a time column, how a cursor's
// time is written in it, and the unique column that breaks ties.
type keyset struct {
	time, id string
	at       func(time.Time) int64
}

// bySid is the order of most lists: date_created in Unix seconds, then sid.
var bySid = keyset{time: "date_created", id: "sid", at: unix}

// list runs a keyset-paged query. from is "SELECT <columns> FROM <table>";
// where and args are the caller's filters, ANDed together. Lists are ordered
// by (date_created, sid), ascending unless p.Desc. After keeps the items
// strictly after its cursor in list order, Before those strictly before it;
// a Before page is read in reverse from the cursor and flipped back, so it
// is the page immediately before the cursor. One row more than the page is
// read to tell whether more items lie beyond it in the direction read.
func list[T any](ctx context.Context, s *store, from string, where []string, args []any,
	p verify.Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	return listBy(ctx, s, bySid, from, where, args, p, scan)
}

// listBy is list in the order of k: the outbox keys its rows by
// (date_created, id) in milliseconds.
func listBy[T any](ctx context.Context, s *store, k keyset, from string, where []string, args []any,
	p verify.Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	size := p.Size
	if size <= 0 {
		size = defaultPageSize
	}
	// after is the comparison that means "later in list order".
	after, before := ">", "<"
	if p.Desc {
		after, before = before, after
	}
	if c := p.After; c != nil {
		where = append(where, "("+k.time+", "+k.id+") "+after+" (?, ?)")
		args = append(args, k.at(c.Time), string(c.Sid))
	}
	if c := p.Before; c != nil {
		where = append(where, "("+k.time+", "+k.id+") "+before+" (?, ?)")
		args = append(args, k.at(c.Time), string(c.Sid))
	}
	backward := p.Before != nil
	dir := "ASC"
	if p.Desc != backward {
		dir = "DESC"
	}

	q := from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY %s %s, %s %s LIMIT ?", k.time, dir, k.id, dir)
	args = append(args, size+1)

	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	items := make([]T, 0, min(size+1, 64)) // never nil, even when empty
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(items) > size
	if more {
		items = items[:size]
	}
	if backward {
		slices.Reverse(items)
	}
	return items, more, nil
}
