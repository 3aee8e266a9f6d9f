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
	set, where := quotaParts(ws)
	return "UPDATE " + table + " SET " + set + " WHERE sid = ? AND " + where
}

// quotaParts are the SET and WHERE clauses of quotaSQL, whose arguments
// quotaArgs gives.
func quotaParts(ws []window) (set, where string) {
	arg := func(window) string { return "?" }
	return quotaClauses(ws, arg, arg, arg)
}

// quotaClauses builds quotaParts' clauses with each operand named by over
// (the start at or before which w has ended), now and limit (w's limit):
// placeholders for one row, or a batch's columns (totp_batch.go).
func quotaClauses(ws []window, over, now, limit func(window) string) (set, where string) {
	var sets, wheres []string
	for _, w := range ws {
		start, count := "quota_"+w.name+"_start", "quota_"+w.name+"_count"
		sets = append(sets,
			start+" = CASE WHEN "+start+" <= "+over(w)+" THEN "+now(w)+" ELSE "+start+" END",
			count+" = CASE WHEN "+start+" <= "+over(w)+" THEN 1 ELSE "+count+" + 1 END")
		wheres = append(wheres, "("+start+" <= "+over(w)+" OR "+count+" < "+limit(w)+")")
	}
	return strings.Join(sets, ", "), strings.Join(wheres, " AND ")
}

// operands are w's operands in quotaClauses at now: the start at or before
// which a window has ended, and the limit (0: counted, but never refused).
func (w window) operands(now time.Time, limit int) (over, lim int64) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	return now.Unix() - int64(w.length/time.Second), int64(limit)
}

// quotaArgs returns the arguments of quotaParts' clauses at now, with one
// limit per window (0: counted, but never refused).
func quotaArgs(ws []window, now time.Time, limits ...int) (set, where []any) {
	t := now.Unix()
	for i, w := range ws {
		over, limit := w.operands(now, limits[i])
		set = append(set, over, t, over)
		where = append(where, over, limit)
	}
	return set, where
}

// takeQuota runs query, the quotaSQL of ws, for the row sid at now, with
// one limit per window (0: counted, but never refused). It reports false,
// having counted nothing, if a window is at its limit or no such row
// exists; the caller tells the two apart. The count and the check are one
// conditional UPDATE, a compare-and-swap, so two nodes can never both take
// the last unit.
func (s *store) takeQuota(ctx context.Context, query string, sid verify.Sid, ws []window, now time.Time, limits ...int) (bool, error) {
	set, where := quotaArgs(ws, now, limits...)
	args := append(append(set, string(sid)), where...)
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
