-- 0020: each outbox row names the account it delivers for, so that the
-- console can list an account's own webhook and push deliveries. The
-- payload is the sender's opaque snapshot (a code's is sealed), and
-- scoping through the rows a delivery is about would lose every delivery
-- whose webhook or challenge has since been deleted, which are the ones
-- worth looking at. Producers set it from now on (OutboxMessage.Account).
ALTER TABLE outbox ADD COLUMN account_sid TEXT NOT NULL DEFAULT '';

-- The rows already there: a webhook's payload carries its account_sid; a
-- push row's ref is its challenge, a code row's its verification. A row
-- whose challenge or verification is gone, or whose payload is not JSON,
-- keeps '' and is shown to no account (it is pruned within 7 days).
UPDATE outbox SET account_sid = COALESCE(json_extract(CAST(payload AS TEXT), '$.account_sid'), '')
WHERE kind = 'webhook' AND json_valid(CAST(payload AS TEXT));
UPDATE outbox SET account_sid = COALESCE((SELECT c.account_sid FROM challenges c WHERE c.sid = outbox.ref), '')
WHERE kind = 'push';
UPDATE outbox SET account_sid = COALESCE((SELECT v.account_sid FROM verifications v WHERE v.sid = outbox.ref), '')
WHERE kind = 'code';

-- The console's list reads an account's rows newest first, a page at a
-- time; without this index each page would read and sort the whole
-- outbox (7 days of every account's deliveries). It costs the enqueue
-- one more index entry and the prune one more removal; a claim and a
-- settle change neither column, so on SQLite they do not touch it.
CREATE INDEX outbox_account ON outbox (account_sid, date_created, id);
