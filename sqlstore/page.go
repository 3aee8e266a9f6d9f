package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/verifyd/verify"
)

// defaultPageSize is used when a caller passes a Page without a Size; it is
// Twilio's default PageSize.
const defaultPageSize = 50

// list runs a keyset-paged query. from is "SELECT <columns> FROM <table>";
// where and args are the caller's filters, ANDed together. Lists are ordered
// by (date_created, sid), ascending unless p.Desc. After keeps the items
// strictly after its cursor in list order, Before those strictly before it;
// a Before page is read in reverse from the cursor and flipped back, so it
// is the page immediately before the cursor. One row more than the page is
// read to tell whether more items lie beyond it in the direction read.
func list[T any](ctx context.Context, s *store, from string, where []string, args []any,
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
		where = append(where, "(date_created, sid) "+after+" (?, ?)")
		args = append(args, unix(c.Time), string(c.Sid))
	}
	if c := p.Before; c != nil {
		where = append(where, "(date_created, sid) "+before+" (?, ?)")
		args = append(args, unix(c.Time), string(c.Sid))
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
	q += fmt.Sprintf(" ORDER BY date_created %s, sid %s LIMIT ?", dir, dir)
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
