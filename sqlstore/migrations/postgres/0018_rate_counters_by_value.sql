-- 0018: the counters of 0014 keyed by value first, then bucket, and with
-- no foreign key to their bucket. The buckets of one rate limit share one
-- value, so their counters for it are now neighbours on one page: a create
-- naming a rate limit of two buckets wrote two random pages of this table,
-- and now writes one (SQLite: the commit was two thirds of what counting
-- cost). value_key is a keyed hash of the service, the rate limit's
-- UniqueName and the value, which a create can compute before it knows the
-- rate limit's SID, so that PostgreSQL reads the buckets and takes their
-- units in one statement. Without the foreign key, the counters of a
-- deleted bucket stay until they are idle, and the sweep's walk deletes
-- them then (a day at most); no create reads them, since a new bucket has
-- a new SID. The old counters are dropped: their keys were made the old
-- way, and forgetting them admits at most one more interval's worth of
-- creates per value, as a rotation of the master key does.
DROP TABLE rate_counters;
CREATE TABLE rate_counters (
	value_key  TEXT NOT NULL,
	bucket_sid TEXT NOT NULL,
	tat        BIGINT NOT NULL,
	emission   BIGINT NOT NULL,
	span       BIGINT NOT NULL,
	scale      BIGINT NOT NULL,
	idle_at    BIGINT NOT NULL,
	PRIMARY KEY (value_key, bucket_sid)
);
