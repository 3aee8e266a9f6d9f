package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// window is one fixed counting window of a quota kept on a row, in the
// columns quota_<name>_start (Unix seconds) and quota_<name>_count.
type window struct {
	name   string
	length time.Duration
	limit  int // 0: counted, but never refuses
}

// takeQuota counts one more on the row sid of table in every window,
// opening a new window where the last one has ended, unless a window is at
// its limit: then it counts nothing and returns false. The count and the
// check are one conditional UPDATE, a compare-and-swap, so two nodes can
// never both take the last unit. A false with a nil error may also mean
// that no such row exists; the caller tells the two apart.
func (s *store) takeQuota(ctx context.Context, table string, sid verify.Sid, ws []window, now time.Time) (bool, error) {
	t := now.Unix()
	var set, where []string
	var setArgs, whereArgs []any
	for _, w := range ws {
		start, count := "quota_"+w.name+"_start", "quota_"+w.name+"_count"
		over := t - int64(w.length/time.Second) // a window that started at or before this has ended
		set = append(set,
			start+" = CASE WHEN "+start+" <= ? THEN ? ELSE "+start+" END",
			count+" = CASE WHEN "+start+" <= ? THEN 1 ELSE "+count+" + 1 END")
		setArgs = append(setArgs, over, t, over)
		if w.limit > 0 {
			where = append(where, "("+start+" <= ? OR "+count+" < ?)")
			whereArgs = append(whereArgs, over, w.limit)
		}
	}
	q := "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(append([]string{"sid = ?"}, where...), " AND ")
	args := append(append(setArgs, string(sid)), whereArgs...)
	return s.execOne(ctx, q, args...)
}

// TakeChallengeQuota counts a challenge against the factor's hour and day.
func (s *store) TakeChallengeQuota(ctx context.Context, factor verify.Sid, q verify.ChallengeQuota, now time.Time) error {
	ok, err := s.takeQuota(ctx, "factors", factor,
		[]window{{"hour", verify.QuotaHour, q.Hour}, {"day", verify.QuotaDay, q.Day}}, now)
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
	ok, err := s.takeQuota(ctx, "entities", entity, []window{{"day", verify.QuotaDay, perDay}}, now)
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
