-- 0017: the Attempts API filtered by ChannelData.To, the lookup of one
-- number's sends (a support or fraud question), newest first: without it
-- the list walks the account's every attempt of the retention period to
-- find a handful. The other list filters (service, channel, country,
-- status) match a large share of an account's attempts, so walking 0015's
-- index in order finds a page soon; VerificationSid has 0012's index;
-- the summary counts the whole date range anyway (its DestinationPrefix,
-- a LIKE, uses no index on either database).
CREATE INDEX verification_attempts_to ON verification_attempts (account_sid, to_addr, date_created, sid);
