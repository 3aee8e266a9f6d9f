-- 0003: challenges lose their index by factor, and with it the foreign key
-- to factors that needed it. Each challenge insert wrote a leaf of that
-- index on a random page, a quarter of the pages a TOTP check writes to the
-- WAL; without it the same durable check takes about a quarter less time.
-- A factor's challenges are found through challenges_entity_list instead
-- (every factor belongs to one entity), which is how the store deletes them
-- with the factor (DeleteFactor) and lists them by factor. CreateChallenge
-- inserts only while the factor exists, which the foreign key checked
-- before; on SQLite the one writer makes that check and insert atomic.
--
-- SQLite changes a table's constraints only by building it anew. Dropping
-- the old table runs its ON DELETE CASCADE into notifications, so they are
-- kept aside and put back; the foreign key from notifications then refers to
-- the new table, which takes the name challenges.

CREATE TEMP TABLE notifications_0003 AS SELECT * FROM notifications;

CREATE TABLE challenges_0003 (
	sid              TEXT PRIMARY KEY,
	account_sid      TEXT NOT NULL,
	service_sid      TEXT NOT NULL,
	entity_sid       TEXT NOT NULL REFERENCES entities (sid) ON DELETE CASCADE,
	identity         TEXT NOT NULL,
	factor_sid       TEXT NOT NULL,
	factor_type      TEXT NOT NULL,
	status           TEXT NOT NULL,
	responded_reason TEXT NOT NULL,
	details          TEXT NOT NULL,
	hidden_details   TEXT NULL,
	metadata         TEXT NULL,
	expiration_date  INTEGER NOT NULL,
	date_created     INTEGER NOT NULL,
	date_updated     INTEGER NOT NULL,
	date_responded   INTEGER NULL,
	failed_attempts  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO challenges_0003 (sid, account_sid, service_sid, entity_sid, identity, factor_sid,
	factor_type, status, responded_reason, details, hidden_details, metadata, expiration_date,
	date_created, date_updated, date_responded, failed_attempts)
SELECT sid, account_sid, service_sid, entity_sid, identity, factor_sid,
	factor_type, status, responded_reason, details, hidden_details, metadata, expiration_date,
	date_created, date_updated, date_responded, failed_attempts
FROM challenges;

DROP TABLE challenges;
ALTER TABLE challenges_0003 RENAME TO challenges;
CREATE INDEX challenges_entity_list ON challenges (entity_sid, date_created, sid);
CREATE INDEX challenges_pending_expiry ON challenges (expiration_date) WHERE status = 'pending';

INSERT INTO notifications SELECT * FROM notifications_0003;
DROP TABLE notifications_0003;
