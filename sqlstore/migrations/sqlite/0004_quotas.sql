-- 0004: quotas counted on the row they limit. Each factor counts the
-- challenges created for it in its current hour and day
-- (verify.ChallengeQuota, Twilio's 60312); each entity counts the factors
-- created for it in its current day (verify.MaxFactorCreationsPerDay,
-- 60326). A window starts, at the Unix second in *_start, with the first
-- count after the previous window ended; existing rows start with none open.
ALTER TABLE factors ADD COLUMN quota_hour_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_hour_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_day_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE factors ADD COLUMN quota_day_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entities ADD COLUMN quota_day_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entities ADD COLUMN quota_day_count INTEGER NOT NULL DEFAULT 0;
