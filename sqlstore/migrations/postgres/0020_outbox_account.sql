-- 0020: each outbox row names the account it delivers for, so that the
-- console can list an account's own webhook and push deliveries. The
-- payload is the sender's opaque snapshot (a code's is sealed), and
-- scoping through the rows a delivery is about would lose every delivery
-- whose webhook or challenge has since been deleted, which are the ones
-- worth looking at. Producers set it from now on (OutboxMessage.Account).
-- A NOT NULL column with a constant default is added without a rewrite.
ALTER TABLE outbox ADD COLUMN account_sid TEXT NOT NULL DEFAULT '';

-- The rows already there: a webhook's payload carries its account_sid; a
-- push row's ref is its challenge, a code row's its verification. A row
-- whose challenge or verification is gone keeps '' and is shown to no
-- account (it is pruned within 7 days). A webhook payload is
-- encoding/json's output of verify.WebhookPayload (json, not jsonb, which
-- would refuse a \u0000 in a parameter); an empty one, which EnqueueOutbox
-- stores for a nil payload, is left out, as SQLite's json_valid does.
UPDATE outbox SET account_sid = COALESCE(convert_from(payload, 'UTF8')::json ->> 'account_sid', '')
WHERE kind = 'webhook' AND octet_length(payload) > 0;
UPDATE outbox o SET account_sid = c.account_sid FROM challenges c
WHERE o.kind = 'push' AND c.sid = o.ref;
UPDATE outbox o SET account_sid = v.account_sid FROM verifications v
WHERE o.kind = 'code' AND v.sid = o.ref;

-- The console's list reads an account's rows newest first, a page at a
-- time; without this index each page would read and sort the whole
-- outbox (7 days of every account's deliveries). It costs the enqueue
-- and every claim and settle one more index entry (they change indexed
-- columns, so they are not HOT updates), and the prune one more removal.
CREATE INDEX outbox_account ON outbox (account_sid, date_created, id);
