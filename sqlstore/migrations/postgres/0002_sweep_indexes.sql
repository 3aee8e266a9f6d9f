-- 0002: indexes for the background sweep (Verifier.Sweep), so that each
-- round finds its work without scanning whole tables. Partial indexes hold
-- only the rows a sweep can act on: pending challenges, unverified factors.
-- The file is the same in both dialects.

CREATE INDEX challenges_pending_expiry ON challenges (expiration_date) WHERE status = 'pending';
CREATE INDEX factors_unverified_age ON factors (date_created) WHERE status = 'unverified';
CREATE INDEX access_tokens_age ON access_tokens (date_created);
