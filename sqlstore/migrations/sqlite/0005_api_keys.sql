-- 0005: API keys (verify.APIKey, Twilio's SK… Key resource). The secret is
-- kept only as its SHA-256, as auth tokens are. Keys are listed per
-- account in (date_created, sid) order, and found by SID alone when a
-- request authenticates with one.
CREATE TABLE api_keys (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	secret_hash   BLOB NOT NULL,
	date_created  INTEGER NOT NULL,
	date_updated  INTEGER NOT NULL
);
CREATE INDEX api_keys_account_list ON api_keys (account_sid, date_created, sid);
