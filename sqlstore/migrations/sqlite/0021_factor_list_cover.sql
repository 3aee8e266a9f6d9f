-- 0021: the index a factor list reads holds every column the list shows,
-- so a page is one range of the index and not also one lookup of the
-- table per factor. With 1,000,000 factors those lookups, and the table
-- pages they read, were a fifth of a list's CPU (BENCHMARKS.md, "A
-- covering index for the factor list").
--
-- It leaves out what a list does not read: totp_secret, and
-- totp_last_used_end and the challenge quota counters, which every TOTP
-- check writes: an index holding them would be rewritten by each check.
-- The old index's three columns come first, so every query that used it
-- still can.
DROP INDEX factors_entity_list;
CREATE INDEX factors_entity_list ON factors (entity_sid, date_created, sid,
	account_sid, service_sid, identity, friendly_name, factor_type, status, metadata, failed_attempts,
	totp_alg, totp_code_length, totp_time_step, totp_skew,
	push_public_key, push_alg, push_credential_sid, push_sdk_version, push_app_id, push_platform, push_token,
	date_updated, passkey);
