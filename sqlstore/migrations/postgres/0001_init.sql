-- 0001: the Verify v2 resources, as sqlite/0001_init.sql with PostgreSQL
-- types. Every table is keyed by its Twilio SID. Times are BIGINT Unix
-- seconds (UTC), since PostgreSQL's INTEGER is 32 bits; counters and small
-- settings stay INTEGER; binary values are BYTEA; JSON documents are TEXT
-- (verifyd never queries inside them). Deleting a service or an entity
-- cascades to everything inside it.

CREATE TABLE accounts (
	sid          TEXT PRIMARY KEY,
	token_hash   BYTEA NOT NULL,
	date_created BIGINT NOT NULL
);

CREATE TABLE services (
	sid              TEXT PRIMARY KEY,
	account_sid      TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
	friendly_name    TEXT NOT NULL,
	code_length      INTEGER NOT NULL,
	totp_issuer      TEXT NOT NULL,
	totp_time_step   INTEGER NOT NULL,
	totp_code_length INTEGER NOT NULL,
	totp_skew        INTEGER NOT NULL,
	-- settings holds the echo-only settings as one JSON document.
	settings         TEXT NOT NULL,
	date_created     BIGINT NOT NULL,
	date_updated     BIGINT NOT NULL
);
CREATE INDEX services_account_list ON services (account_sid, date_created, sid);

CREATE TABLE entities (
	sid          TEXT PRIMARY KEY,
	account_sid  TEXT NOT NULL,
	service_sid  TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	identity     TEXT NOT NULL,
	date_created BIGINT NOT NULL,
	date_updated BIGINT NOT NULL,
	UNIQUE (service_sid, identity)
);
CREATE INDEX entities_service_list ON entities (service_sid, date_created, sid);

CREATE TABLE factors (
	sid                 TEXT PRIMARY KEY,
	account_sid         TEXT NOT NULL,
	service_sid         TEXT NOT NULL,
	entity_sid          TEXT NOT NULL REFERENCES entities (sid) ON DELETE CASCADE,
	identity            TEXT NOT NULL,
	friendly_name       TEXT NOT NULL,
	factor_type         TEXT NOT NULL,
	status              TEXT NOT NULL,
	metadata            TEXT NULL,
	failed_attempts     INTEGER NOT NULL DEFAULT 0,
	-- TOTP columns; NULL for push factors. totp_secret is AES-256-GCM
	-- sealed with the factor SID as additional data.
	totp_secret         BYTEA NULL,
	totp_alg            TEXT NULL,
	totp_code_length    INTEGER NULL,
	totp_time_step      INTEGER NULL,
	totp_skew           INTEGER NULL,
	totp_last_used_end  BIGINT NOT NULL DEFAULT 0,
	-- Push columns; NULL for TOTP factors.
	push_public_key     BYTEA NULL,
	push_alg            TEXT NULL,
	push_credential_sid TEXT NULL UNIQUE,
	push_sdk_version    TEXT NULL,
	push_app_id         TEXT NULL,
	push_platform       TEXT NULL,
	push_token          TEXT NULL,
	date_created        BIGINT NOT NULL,
	date_updated        BIGINT NOT NULL
);
CREATE INDEX factors_entity_list ON factors (entity_sid, date_created, sid);
CREATE INDEX factors_entity_type ON factors (entity_sid, factor_type);

CREATE TABLE challenges (
	sid              TEXT PRIMARY KEY,
	account_sid      TEXT NOT NULL,
	service_sid      TEXT NOT NULL,
	entity_sid       TEXT NOT NULL REFERENCES entities (sid) ON DELETE CASCADE,
	identity         TEXT NOT NULL,
	factor_sid       TEXT NOT NULL REFERENCES factors (sid) ON DELETE CASCADE,
	factor_type      TEXT NOT NULL,
	status           TEXT NOT NULL,
	responded_reason TEXT NOT NULL,
	details          TEXT NOT NULL,
	hidden_details   TEXT NULL,
	metadata         TEXT NULL,
	expiration_date  BIGINT NOT NULL,
	date_created     BIGINT NOT NULL,
	date_updated     BIGINT NOT NULL,
	date_responded   BIGINT NULL,
	failed_attempts  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX challenges_entity_list ON challenges (entity_sid, date_created, sid);
CREATE INDEX challenges_factor_list ON challenges (factor_sid, date_created, sid);

CREATE TABLE access_tokens (
	sid                  TEXT PRIMARY KEY,
	account_sid          TEXT NOT NULL,
	service_sid          TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	identity             TEXT NOT NULL,
	factor_type          TEXT NOT NULL,
	factor_friendly_name TEXT NOT NULL,
	ttl                  INTEGER NOT NULL,
	date_created         BIGINT NOT NULL,
	date_used            BIGINT NULL
);

CREATE TABLE notifications (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL,
	service_sid   TEXT NOT NULL,
	entity_sid    TEXT NOT NULL,
	identity      TEXT NOT NULL,
	challenge_sid TEXT NOT NULL REFERENCES challenges (sid) ON DELETE CASCADE,
	priority      TEXT NOT NULL,
	ttl           INTEGER NOT NULL,
	date_created  BIGINT NOT NULL
);
CREATE INDEX notifications_challenge ON notifications (challenge_sid);
-- Indexes the cascade from services, which would otherwise scan the table.
CREATE INDEX access_tokens_service ON access_tokens (service_sid);
