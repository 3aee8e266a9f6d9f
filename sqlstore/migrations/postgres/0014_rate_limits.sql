-- 0014: programmable rate limits (verifications.md §4). A rate limit (RK)
-- is a name a verification create gives a value for; its buckets (BL) say
-- how many creates one value may start per interval (interval_s seconds;
-- "interval" is a reserved word in PostgreSQL). The unique indexes are the
-- rules: one UniqueName per service (60208), one interval per rate limit
-- (60211). Both cascade from the service.
CREATE TABLE rate_limits (
	sid          TEXT PRIMARY KEY,
	account_sid  TEXT NOT NULL,
	service_sid  TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	unique_name  TEXT NOT NULL,
	description  TEXT NOT NULL,
	date_created BIGINT NOT NULL,
	date_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX rate_limits_name ON rate_limits (service_sid, unique_name);
CREATE INDEX rate_limits_list ON rate_limits (service_sid, date_created, sid);

CREATE TABLE rate_limit_buckets (
	sid            TEXT PRIMARY KEY,
	account_sid    TEXT NOT NULL,
	service_sid    TEXT NOT NULL,
	rate_limit_sid TEXT NOT NULL REFERENCES rate_limits (sid) ON DELETE CASCADE,
	max_requests   BIGINT NOT NULL,
	interval_s     BIGINT NOT NULL,
	date_created   BIGINT NOT NULL,
	date_updated   BIGINT NOT NULL
);
CREATE UNIQUE INDEX rate_limit_buckets_interval ON rate_limit_buckets (rate_limit_sid, interval_s);

-- One counter per bucket and value (value_key: a keyed hash of the value),
-- kept as GCRA keeps it: tat is the theoretical arrival time of the next
-- request. Times are Unix milliseconds multiplied by the bucket's max
-- (scale), so that one request costs exactly the interval (emission) and
-- the bucket's depth is exactly interval times max (span), in integers. A
-- counter is idle, as if never used, from idle_at (Unix milliseconds):
-- the sweep finds those by walking the table in key order (no index on
-- idle_at: every take would move its entry) and deletes them.
CREATE TABLE rate_counters (
	bucket_sid TEXT NOT NULL REFERENCES rate_limit_buckets (sid) ON DELETE CASCADE,
	value_key  TEXT NOT NULL,
	tat        BIGINT NOT NULL,
	emission   BIGINT NOT NULL,
	span       BIGINT NOT NULL,
	scale      BIGINT NOT NULL,
	idle_at    BIGINT NOT NULL,
	PRIMARY KEY (bucket_sid, value_key)
);
