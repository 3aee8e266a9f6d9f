package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// window is one fixed counting window of a quota kept on a row, in the
// columns quota_<name>_start (Unix seconds) and quota_<name>_count.
type window struct {
	name   string
	length time.Duration
}

// A quota's UPDATE is built once per table and set of windows, so that a
// challenge pays for no string building and its text hits the prepared
// statement cache.
var (
	challengeWindows  = []window{{"hour", verify.QuotaHour}, {"day", verify.QuotaDay}}
	challengeQuotaSQL = quotaSQL("factors", challengeWindows)
	factorWindows     = []window{{"day", verify.QuotaDay}}
	factorQuotaSQL    = quotaSQL("entities", factorWindows)
)

// quotaSQL is the UPDATE of takeQuota: it counts one more on the row in
// every window, opening a new window where the last one has ended, unless a
// window is at its limit.
func quotaSQL(table string, ws []window) string {
	var set, where []string
	for _, w := range ws {
		start, count := "quota_"+w.name+"_start", "quota_"+w.name+"_count"
		set = append(set,
			start+" = CASE WHEN "+start+" <= ? THEN ? ELSE "+start+" END",
			count+" = CASE WHEN "+start+" <= ? THEN 1 ELSE "+count+" + 1 END")
		where = append(where, "("+start+" <= ? OR "+count+" < ?)")
	}
	return "UPDATE " + table + " SET " + strings.Join(set, ", ") +
		" WHERE sid = ? AND " + strings.Join(where, " AND ")
}

// takeQuota runs query, the quotaSQL of ws, for the row sid at now, with
// one limit per window (0: counted, but never refused). It reports false,
// having counted nothing, if a window is at its limit or no such row
// exists; the caller tells the two apart. The count and the check are one
// conditional UPDATE, a compare-and-swap, so two nodes can never both take
// the last unit.
func (s *store) takeQuota(ctx context.Context, query string, sid verify.Sid, ws []window, now time.Time, limits ...int) (bool, error) {
	t := now.Unix()
	args := make([]any, 0, 6*len(ws)+1)
	for _, w := range ws {
		over := t - int64(w.length/time.Second) // a window that started at or before this has ended
		args = append(args, over, t, over)
	}
	args = append(args, string(sid))
	for i, w := range ws {
		limit := limits[i]
		if limit <= 0 {
			limit = math.MaxInt32
		}
		args = append(args, t-int64(w.length/time.Second), limit)
	}
	return s.execOne(ctx, query, args...)
}

// TakeChallengeQuota counts a challenge against the factor's hour and day.
func (s *store) TakeChallengeQuota(ctx context.Context, factor verify.Sid, q verify.ChallengeQuota, now time.Time) error {
	ok, err := s.takeQuota(ctx, challengeQuotaSQL, factor, challengeWindows, now, q.Hour, q.Day)
	if err != nil {
		return fmt.Errorf("sqlstore: take challenge quota of factor %s: %w", factor, err)
	}
	if ok {
		return nil
	}
	if err := s.factorExists(ctx, factor); err != nil {
		return err
	}
	return verify.Errorf(verify.EChallengeQuota, "Max challenges reached for this factor: try again later")
}

// TakeFactorQuota counts a factor creation against the entity's day.
func (s *store) TakeFactorQuota(ctx context.Context, entity verify.Sid, perDay int, now time.Time) error {
	ok, err := s.takeQuota(ctx, factorQuotaSQL, entity, factorWindows, now, perDay)
	if err != nil {
		return fmt.Errorf("sqlstore: take factor quota of entity %s: %w", entity, err)
	}
	if ok {
		return nil
	}
	if err := s.rowExists(ctx, "entities", "Entity", entity); err != nil {
		return err
	}
	return verify.Errorf(verify.EFactorQuota, "Max factor creations reached for this entity: try again later")
}
