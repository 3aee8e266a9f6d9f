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
	challengeQuotaSQL = quotaSQL("factors", challengeWindows, "", "")
	// stepQuotaSQL also records a TOTP step, if no later one was used:
	// its first argument is the step's end, the one after sid its start.
	stepQuotaSQL   = quotaSQL("factors", challengeWindows, "totp_last_used_end = ?", "totp_last_used_end <= ?")
	factorWindows  = []window{{"day", verify.QuotaDay}}
	factorQuotaSQL = quotaSQL("entities", factorWindows, "", "")
)

// quotaSQL is the UPDATE of takeQuota: it counts one more on the row in
// every window, opening a new window where the last one has ended, unless a
// window is at its limit. set and where, if not empty, are one more
// assignment (first) and one more condition (right after the sid's).
func quotaSQL(table string, ws []window, set0, where0 string) string {
	var set, where []string
	if set0 != "" {
		set = append(set, set0)
	}
	if where0 != "" {
		where = append(where, where0)
	}
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
// the last unit. set and where are the arguments of quotaSQL's extra
// assignment and condition.
func (s *store) takeQuota(ctx context.Context, query string, sid verify.Sid, ws []window, now time.Time, set, where []any, limits ...int) (bool, error) {
	t := now.Unix()
	args := make([]any, 0, 6*len(ws)+1+len(set)+len(where))
	args = append(args, set...)
	for _, w := range ws {
		over := t - int64(w.length/time.Second) // a window that started at or before this has ended
		args = append(args, over, t, over)
	}
	args = append(args, string(sid))
	args = append(args, where...)
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
	ok, err := s.takeQuota(ctx, challengeQuotaSQL, factor, challengeWindows, now, nil, nil, q.Hour, q.Day)
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

// UseTotpStepWithQuota records the step [start, end) and counts a challenge
// in one UPDATE, or changes nothing and returns false if either cannot be
// done (a later step was used, the quota is spent, or no such factor).
func (s *store) UseTotpStepWithQuota(ctx context.Context, factor verify.Sid, start, end int64, q verify.ChallengeQuota, now time.Time) (bool, error) {
	ok, err := s.takeQuota(ctx, stepQuotaSQL, factor, challengeWindows, now, []any{end}, []any{start}, q.Hour, q.Day)
	if err != nil {
		return false, fmt.Errorf("sqlstore: use totp step of factor %s: %w", factor, err)
	}
	return ok, nil
}

// TakeFactorQuota counts a factor creation against the entity's day.
func (s *store) TakeFactorQuota(ctx context.Context, entity verify.Sid, perDay int, now time.Time) error {
	ok, err := s.takeQuota(ctx, factorQuotaSQL, entity, factorWindows, now, nil, nil, perDay)
	if err != nil {
		return fmt.Errorf("sqlstore: take factor quota of entity %s: %w", entity, err)
	}
	if ok {
		return nil
	}
	var n int
	if err := s.queryRowW(ctx, `SELECT COUNT(*) FROM entities WHERE sid = ?`, string(entity)).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: find entity %s: %w", entity, err)
	}
	if n == 0 {
		return verify.Errorf(verify.ENotFound, "Entity %s was not found", entity)
	}
	return verify.Errorf(verify.EFactorQuota, "Max factor creations reached for this entity: try again later")
}
