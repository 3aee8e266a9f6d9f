package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/verifyd/verify"
)

// TakeChallengeQuota counts a challenge against the factor's current hour
// and day, opening a new window where the last one has ended, in one
// conditional UPDATE: the count and the check are one compare-and-swap, so
// two nodes can never both take the last unit. A zero row count means the
// quota is used up or the factor is gone; a second read tells which.
func (s *store) TakeChallengeQuota(ctx context.Context, factor verify.Sid, q verify.ChallengeQuota, now time.Time) error {
	t := now.Unix()
	hourOver := t - int64(verify.QuotaHour/time.Second) // a window that started at or before this has ended
	dayOver := t - int64(verify.QuotaDay/time.Second)
	perHour := q.Hour
	if perHour <= 0 {
		perHour = math.MaxInt32
	}
	ok, err := s.execOne(ctx, `UPDATE factors SET
	quota_hour_start = CASE WHEN quota_hour_start <= ? THEN ? ELSE quota_hour_start END,
	quota_hour_count = CASE WHEN quota_hour_start <= ? THEN 1 ELSE quota_hour_count + 1 END,
	quota_day_start = CASE WHEN quota_day_start <= ? THEN ? ELSE quota_day_start END,
	quota_day_count = CASE WHEN quota_day_start <= ? THEN 1 ELSE quota_day_count + 1 END
WHERE sid = ?
	AND (quota_hour_start <= ? OR quota_hour_count < ?)
	AND (quota_day_start <= ? OR quota_day_count < ?)`,
		hourOver, t, hourOver, dayOver, t, dayOver,
		string(factor), hourOver, perHour, dayOver, q.Day)
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
