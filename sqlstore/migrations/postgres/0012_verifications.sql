-- 0012: classic Verify. A verification is a one-time code sent to a To;
-- the code is never stored, only its keyed hash (code_hash). live_key is
-- the lifecycle key (the To, for PSD2 the To, amount and payee) while the
-- verification is live (pending, or max_attempts_reached until expiry) and
-- NULL after: the unique index then allows one live verification per
-- service and key, which is what makes two racing creates for one To start
-- one verification. sends and checks are the counters the limits compare
-- against in conditional updates. Times are Unix seconds.
CREATE TABLE verifications (
	sid          TEXT PRIMARY KEY,
	account_sid  TEXT NOT NULL,
	service_sid  TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	to_addr      TEXT NOT NULL,
	live_key     TEXT,
	channel      TEXT NOT NULL,
	status       TEXT NOT NULL,
	amount       TEXT,
	payee        TEXT,
	code_hash    BYTEA NOT NULL,
	code_length  INTEGER NOT NULL,
	custom_code  INTEGER NOT NULL,
	sends        INTEGER NOT NULL,
	checks       INTEGER NOT NULL DEFAULT 0,
	expires_at   BIGINT NOT NULL,
	date_created BIGINT NOT NULL,
	date_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX verifications_live ON verifications (service_sid, live_key);
-- Fetch and update by To find the newest live verification of a To.
CREATE INDEX verifications_to ON verifications (service_sid, to_addr, date_created);
-- The sweep releases live verifications past their expiry.
CREATE INDEX verifications_expiry ON verifications (expires_at) WHERE live_key IS NOT NULL;

-- One row per send of a code (VL): send_code_attempts now, the Attempts
-- API later. message_status and error_code move as the sender reports.
-- tags is a JSON object or NULL.
CREATE TABLE verification_attempts (
	sid              TEXT PRIMARY KEY,
	verification_sid TEXT NOT NULL REFERENCES verifications (sid) ON DELETE CASCADE,
	account_sid      TEXT NOT NULL,
	service_sid      TEXT NOT NULL,
	channel          TEXT NOT NULL,
	to_addr          TEXT NOT NULL,
	country          TEXT NOT NULL,
	locale           TEXT NOT NULL,
	tags             TEXT,
	message_status   TEXT NOT NULL,
	error_code       INTEGER NOT NULL DEFAULT 0,
	price            TEXT NOT NULL DEFAULT '',
	price_unit       TEXT NOT NULL DEFAULT '',
	converted        INTEGER NOT NULL DEFAULT 0,
	date_created     BIGINT NOT NULL,
	date_updated     BIGINT NOT NULL
);
CREATE INDEX verification_attempts_of ON verification_attempts (verification_sid, date_created);
