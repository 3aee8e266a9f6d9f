-- 0006: auth-token rotation as Twilio's Accounts v1 API does it
-- (verify.Account). An account may have a secondary auth token, valid
-- beside the primary until it is promoted to primary or deleted; like the
-- primary it is kept only as its SHA-256, with the Unix second it was
-- created. configured_token_hash is the SHA-256 of the token that serve's
-- configuration (VERIFYD_AUTH_TOKEN) last set, so that a restart with the
-- same configuration does not undo a rotation made through the API since;
-- NULL for accounts whose token no configuration set (yet).
ALTER TABLE accounts ADD COLUMN secondary_token_hash BLOB NULL;
ALTER TABLE accounts ADD COLUMN secondary_token_date INTEGER NULL;
ALTER TABLE accounts ADD COLUMN configured_token_hash BLOB NULL;
