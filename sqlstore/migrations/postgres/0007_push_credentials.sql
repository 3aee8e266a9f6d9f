-- 0007: push credentials (verify.PushCredential, Twilio's CR… Credential
-- resource of Notify v1 and Conversations v1), which a service names in
-- its push settings. secret is the JSON of verify.CredentialSecret sealed
-- like a TOTP secret (keyring.go: version byte, key id, AES-256-GCM, the
-- credential SID as additional data), so that rotate-key re-seals it too;
-- the other columns are not secret (sandbox is 0 or 1). Credentials are listed per account in
-- (date_created, sid) order.
CREATE TABLE push_credentials (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	type          TEXT NOT NULL,
	sandbox       INTEGER NOT NULL,
	key_id        TEXT NOT NULL,
	team_id       TEXT NOT NULL,
	secret        BYTEA NOT NULL,
	date_created  BIGINT NOT NULL,
	date_updated  BIGINT NOT NULL
);
CREATE INDEX push_credentials_account_list ON push_credentials (account_sid, date_created, sid);
