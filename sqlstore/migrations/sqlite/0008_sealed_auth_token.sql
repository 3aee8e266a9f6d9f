-- 0008: the auth tokens kept sealed beside their hashes, so that verifyd
-- can sign the webhooks it sends (X-Twilio-Signature, HMAC-SHA1 keyed with
-- the primary token, docs/delivery.md §2.4), which a hash cannot do. Login
-- still compares the SHA-256 in token_hash and secondary_token_hash; these
-- columns are only opened to sign. Each holds the token sealed with the
-- master key (sqlstore/keyring.go), with the account SID and the column's
-- purpose as additional data, so a value opens only in its own row and
-- column. NULL until the token is set, or, for a token set before this
-- migration, until its next successful login (or serve's start with it in
-- VERIFYD_AUTH_TOKEN). Numbered 0008: 0007 is taken by another change.
ALTER TABLE accounts ADD COLUMN sealed_token BLOB NULL;
ALTER TABLE accounts ADD COLUMN sealed_secondary_token BLOB NULL;
