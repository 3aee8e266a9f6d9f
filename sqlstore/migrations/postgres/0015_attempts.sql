-- 0015: the Attempts API lists an account's attempts newest first and
-- summarizes them, both filtered by date; the sweep finds the attempts
-- past their retention through the same index, account by account.
CREATE INDEX verification_attempts_account ON verification_attempts (account_sid, date_created, sid);
