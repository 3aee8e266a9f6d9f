-- 0004: the challenge quota (verify.ChallengeQuota, Twilio's 60312). Each
-- factor counts the challenges created for it in its current hour and its
-- current day; a window starts (at the Unix second in *_start) with the
-- first challenge after the previous window ended. Existing factors start
-- with no window open, so their first challenge opens both.
ALTER TABLE factors ADD COLUMN quota_hour_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_hour_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_day_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_day_count INTEGER NOT NULL DEFAULT 0;
